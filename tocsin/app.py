"""The ASGI application: one per worker, assembled from the core and every domain's router.

A domain plugs in by adding its name to ``DOMAINS``; the app then mounts ``tocsin.<name>.api``
(its ``router``) and, if the domain has one, runs ``tocsin.<name>.lifecycle`` (``start`` and
``stop`` coroutines taking the runtime) with the worker.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType

from fastapi import FastAPI

from tocsin import __version__
from tocsin.core import live, logredact, seal
from tocsin.core.audit import api as audit_api
from tocsin.core.auth import api as auth_api
from tocsin.core.auth import mfa_api
from tocsin.core.bus import make_bus
from tocsin.core.db import make_engine, make_sessionmaker
from tocsin.core.errors import install_error_handlers
from tocsin.core.health import router as health_router
from tocsin.core.middleware import BodyLimit, SecurityHeaders
from tocsin.core.outbox import OutboxRelay
from tocsin.core.runtime import Runtime
from tocsin.core.settings import Settings, get_settings
from tocsin.web import (
    admin,
    alerts_pages,
    apidocs,
    cyber_pages,
    dispatch_pages,
    mount_static,
    pages,
    persons_pages,
    shelter_page,
    sos_page,
    stats_pages,
    watch_pages,
)

log = logging.getLogger("tocsin.app")

# Domains in the order their routers are mounted; each adds itself here when it lands.
DOMAINS: tuple[str, ...] = (
    "sos", "shelter", "persons", "safety", "watch", "alerts", "dispatch", "cyber", "stats",
)


def _optional_module(name: str) -> ModuleType | None:
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


def domain_modules(suffix: str) -> list[ModuleType]:
    """Return ``tocsin.<domain>.<suffix>`` for each domain that has one."""
    modules = []
    for domain in DOMAINS:
        module = _optional_module(f"tocsin.{domain}.{suffix}")
        if module is not None:
            modules.append(module)
    return modules


async def _connections_returned(runtime: Runtime, timeout: float = 5.0) -> None:
    """Wait (briefly) for threads still holding a connection before the pool is disposed.

    A connection checked out while ``dispose`` runs is detached from the pool and later
    garbage-collected unclosed; waiting lets a request or consumer thread finishing its
    transaction hand it back and be closed properly.
    """
    checked_out = getattr(runtime.engine.pool, "checkedout", None)
    if checked_out is None:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while checked_out() and loop.time() < deadline:
        await asyncio.sleep(0.02)


def build_runtime(settings: Settings) -> Runtime:
    """Create the worker's engine, sessions, bus and relay (nothing connects yet)."""
    seal.configure(
        seal.load_sealer(
            key=settings.seal_key,
            old_keys=settings.seal_old_keys,
            var_dir=settings.var_dir,
            allow_generate=settings.mode == "embedded",
        )
    )
    engine = make_engine(settings.resolved_database_url, pool_size=settings.db_pool_size)
    sessions = make_sessionmaker(engine)
    bus = make_bus(settings.bus_url, stream=settings.bus_stream, prefix=settings.bus_prefix)
    relay = OutboxRelay(sessions, bus, poll_seconds=settings.outbox_poll_seconds)
    return Runtime(settings=settings, engine=engine, sessions=sessions, bus=bus, relay=relay)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build one worker's application for ``settings`` (default: the environment's)."""
    settings = settings or get_settings()
    logredact.install()
    runtime = build_runtime(settings)
    lifecycles = domain_modules("lifecycle")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.bus.connect()
        started: list[ModuleType] = []
        try:
            # Domains subscribe first, so events left in the outbox by a crash reach them.
            for module in lifecycles:
                await module.start(runtime)
                started.append(module)
            runtime.relay.start()
            yield
        finally:
            for module in reversed(started):
                await module.stop(runtime)
            await live.hub(runtime).close()
            await runtime.relay.stop()
            await runtime.bus.close()
            await _connections_returned(runtime)
            runtime.engine.dispose()

    app = FastAPI(
        title="Tocsin",
        version=__version__,
        description="Silent SOS, dispatch, official alerts, missing persons, shelter, "
        "content watch, cyber desk and observatory, in respect of individual liberties.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(auth_api.router)
    app.include_router(mfa_api.router)
    app.include_router(audit_api.router)
    for module in domain_modules("api"):
        app.include_router(module.router)
    _mount_web(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, img_sources=_tile_origin(settings.map_tiles_url))
    return app


def _mount_web(app: FastAPI) -> None:
    app.include_router(pages.router)
    app.include_router(shelter_page.router)
    app.include_router(dispatch_pages.router)
    app.include_router(sos_page.router)
    app.include_router(apidocs.router)
    app.include_router(admin.router)
    app.include_router(alerts_pages.router)
    app.include_router(watch_pages.router)
    app.include_router(persons_pages.router)
    app.include_router(stats_pages.router)
    app.include_router(cyber_pages.router)
    mount_static(app)


def _tile_origin(url: str) -> str:
    if not url:
        return ""
    from urllib.parse import urlsplit

    parts = urlsplit(url.replace("{s}", "a"))
    return f"{parts.scheme}://{parts.netloc.replace('a.', '*.', 1)}" if parts.netloc else ""
