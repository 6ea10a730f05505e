"""CPU-heavy request work off the event loop: niced worker processes, a bounded lane per kind.

Why a process pool and not threads: the event loop also serves the silent SOS, and on a 2-core
machine a thread decoding a 36-megapixel PNG or walking 60,000 XML attributes in pure Python
holds the GIL, so every SOS waits behind it (measured: SOS answers held 2-4 s by 8 uploads or
8 CAP validations). A separate process has its own interpreter; it is started with a lower
scheduling priority (``nice``), so when both cores are busy the kernel gives the SOS server the
CPU first. The event loop only pickles the bytes in and the small result out.

Why lanes: each kind of work (``Lane``: photos, XML, STIX, PFIF, classifier...) has its own
pool of ``concurrency`` processes, admits that many jobs at once and ``waiting`` more in line;
past that the request is refused at once with 503 and ``Retry-After`` (``Busy``) instead of
piling up. One kind flooding its lane leaves the others, and the SOS route, which never goes
through here, untouched. Processes start on a lane's first job and stay for the next.

A job that runs past ``timeout_s`` (a pathological document) is answered 503 and its lane's pool
is replaced (its processes killed): a stuck worker must not hold the lane for ever. A worker that
died (out of memory on a decompression bomb) is answered the same way.

Functions sent here must be plain module-level functions with picklable arguments and results;
a ``DomainError`` they raise comes back as itself (``tocsin.core.errors.DomainError`` pickles
its details), so validation in the worker answers the same 4xx as in the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

from tocsin.core.errors import DomainError

log = logging.getLogger("tocsin.offload")

T = TypeVar("T")

#: Scheduling priority of the pool's processes (``nice`` increment): below the SOS server.
WORKER_NICENESS = 10


class Busy(DomainError):
    """A lane is full (or its worker failed): nothing was done, retry later."""

    status = 503
    code = "busy"


@dataclass(frozen=True)
class Lane:
    """One kind of heavy work: ``concurrency`` jobs at once, ``waiting`` more queued."""

    name: str
    concurrency: int = 1
    waiting: int = 4
    timeout_s: float = 30.0
    retry_after_s: int = 5


@dataclass
class _LaneState:
    semaphore: asyncio.Semaphore
    admitted: int = 0
    pool: ProcessPoolExecutor | None = None


def _lower_priority() -> None:
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)


class Offload:
    """The worker's heavy-work processes: one small pool per lane, started on first use.

    One pool per lane, sized to the lane's ``concurrency``: a job admitted by its lane starts
    at once (so ``timeout_s`` times the work, not a wait behind another kind of job), and a
    pool replaced after a stuck job takes down only its own lane's work.
    """

    def __init__(self) -> None:
        self._lanes: dict[str, _LaneState] = {}

    def _state(self, lane: Lane) -> _LaneState:
        state = self._lanes.get(lane.name)
        if state is None:
            state = self._lanes[lane.name] = _LaneState(asyncio.Semaphore(lane.concurrency))
        return state

    @staticmethod
    def _busy(lane: Lane, why: str) -> Busy:
        return Busy(
            f"{why}; retry in {lane.retry_after_s} s",
            details={"lane": lane.name},
            headers={"Retry-After": str(lane.retry_after_s)},
        )

    async def run(self, lane: Lane, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in the lane's pool under its bounds; ``Busy`` when it is full."""
        state = self._state(lane)
        if state.admitted >= lane.concurrency + lane.waiting:
            raise self._busy(lane, f"too many {lane.name} jobs in progress")
        state.admitted += 1
        try:
            async with state.semaphore:
                return await self._submit(lane, state, fn, args)
        finally:
            state.admitted -= 1

    async def _submit(
        self, lane: Lane, state: _LaneState, fn: Callable[..., T], args: tuple[Any, ...]
    ) -> T:
        if state.pool is None:
            # forkserver: a clean child, not a fork of a process with threads and sockets.
            state.pool = ProcessPoolExecutor(
                max_workers=lane.concurrency,
                mp_context=multiprocessing.get_context("forkserver"),
                initializer=_lower_priority,
            )
        pool = state.pool
        future = asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        try:
            return await asyncio.wait_for(future, lane.timeout_s)
        except TimeoutError:
            log.warning("%s job ran past %.0f s: replacing its pool", lane.name, lane.timeout_s)
            self._discard(state, pool)
            raise self._busy(lane, f"the {lane.name} job took too long") from None
        except BrokenProcessPool:
            log.warning("%s job: a pool process died; replacing its pool", lane.name)
            self._discard(state, pool)
            raise self._busy(lane, f"the {lane.name} job failed") from None
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the request itself was cancelled (client gone, shutdown)
            raise self._busy(lane, f"the {lane.name} job was stopped") from None

    @staticmethod
    def _discard(state: _LaneState, pool: ProcessPoolExecutor) -> None:
        if state.pool is pool:
            state.pool = None
        _kill(pool)

    def close(self) -> None:
        """Stop every lane's processes (at the worker's shutdown): asked first, then killed."""
        for state in self._lanes.values():
            if state.pool is not None:
                _stop(state.pool)
                state.pool = None


def _stop(pool: ProcessPoolExecutor, grace_s: float = 2.0) -> None:
    # An orderly exit lets each process release its semaphores (a killed one leaks them).
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(grace_s)
        if process.is_alive():
            process.kill()


def _kill(pool: ProcessPoolExecutor) -> None:
    # ``shutdown`` would wait for a stuck job; its processes are killed first.
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        with contextlib.suppress(Exception):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
