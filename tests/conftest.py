"""Test harness: the whole suite runs in both modes, on the real servers for the cluster.

``mode`` is a session fixture parametrised over ``embedded`` (SQLite file + in-process bus) and
``cluster`` (a fresh PostgreSQL database + a fresh JetStream stream, both removed at the end).
Set ``TOCSIN_TEST_MODES=embedded`` to run one mode only.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tocsin.app import create_app
from tocsin.core import seal
from tocsin.core.db import Base, make_engine, make_sessionmaker
from tocsin.core.migrate import upgrade
from tocsin.core.settings import Settings

PG_ADMIN_DSN = os.environ.get("TOCSIN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
NATS_URL = os.environ.get("TOCSIN_TEST_NATS", "nats://127.0.0.1:4222")
MODES = [m for m in os.environ.get("TOCSIN_TEST_MODES", "embedded,cluster").split(",") if m]
SEAL_KEY = seal.generate_key()


@pytest.fixture(scope="session", params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _pg_url(dbname: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{dbname}"


@pytest.fixture
def fresh_url(mode: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of this mode, for a migration test to upgrade and downgrade itself."""
    if mode == "embedded":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    name = f"tocsin_migrate_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def base_settings(mode: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings of a freshly migrated database and bus for this mode, cleaned up afterwards."""
    var = tmp_path_factory.mktemp(f"var-{mode}")
    if mode == "embedded":
        settings = Settings(
            var_dir=var,
            database_url=f"sqlite:///{var / 'template.db'}",
            bus_url="memory://",
            seal_key=SEAL_KEY,
        )
        upgrade(settings.resolved_database_url)
        yield settings
        return
    tag = uuid.uuid4().hex[:10]
    dbname = f"tocsin_test_{tag}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    settings = Settings(
        var_dir=var,
        database_url=_pg_url(dbname),
        bus_url=NATS_URL,
        bus_stream=f"TOCSINTEST_{tag.upper()}",
        bus_prefix=f"tocsintest{tag}",
        seal_key=SEAL_KEY,
    )
    try:
        upgrade(settings.resolved_database_url)
        yield settings
    finally:
        asyncio.run(_delete_stream(settings))
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


async def _delete_stream(settings: Settings) -> None:
    from tocsin.core.bus.jetstream import JetStreamBus

    bus = JetStreamBus(settings.bus_url, stream=settings.bus_stream, prefix=settings.bus_prefix)
    await bus.connect()
    try:
        await bus.delete_stream()
    finally:
        await bus.close()


@pytest.fixture
def settings(base_settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """Per-test settings on an empty, migrated database.

    Embedded: a copy of the migrated template file. Cluster: the session database, truncated
    after the test (TRUNCATE, unlike DELETE, passes the audit log's append-only triggers), and
    a JetStream stream of the test's own, deleted after it.
    """
    seal.configure(seal.Sealer(SEAL_KEY))
    if base_settings.is_sqlite:
        template = Path(base_settings.resolved_database_url.removeprefix("sqlite:///"))
        target = tmp_path / "tocsin.db"
        shutil.copy(template, target)
        yield base_settings.model_copy(
            update={"database_url": f"sqlite:///{target}", "var_dir": tmp_path}
        )
        return
    # A stream (and subject prefix) of its own: events a previous test's worker left unconsumed
    # would otherwise be delivered to this test's durable consumers.
    tag = uuid.uuid4().hex[:8]
    own = base_settings.model_copy(update={
        "bus_stream": f"{base_settings.bus_stream}_{tag.upper()}",
        "bus_prefix": f"{base_settings.bus_prefix}{tag}",
    })
    try:
        yield own
    finally:
        asyncio.run(_delete_stream(own))
    engine = make_engine(base_settings.resolved_database_url, pool_size=1)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def make_app(settings: Settings) -> Callable[..., FastAPI]:
    """Build worker apps on this test's database and bus (call it twice for two workers)."""

    def build(**overrides: object) -> FastAPI:
        return create_app(settings.model_copy(update=overrides) if overrides else settings)

    return build


@pytest.fixture
def client(make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    """A started worker (lifespan run: bus connected, relay running) and its HTTP client."""
    with TestClient(make_app(), raise_server_exceptions=True) as test_client:
        yield test_client


@pytest.fixture
def db(settings: Settings) -> Iterator[Session]:
    """A session for service tests, rolled back at the end (services never commit)."""
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    session = make_sessionmaker(engine)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
        engine.dispose()
