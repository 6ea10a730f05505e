"""Benchmark of the dispatch consumer (issues 4 and 10): ``python -m bench.dispatch_throughput``.

N ``sos.created`` payloads (default 10,000) go through the dispatch engine of one worker, on a
fresh migrated SQLite file (embedded mode) and a fresh PostgreSQL database (cluster mode,
``TOCSIN_BENCH_PG``), with 2,000 available units around Paris:

- **per event** (the baseline, the consumer as it was): one decision per SOS: lock, cluster
  (``incidents.attach_sos``), offer the incident if nobody has it, ``incident.updated``, commit;
- **batched** (ours): the payloads in batches of ``--batch`` through
  ``DispatchEngine.intake_batch``, exactly what the bus handler calls with what it fetched:
  one decision per batch, each changed incident announced once and offered once.

Most SOS come from a few crowded places (``--sites`` sites, a concert hall each), the rest are
scattered over the city (``--scattered``, each its own incident and offer). Reception times
increase in feed order, so both ways must give the same clustering: the run checks the incident
count, the SOS count per incident and the offers are equal, and prints the outbox events each
wrote (the relay publishes every one of them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, func, select

from tocsin.core import seal
from tocsin.core.db import make_engine, make_sessionmaker
from tocsin.core.migrate import upgrade
from tocsin.core.outbox import OutboxEvent
from tocsin.dispatch import assign, incidents
from tocsin.dispatch.config import DispatchConfig
from tocsin.dispatch.engine import DispatchEngine
from tocsin.dispatch.models import (
    DispatchAssignment,
    DispatchIncident,
    DispatchIncidentSos,
    DispatchUnit,
)

PG_ADMIN = os.environ.get("TOCSIN_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
T0 = dt.datetime(2015, 11, 13, 21, 40, tzinfo=dt.UTC)
BOX = (48.81, 2.25, 48.91, 2.42)  # Paris inside the ring road


def payloads(n: int, *, sites: int, scattered: float, seed: int) -> list[dict[str, Any]]:
    """N ``sos.created`` payloads, reception times increasing (one every 2 ms)."""
    rng = random.Random(seed)
    places = [(rng.uniform(BOX[0], BOX[2]), rng.uniform(BOX[1], BOX[3])) for _ in range(sites)]
    out = []
    for i in range(n):
        if rng.random() < scattered:
            lat, lon = rng.uniform(BOX[0], BOX[2]), rng.uniform(BOX[1], BOX[3])
        else:  # within ~40 m of the hall
            lat, lon = rng.choice(places)
            lat, lon = lat + rng.uniform(-3e-4, 3e-4), lon + rng.uniform(-4e-4, 4e-4)
        out.append({
            "sos_id": uuid.uuid4().hex, "lat": lat, "lon": lon, "accuracy_m": 15.0,
            "situation": rng.choice(["attack", "hidden", "injured", "other"]), "people": 2,
            "received_at": (T0 + dt.timedelta(milliseconds=2 * i)).isoformat(),
        })
    return out


def _units(engine: Engine, count: int, seed: int) -> None:
    rng = random.Random(seed + 1)
    now = T0 - dt.timedelta(hours=1)
    with make_sessionmaker(engine)() as session:
        session.add_all([
            DispatchUnit(id=uuid.uuid4().hex, callsign=f"PS-{i:05d}", user_id=None,
                         status="available", lat=rng.uniform(BOX[0], BOX[2]),
                         lon=rng.uniform(BOX[1], BOX[3]), position_at=now, incident_id=None,
                         created_at=now, updated_at=now)
            for i in range(count)
        ])
        session.commit()


def per_event(engine: DispatchEngine, data: list[dict[str, Any]]) -> None:
    """The consumer as it was: one decision (lock, cluster, offer, commit) per SOS."""
    for payload in data:
        sos = incidents.parse_sos(payload)
        with engine.decision() as session:
            now = engine.clock()
            incident, _ = incidents.attach_sos(session, sos=sos, config=engine.config, now=now)
            assign.offer_next(session, index=engine.index, config=engine.config,
                              incident=incident, now=now)


def batched(engine: DispatchEngine, data: list[dict[str, Any]], size: int) -> None:
    """Ours: what the bus handler does with each fetched batch."""
    for start in range(0, len(data), size):
        engine.intake_batch(data[start:start + size])


def _outcome(engine: DispatchEngine) -> dict[str, Any]:
    with engine.sessions() as session:
        counts = sorted(session.scalars(select(DispatchIncident.sos_count)))
        grouped: dict[str, list[str]] = {}
        for sos_id, incident_id in session.execute(
                select(DispatchIncidentSos.sos_id, DispatchIncidentSos.incident_id)):
            grouped.setdefault(incident_id, []).append(sos_id)
        return {
            "incidents": len(counts),
            "sos_per_incident": Counter(counts),
            # Which SOS went together, whatever the incidents' ids: the clustering itself.
            "clusters": sorted(tuple(sorted(ids)) for ids in grouped.values()),
            "offers": session.scalar(select(func.count()).select_from(DispatchAssignment)),
            "events": session.scalar(select(func.count()).select_from(OutboxEvent)),
        }


def _sqlite() -> tuple[str, Callable[[], None]]:
    tmp = tempfile.TemporaryDirectory(prefix="tocsin-bench-dispatch-")
    return f"sqlite:///{Path(tmp.name) / 'tocsin.db'}", tmp.cleanup


def _postgres() -> tuple[str, Callable[[], None]]:
    name = f"tocsin_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")

    def drop() -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{base}/{name}", drop


def run(kind: str, way: str, data: list[dict[str, Any]], args: argparse.Namespace
        ) -> tuple[float, dict[str, Any]]:
    """Time one way on a fresh database; return (seconds, outcome)."""
    url, cleanup = _sqlite() if kind == "sqlite" else _postgres()
    try:
        upgrade(url)
        db = make_engine(url, pool_size=4)
        try:
            _units(db, args.units, args.seed)
            engine = DispatchEngine(make_sessionmaker(db), config=DispatchConfig(),
                                    clock=lambda: T0 + dt.timedelta(seconds=10))
            engine.rebuild()
            start = time.perf_counter()
            if way == "per event":
                per_event(engine, data)
            else:
                batched(engine, data, args.batch)
            elapsed = time.perf_counter() - start
            return elapsed, _outcome(engine)
        finally:
            db.dispose()
    finally:
        cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--baseline-events", type=int, default=2_000,
                        help="the per-event baseline runs on the first N (it is slow)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--sites", type=int, default=6)
    parser.add_argument("--scattered", type=float, default=0.05)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=13_11_2015)
    args = parser.parse_args(argv)
    seal.configure(seal.Sealer(seal.generate_key()))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; load average {os.getloadavg()}")
    data = payloads(args.events, sites=args.sites, scattered=args.scattered, seed=args.seed)
    base_n = min(args.baseline_events, args.events)
    print(f"{args.events:,} SOS ({args.sites} crowded sites, {args.scattered:.0%} scattered), "
          f"{args.units:,} units; baseline on the first {base_n:,}; batches of {args.batch}")
    for kind in args.engines.split(","):
        base_s, base_out = run(kind, "per event", data[:base_n], args)
        same_s, same_out = run(kind, "batched", data[:base_n], args)
        ours_s, ours_out = run(kind, "batched", data, args)
        equal = {k: base_out[k] == same_out[k] for k in ("incidents", "sos_per_incident",
                                                          "clusters", "offers")}
        base_rate, ours_rate = base_n / base_s, args.events / ours_s
        print(f"\n[{kind}] per event : {base_n:>7,} SOS in {base_s:7.2f} s = {base_rate:8.0f} SOS/s"
              f"  ({base_out['incidents']} incidents, {base_out['offers']} offers, "
              f"{base_out['events']:,} outbox events)")
        print(f"[{kind}] batched   : {base_n:>7,} SOS in {same_s:7.2f} s = "
              f"{base_n / same_s:8.0f} SOS/s  ({same_out['incidents']} incidents, "
              f"{same_out['offers']} offers, {same_out['events']:,} outbox events); "
              f"same outcome as per event: {all(equal.values())} {equal}")
        print(f"[{kind}] batched   : {args.events:>7,} SOS in {ours_s:7.2f} s = "
              f"{ours_rate:8.0f} SOS/s  ({ours_out['incidents']} incidents, "
              f"{ours_out['offers']} offers, {ours_out['events']:,} outbox events)")
        print(f"[{kind}] ratio batched / per event: {ours_rate / base_rate:.1f}x "
              f"(same {base_n:,} SOS: {base_s / same_s:.1f}x); load average {os.getloadavg()}")
        if not all(equal.values()):
            # A faster consumer that clusters or offers differently is no result: fail.
            differ = [k for k, same in equal.items() if not same]
            print(f"[{kind}] FAIL: batched and per event differ on {differ}: "
                  f"{ {k: base_out[k] for k in differ if k != 'clusters'} } vs "
                  f"{ {k: same_out[k] for k in differ if k != 'clusters'} }")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
