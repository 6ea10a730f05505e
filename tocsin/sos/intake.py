"""Group commit of SOS intake: concurrent SOS share one transaction, so one fsync.

Each request validates its SOS, puts it on a queue and awaits a future (no thread is held while
it waits). One writer thread per worker takes everything queued (up to ``batch_max``, after an
optional short linger), inserts all rows and their outbox events in ONE transaction, commits,
and only then resolves every future: a 201 always means "durably committed". If the commit
fails, every request of the batch gets the error (a 503 to the phone, which retries with the
same ``client_id``), never a false acknowledgement.

While one batch commits, the next requests pile up and form the next batch, so batches grow
with load by themselves and a lone SOS waits for no one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tocsin.core.db import write_lock
from tocsin.sos import service
from tocsin.sos.service import Ack, NewSos

log = logging.getLogger("tocsin.sos.intake")


@dataclass
class IntakeStats:
    """Counters for tests and benchmarks: how many SOS, in how many transactions."""

    items: int = 0
    batches: int = 0
    largest: int = 0
    failures: int = 0
    retries: int = 0


@dataclass(slots=True)
class _Job:
    item: NewSos
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Ack] = field(repr=False)


_STOP = object()


class IntakeUnavailable(Exception):
    """The writer is stopped: nothing was recorded."""


class SosBatcher:
    """The per-worker group-commit writer (see the module docstring)."""

    def __init__(
        self, factory: sessionmaker[Session], *, batch_max: int = 500, linger_ms: float = 0.0
    ) -> None:
        self.factory = factory
        self.batch_max = batch_max
        self.linger = linger_ms / 1000.0
        self.stats = IntakeStats()
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="sos-group-commit", daemon=True)
        self._running = False
        self._write_lock = write_lock(factory.kw.get("bind"))

    def start(self) -> None:
        """Start the writer thread."""
        self._running = True
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop the writer."""
        if not self._running:
            return
        self._running = False
        self._queue.put(_STOP)
        self._thread.join(timeout)

    async def submit(self, item: NewSos) -> Ack:
        """Queue ``item`` and return its acknowledgement once its transaction has committed."""
        if not self._running:
            raise IntakeUnavailable("SOS intake is stopped")
        loop = asyncio.get_running_loop()
        job = _Job(item, loop, loop.create_future())
        self._queue.put(job)
        # Shielded: a client that disconnects must not cancel the commit's bookkeeping.
        return await asyncio.shield(job.future)

    def _take(self, first: _Job) -> tuple[list[_Job], bool]:
        batch = [first]
        stop = False
        deadline = time.monotonic() + self.linger
        while len(batch) < self.batch_max:
            try:
                remaining = deadline - time.monotonic()
                job = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
            if job is _STOP:
                stop = True
                break
            assert isinstance(job, _Job)
            batch.append(job)
        return batch, stop

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                break
            assert isinstance(first, _Job)
            batch, stop = self._take(first)
            self._commit(batch)
            if stop:
                break
        # Stopped: anything still queued is refused, not silently dropped.
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(job, _Job):
                _settle([(job, None, IntakeUnavailable("SOS intake is stopped"))])

    def _commit(self, batch: list[_Job]) -> None:
        items = [job.item for job in batch]
        for attempt in (1, 2):
            try:
                with self._write_lock, self.factory() as session:
                    acks = service.insert_batch(session, items=items)
                    session.commit()
                break
            except IntegrityError:
                # Another worker committed one of these client_ids meanwhile: look again.
                self.stats.retries += 1
                if attempt == 2:
                    self._fail(batch, IntakeUnavailable("SOS intake conflict; retry"))
                    return
            except Exception as exc:
                log.warning("SOS batch of %d not committed: %s", len(batch), exc)
                self._fail(batch, exc)
                return
        self.stats.items += len(batch)
        self.stats.batches += 1
        self.stats.largest = max(self.stats.largest, len(batch))
        _settle([(job, ack, None) for job, ack in zip(batch, acks, strict=True)])

    def _fail(self, batch: list[_Job], exc: BaseException) -> None:
        self.stats.failures += 1
        _settle([(job, None, exc) for job in batch])


_Outcome = tuple[_Job, Ack | None, BaseException | None]


def _settle(outcomes: list[_Outcome]) -> None:
    """Resolve futures in their loops: one wake-up per loop, not one per request."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome[0].loop, []).append(outcome)
    for loop, group in by_loop.items():
        # A closed loop (worker shutting down) has nobody waiting.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_apply, group)


def _apply(group: list[_Outcome]) -> None:
    for job, ack, error in group:
        if job.future.done():
            continue
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(ack)  # type: ignore[arg-type]
