"""The dispatch check of ``bench.sos_ack``: from each SOS's 201 to its incident's first offer.

Units on duty are seeded over Paris and its suburbs before the server starts; SOS are sent at
places far enough apart that each opens its own incident; the offers are read from dispatch's
tables afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.deployment import Target, server, tocsin_target
from bench.sos_load import free_port, open_loop, percentile, sos_request

OFFER_WITHIN_S = 1.0

# Paris and its inner suburbs: the dispatch check's SOS places and its units.
BOX = (48.70, 2.15, 49.00, 2.55)
SPACING_M = 450.0  # dispatch joins an SOS to an incident within 200 m of it


def _places(n: int, seed: int) -> list[tuple[float, float]]:
    """``n`` places at least ``SPACING_M`` apart in ``BOX`` (a grid, shuffled)."""
    dlat = SPACING_M / 111_320
    dlon = SPACING_M / (111_320 * 0.656)  # cos(49°)
    grid = [(BOX[0] + i * dlat, BOX[1] + j * dlon)
            for i in range(int((BOX[2] - BOX[0]) / dlat))
            for j in range(int((BOX[3] - BOX[1]) / dlon))]
    if n > len(grid):
        raise SystemExit(f"at most {len(grid)} SOS far enough apart in the box; ask for fewer")
    random.Random(seed).shuffle(grid)
    return grid[:n]


def _seed_units(target: Target, count: int, seed: int) -> None:
    """``count`` units on duty, anywhere in ``BOX``, before the server starts."""
    from tocsin.core import seal
    from tocsin.core.db import make_engine, make_sessionmaker, session_scope, utcnow
    from tocsin.core.migrate import upgrade
    from tocsin.dispatch import units

    upgrade(target.url)
    seal.configure(seal.Sealer(target.env["TOCSIN_SEAL_KEY"]))
    rng = random.Random(seed)
    engine = make_engine(target.url, pool_size=1)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            for n in range(count):
                units.create_unit(session, callsign=f"BENCH-{n:05d}", username=None,
                                  lat=rng.uniform(BOX[0], BOX[2]), lon=rng.uniform(BOX[1], BOX[3]),
                                  off_duty=False, now=utcnow())
    finally:
        engine.dispose()


def _first_offers(url: str, ids: set[str]) -> dict[str, tuple[str, dt.datetime | None]]:
    """For each SOS of ``ids`` dispatch has clustered: (its incident, the first offer's time)."""
    from sqlalchemy import func, select

    from tocsin.core.db import make_engine, make_sessionmaker
    from tocsin.dispatch.models import DispatchAssignment, DispatchIncidentSos

    engine = make_engine(url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            first = dict(session.execute(
                select(DispatchAssignment.incident_id, func.min(DispatchAssignment.offered_at))
                .group_by(DispatchAssignment.incident_id)).all())
            clustered = session.execute(
                select(DispatchIncidentSos.sos_id, DispatchIncidentSos.incident_id)).all()
            return {sos: (incident, first.get(incident)) for sos, incident in clustered
                    if sos in ids}
    finally:
        engine.dispose()


@dataclass
class DispatchCheck:
    mode: str
    sent: int = 0
    acked: int = 0
    incidents: int = 0
    offered: int = 0
    delays: list[float] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (self.acked == self.sent and self.offered == self.incidents
                and all(d <= OFFER_WITHIN_S for d in self.delays))

    def line(self) -> str:
        late = sum(d > OFFER_WITHIN_S for d in self.delays)
        return (f"dispatch ({self.mode}): {self.sent} SOS, {self.acked} acknowledged, "
                f"{self.incidents} incidents, {self.offered} offered; 201 -> first offer p50 "
                f"{percentile(self.delays, 0.5) * 1000:.0f} ms, p99 "
                f"{percentile(self.delays, 0.99) * 1000:.0f} ms, max "
                f"{max(self.delays, default=float('nan')) * 1000:.0f} ms; over "
                f"{OFFER_WITHIN_S:.0f} s: {late} -> {'PASS' if self.passed else 'FAIL'}")


def run_dispatch(mode: str, args: argparse.Namespace) -> DispatchCheck:
    """Units on duty, SOS at distinct places at ``--dispatch-rate``: 201 -> first offer."""
    check = DispatchCheck(mode)
    total = int(args.dispatch_rate * args.dispatch_seconds)
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-dispatch-") as tmp, \
            tocsin_target(mode, args, Path(tmp)) as target:
        _seed_units(target, args.units, args.seed)
        port = free_port()
        requests = [sos_request(port, lat, lon) for lat, lon in _places(total, args.seed)]
        acks: dict[str, float] = {}
        with server(target.cmd(port), target.env, port, Path(tmp) / "server.log",
                    cwd=args.root):
            result = asyncio.run(open_loop(f"dispatch {mode}", port, args.dispatch_rate,
                                           args.dispatch_seconds, args.open_conns,
                                           requests=requests, acks=acks))
            # Let dispatch finish (an incident not offered yet is retried every second).
            deadline = time.monotonic() + 10
            while True:
                found = _first_offers(target.url, set(acks))
                done = len(found) == len(acks) and all(t for _, t in found.values())
                if done or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
        check.sent, check.acked = result.sent, result.ok
        check.incidents = len({incident for incident, _ in found.values()})
        offered = {incident: at for incident, at in found.values() if at is not None}
        check.offered = len(offered)
        # Each incident's clock starts at the 201 of its first SOS.
        first_ack: dict[str, float] = {}
        for sos, (incident, _) in found.items():
            first_ack[incident] = min(first_ack.get(incident, acks[sos]), acks[sos])
        check.delays = [at.timestamp() - first_ack[incident] for incident, at in offered.items()]
        # An SOS acknowledged but never clustered counts as an incident never offered.
        missing = len(acks) - len(found)
        check.incidents += missing
    print(check.line(), flush=True)
    return check
