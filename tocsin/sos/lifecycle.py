"""Start and stop the SOS intake of one worker: settings, rate limits, group-commit writer
(a thread, or a child process in embedded mode: ``tocsin.sos.writer``)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from tocsin.core.runtime import Runtime
from tocsin.sos.config import SosSettings
from tocsin.sos.intake import SosBatcher
from tocsin.sos.limits import SosLimiter
from tocsin.sos.writer import WriterProcess

log = logging.getLogger("tocsin.sos")


@dataclass
class SosState:
    """What the SOS domain keeps in a worker's runtime (``runtime.state(SosState)``)."""

    settings: SosSettings
    limiter: SosLimiter
    # None once the worker stops: the intake answers 503 (the phone retries elsewhere).
    batcher: SosBatcher | None


def _in_process(runtime: Runtime, cfg: SosSettings) -> bool:
    # Only a SQLite file: the child writes encoded SQLite rows, and an in-memory database is
    # private to its process.
    url = runtime.engine.url
    sqlite_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    return sqlite_file and cfg.writer in ("auto", "process")


async def start(runtime: Runtime) -> None:
    """Read the SOS settings and start the group-commit writer (a thread or a process)."""
    cfg = SosSettings()
    batcher: SosBatcher | None = None
    if _in_process(runtime, cfg):
        process = WriterProcess(runtime.sessions, batch_max=cfg.batch_max,
                                linger_ms=cfg.linger_ms)
        try:
            await asyncio.to_thread(process.start)  # the child's start takes a moment
            batcher = process
        except Exception as exc:  # SOS intake must start: the thread writes them instead
            log.error("SOS writer process did not start (%s); using the writer thread", exc)
    if batcher is None:
        batcher = SosBatcher(runtime.sessions, batch_max=cfg.batch_max, linger_ms=cfg.linger_ms)
        batcher.start()
    runtime.states.put(SosState(settings=cfg, limiter=SosLimiter(cfg), batcher=batcher))


async def stop(runtime: Runtime) -> None:
    """Commit what is queued and stop the writer (the intake answers 503 from now on)."""
    state = runtime.states.find(SosState)
    if state is not None and state.batcher is not None:
        batcher, state.batcher = state.batcher, None
        await asyncio.to_thread(batcher.stop)
