"""Checks shared by the fault tests and the soak: nothing lost, everything dispatched."""

from __future__ import annotations

import os
import time

from sqlalchemy import select, text

from tests.reliability.harness import Cluster
from tocsin.core.db import make_engine
from tocsin.dispatch.models import DispatchAssignment, DispatchIncidentSos
from tocsin.sos.models import Sos

DISPATCH_WAIT_S = 600.0


def report(name: str, **figures: object) -> None:
    """Print the figures (``-s`` shows them; RELIABILITY.md records the last run's)."""
    load = os.getloadavg()
    line = ", ".join(f"{k}={v}" for k, v in figures.items())
    print(f"\n[{name}] {line}; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}",
          flush=True)


def _engine(made: Cluster):  # type: ignore[no-untyped-def]
    return make_engine(made.pg.url, pool_size=2)


def stored(made: Cluster, ids: set[str]) -> set[str]:
    engine = _engine(made)
    try:
        found: set[str] = set()
        chunk = sorted(ids)
        with engine.connect() as conn:
            # In slices: PostgreSQL takes at most 65,535 parameters (a soak acknowledges more).
            for start in range(0, len(chunk), 10_000):
                found.update(conn.execute(
                    select(Sos.id).where(Sos.id.in_(chunk[start:start + 10_000]))).scalars())
    finally:
        engine.dispose()
    return found


def wait_dispatched(made: Cluster, ids: set[str]) -> float:
    """Wait until every SOS in ``ids`` is attached to an incident a unit was offered."""
    engine = _engine(made)
    start = time.monotonic()
    try:
        while True:
            with engine.connect() as conn:
                attached = dict(conn.execute(select(
                    DispatchIncidentSos.sos_id, DispatchIncidentSos.incident_id)).all())
                offered = set(conn.execute(select(DispatchAssignment.incident_id)).scalars())
                pending = conn.execute(text(
                    "SELECT count(*) FROM outbox_event WHERE published_at IS NULL")).scalar_one()
            missing = {i for i in ids if i not in attached}
            unoffered = {attached[i] for i in ids if i in attached} - offered
            if not missing and not unoffered and pending == 0:
                return time.monotonic() - start
            if time.monotonic() - start > DISPATCH_WAIT_S:
                raise AssertionError(
                    f"{len(missing)} of {len(ids)} acknowledged SOS not dispatched, "
                    f"{len(unoffered)} incidents never offered, {pending} events in the outbox")
            time.sleep(1.0)
    finally:
        engine.dispose()


def pending(made: Cluster) -> int:
    engine = make_engine(made.pg.url, pool_size=1)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM outbox_event WHERE published_at IS NULL")).scalar_one())
    finally:
        engine.dispose()
