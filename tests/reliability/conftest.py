"""The cluster of the fault tests and the soak, with units on duty at every site."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.harness import Cluster, cluster
from tests.reliability.load import SITES
from tocsin.core import seal
from tocsin.core.db import make_engine, make_sessionmaker, session_scope, utcnow
from tocsin.dispatch import units


@pytest.fixture
def rig(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """The cluster, with two units on duty at each site (every incident can be offered)."""

    def seed(made: Cluster) -> None:
        seal.configure(seal.Sealer(made.seal_key))
        engine = make_engine(made.pg.url, pool_size=1)
        with session_scope(make_sessionmaker(engine)) as session:
            for n, (lat, lon) in enumerate(SITES * 2):
                units.create_unit(session, callsign=f"PS-{n:02d}", username=None, lat=lat,
                                  lon=lon, off_duty=False, now=utcnow())
        engine.dispose()

    with cluster(tmp_path, workers=3, before_workers=seed) as made:
        try:
            yield made
        finally:  # keep the workers' logs where a failed run can be read (pytest rotates tmp)
            keep = Path("/tmp/tocsin-fault-logs") / request.node.name
            keep.mkdir(parents=True, exist_ok=True)
            for log in tmp_path.glob("worker*.log"):
                shutil.copy(log, keep / log.name)
