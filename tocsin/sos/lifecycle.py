"""Start and stop the SOS intake of one worker: settings, rate limits, group-commit writer."""

from __future__ import annotations

import asyncio

from tocsin.core.runtime import Runtime
from tocsin.sos.config import SosSettings
from tocsin.sos.intake import SosBatcher
from tocsin.sos.limits import SosLimiter

SETTINGS = "sos.settings"
BATCHER = "sos.batcher"
LIMITER = "sos.limiter"


async def start(runtime: Runtime) -> None:
    """Read the SOS settings and start the group-commit writer."""
    cfg = SosSettings()
    runtime.extras[SETTINGS] = cfg
    runtime.extras[LIMITER] = SosLimiter(cfg)
    batcher = SosBatcher(runtime.sessions, batch_max=cfg.batch_max, linger_ms=cfg.linger_ms)
    batcher.start()
    runtime.extras[BATCHER] = batcher


async def stop(runtime: Runtime) -> None:
    """Commit what is queued and stop the writer."""
    batcher = runtime.extras.pop(BATCHER, None)
    if isinstance(batcher, SosBatcher):
        await asyncio.to_thread(batcher.stop)
