"""The cluster of the fault tests and the soak, with units on duty at every site."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.harness import Cluster, cluster, seed_units_on_duty


@pytest.fixture
def rig(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """The cluster, with two units on duty at each site (every incident can be offered)."""

    with cluster(tmp_path, workers=3, before_workers=seed_units_on_duty) as made:
        try:
            yield made
        finally:  # keep the workers' logs where a failed run can be read (pytest rotates tmp)
            keep = Path("/tmp/tocsin-fault-logs") / request.node.name
            keep.mkdir(parents=True, exist_ok=True)
            for log in tmp_path.glob("worker*.log"):
                shutil.copy(log, keep / log.name)
