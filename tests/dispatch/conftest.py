"""Fixtures of the dispatch tests: an engine on the test database with an injectable clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.dispatch.factories import FakeClock
from tocsin.core.db import make_engine, make_sessionmaker
from tocsin.core.settings import Settings
from tocsin.dispatch.config import DispatchConfig
from tocsin.dispatch.engine import DispatchEngine


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine(settings: Settings, clock: FakeClock) -> Iterator[DispatchEngine]:
    """A dispatch engine on this test's (migrated, empty) database; no bus, no loop."""
    db_engine = make_engine(settings.resolved_database_url, pool_size=12)
    try:
        yield DispatchEngine(
            make_sessionmaker(db_engine),
            config=DispatchConfig(offer_timeout_s=30, candidates=3, cluster_radius_m=200),
            clock=clock,
        )
    finally:
        db_engine.dispose()
