"""The ASGI application: one per worker, assembled from the core and every domain's router.

A domain plugs in by adding its name to ``tocsin.domains.DOMAINS``; the app then mounts
``tocsin.<name>.api`` (its ``router``) and, if the domain has one, runs
``tocsin.<name>.lifecycle`` (``start`` and ``stop`` coroutines taking the runtime) with the
worker, and puts ``tocsin.<name>.fastpath.FastPath`` in front of the whole app
(``TocsinApp.add_front``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from starlette.types import ASGIApp, Receive, Scope, Send

from tocsin import __version__
from tocsin.core import live, logredact, seal
from tocsin.core.audit import api as audit_api
from tocsin.core.auth import api as auth_api
from tocsin.core.auth import mfa_api
from tocsin.core.bus import make_bus
from tocsin.core.db import make_engine, make_sessionmaker
from tocsin.core.errors import install_error_handlers
from tocsin.core.health import router as health_router
from tocsin.core.middleware import BodyLimit, SecurityHeaders, security_headers
from tocsin.core.relay import OutboxRelay
from tocsin.core.runtime import Runtime
from tocsin.core.settings import Settings, get_settings
from tocsin.domains import domain_modules
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


class TocsinApp(FastAPI):
    """FastAPI, with room in front of its whole middleware stack for a domain's fast path.

    ``add_front(factory, **options)`` puts ``factory(app, **options)`` before everything else:
    it answers its own route and hands every other request to what stood there before (in the
    end, FastAPI with its middlewares). See ``tocsin.sos.fastpath`` for why one route needs it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._front: ASGIApp = self._stack

    async def _stack(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)

    def add_front(self, factory: Callable[..., ASGIApp], **options: Any) -> None:
        """Put ``factory(current front, **options)`` in front of the application."""
        self._front = factory(self._front, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._front(scope, receive, send)


def build_runtime(settings: Settings) -> Runtime:
    """Create the worker's engine, sessions, bus and relay (nothing connects yet).

    The sealer belongs to this worker: attached to its engines and given to its bus, never
    installed for the whole process, so workers with different keys can share one (tests).
    """
    sealer = seal.load_sealer(
        key=settings.seal_key,
        old_keys=settings.seal_old_keys,
        var_dir=settings.var_dir,
        allow_generate=settings.mode == "embedded",
    )
    url = settings.resolved_database_url
    engine = make_engine(url, pool_size=settings.db_pool_size)
    seal.attach(engine, sealer)
    sessions = make_sessionmaker(engine)
    bus = make_bus(
        settings.bus_url, stream=settings.bus_stream, prefix=settings.bus_prefix, sealer=sealer
    )
    bookkeeping = _relay_engine(url)
    if bookkeeping is not None:
        seal.attach(bookkeeping, sealer)
    relay = OutboxRelay(
        sessions,
        bus,
        poll_seconds=settings.outbox_poll_seconds,
        bookkeeping=bookkeeping,
    )
    return Runtime(
        settings=settings, engine=engine, sessions=sessions, bus=bus, relay=relay, sealer=sealer
    )


def _relay_engine(url: str) -> Engine | None:
    """SQLite file: the outbox relay's own engine, committing its marks without fsync.

    See ``OutboxRelay``; PostgreSQL (and an in-memory SQLite, which a second engine would not
    share) keep the relay on the worker's engine.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return make_engine(url, pool_size=1, durable=False)


def serve_app() -> FastAPI:
    """The served application (``tocsin serve``): ``create_app`` with the collector frozen."""
    return create_app(freeze_gc=True)


def create_app(settings: Settings | None = None, *, freeze_gc: bool = False) -> FastAPI:
    """Build one worker's application for ``settings`` (default: the environment's).

    ``freeze_gc``: once started, move every object alive (modules, routes, models, caches) to
    the collector's permanent generation (``gc.freeze``), so the full collections that come
    under load no longer walk them: measured 80-110 ms each before, on the SOS path. Only for a
    serving process: a test process builds many apps and would keep each one's objects.
    """
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
            if freeze_gc:
                gc.collect()
                gc.freeze()
            yield
        finally:
            runtime.closing = True
            for module in reversed(started):
                await module.stop(runtime)
            await live.hub(runtime).close()
            await runtime.relay.stop()
            runtime.offload.close()
            await runtime.bus.close()
            await _connections_returned(runtime)
            runtime.engine.dispose()

    app = TocsinApp(
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
    headers = security_headers(_tile_origin(settings.map_tiles_url))
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, headers=headers)
    # A domain's ``fastpath.FastPath`` answers its hottest route in front of all of that, with
    # the same body limit and headers (see ``tocsin.sos.fastpath``).
    for module in domain_modules("fastpath"):
        app.add_front(
            module.FastPath, runtime=runtime, max_bytes=settings.max_body_bytes, headers=headers
        )
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
