"""Benchmark of the observatory's dashboard queries (issue 9): ``python -m bench.stats``.

Generates N facts (default 10,000,000) over 30 days in greater Paris (SOS, content reports,
safety marks, alert deliveries), bulk-loads them into a fresh SQLite file and a fresh PostgreSQL
database (``TOCSIN_BENCH_PG``, default the local server; skipped with ``--engines sqlite``),
builds the rollups, then times each dashboard query the way the dashboard runs it (the
``tocsin.stats.queries`` functions over ``stats_rollup``) beside the naive query: the same
answer by ``GROUP BY`` over the raw ``stats_fact`` table (which has its ``(kind, at)`` index, so
the baseline is a fair one), both timed best of ``--repeat``. Every answer of ours is checked
against the naive one, series bucket by bucket and category by category: a difference
fails the run (exit status 1), whatever the timings.

The bulk path (``bench.stats_load``: indexes built after the load, rollups by one ``INSERT ...
SELECT ... GROUP BY`` per grain) is for generating data fast; in service the rollups grow
incrementally, fact by fact. At 10 million facts the load takes minutes: ``--keep PATH`` keeps
the databases, so the load can run once (``--phases facts,rollups``, under ``cpu-shared``) and
the timed queries alone after it (``--phases query``, under ``cpu-exclusive``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h3
import psycopg
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bench import stats_load
from bench.stats_load import DAYS, END
from tocsin.core.db import make_engine, make_sessionmaker
from tocsin.core.migrate import upgrade
from tocsin.stats import queries
from tocsin.stats.ingest import bucket
from tocsin.stats.registry import registry

console = Console()


# --- the queries ---------------------------------------------------------------------------

# What the naive series groups by: the plain way to write a bucket in each engine's SQL.
NAIVE_TRUNC = {
    "sqlite": {"m": "strftime('%Y-%m-%d %H:%M:00.000000', at)",
               "h": "strftime('%Y-%m-%d %H:00:00.000000', at)",
               "d": "strftime('%Y-%m-%d 00:00:00.000000', at)"},
    # In UTC whatever the server's TimeZone: the buckets are UTC minutes, hours and days.
    "postgresql": {g: f"date_trunc('{unit}', at AT TIME ZONE 'UTC')"
                   for g, unit in (("m", "minute"), ("h", "hour"), ("d", "day"))},
}


def _utc(bucket: Any) -> dt.datetime:
    """A bucket as either engine returns it (text, naive or aware), as an aware UTC datetime."""
    at = dt.datetime.fromisoformat(bucket) if isinstance(bucket, str) else bucket
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def _naive_series(session: Session, kind: str, p: queries.Period, grain: str,
                  cells: list[str] | None) -> dict[str, dict[dt.datetime, int]]:
    """Count per category and bucket straight from the facts: the answer ours must give."""
    dialect = session.get_bind().dialect.name
    trunc = NAIVE_TRUNC[dialect][grain]
    where = "kind = :kind AND at >= :start AND at < :end"
    # From the start of the first whole bucket, as the series shows it.
    params: dict[str, Any] = {"kind": kind,
                              "start": _bind(dialect, bucket(p.start, grain)),
                              "end": _bind(dialect, p.end)}
    if cells:
        where += " AND cell IN (" + ", ".join(f":c{i}" for i in range(len(cells))) + ")"
        params.update({f"c{i}": c for i, c in enumerate(cells)})
    rows = session.execute(text(f"SELECT {trunc} AS b, category, count(*) FROM stats_fact "
                                f"WHERE {where} GROUP BY b, category"), params).all()
    out: dict[str, dict[dt.datetime, int]] = {}
    for at, category, n in rows:
        line = out.setdefault(category or "all", {})
        line[_utc(at)] = line.get(_utc(at), 0) + int(n)
    return out


def _series_diff(ours: queries.Series, naive: dict[str, dict[dt.datetime, int]]) -> list[str]:
    """Every (category, bucket) whose count differs, as text; empty when the series agree."""
    mine = {cat: {_utc(b): n for b, n in zip(ours.buckets, counts, strict=True) if n}
            for cat, counts in ours.counts.items()}
    mine = {cat: line for cat, line in mine.items() if line}
    theirs = {cat: line for cat, line in naive.items() if line}
    return [f"{cat} {at.isoformat()}: ours {mine.get(cat, {}).get(at, 0)}, "
            f"facts {theirs.get(cat, {}).get(at, 0)}"
            for cat in sorted(mine.keys() | theirs.keys())
            for at in sorted(mine.get(cat, {}).keys() | theirs.get(cat, {}).keys())
            if mine.get(cat, {}).get(at, 0) != theirs.get(cat, {}).get(at, 0)]


def _naive_totals(session: Session, kind: str, p: queries.Period, by: str) -> dict[str, int]:
    dialect = session.get_bind().dialect.name
    extra = " AND cell <> ''" if by == "cell" else ""
    rows = session.execute(text(
        f"SELECT {by}, count(*) FROM stats_fact WHERE kind = :kind AND at >= :start "
        f"AND at < :end{extra} GROUP BY {by}"),
        {"kind": kind, "start": _bind(dialect, p.start), "end": _bind(dialect, p.end)}).all()
    return {key: int(n) for key, n in rows}


def _bind(dialect: str, at: dt.datetime) -> Any:
    return at.strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else at


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def run_queries(engine: Engine, repeat: int) -> list[tuple[str, float, float]]:
    """Time every dashboard query beside its naive twin; check the answers agree."""
    reg = registry()
    sos, reports = reg.kind("sos.created"), reg.kind("watch.report")
    six_hours = queries.Period(END - dt.timedelta(hours=6), END)
    week = queries.Period(END - dt.timedelta(days=7), END)
    month = queries.Period(END - dt.timedelta(days=DAYS), END)
    odd = queries.Period(END - dt.timedelta(days=12, minutes=17), END - dt.timedelta(minutes=3))
    area = queries.area_cells(h3.cell_to_parent(h3.latlng_to_cell(48.86, 2.35, 7), 5))
    results = []
    with make_sessionmaker(engine)() as session:
        def series_case(name: str, p: queries.Period, cells: list[str] | None = None) -> None:
            grain = queries.grain_for(p)
            ours_s, ours = _time(lambda: queries.series(session, sos, p, cells=cells), repeat)
            naive_s, naive = _time(
                lambda: _naive_series(session, sos.name, p, grain, cells), repeat)
            # Bucket by bucket: equal totals could hide counts put in the wrong minute or hour.
            wrong = _series_diff(ours, naive)
            if wrong:
                raise SystemExit(f"FAIL {name}: {len(wrong)} bucket(s) differ, e.g. {wrong[:3]}")
            results.append((name, ours_s, naive_s))

        def totals_case(name: str, kind: Any, p: queries.Period, by: str) -> None:
            ours_s, ours = _time(lambda: queries.totals(session, kind, p, by=by), repeat)
            naive_s, naive = _time(lambda: _naive_totals(session, kind.name, p, by), repeat)
            if {k: v[0] for k, v in ours.items()} != naive:
                raise SystemExit(f"FAIL {name}: the totals differ from the facts'")
            results.append((name, ours_s, naive_s))

        series_case("SOS per minute, last 6 h (360 buckets)", six_hours)
        series_case("SOS per hour, last 7 days (168 buckets)", week)
        series_case("SOS per day, 30 days", month)
        series_case("SOS per hour, 7 days, one area (res-5 cell)", week, area)
        totals_case("map: SOS per H3 cell, 30 days", sos, month, "cell")
        totals_case("map: SOS per H3 cell, 12 days at odd minutes", sos, odd, "cell")
        totals_case("content reports per platform, 30 days", reports, month, "detail")
        totals_case("content reports per category, 7 days", reports, week, "category")
    return results


def _pg_engine(admin_dsn: str, name: str | None) -> tuple[Engine, Callable[[], None]]:
    """Open the PostgreSQL database ``name`` (created if missing), or a fresh throwaway one."""
    keep = name is not None
    name = name or f"tocsin_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    url = f"{base}/{name}"
    upgrade(url)
    engine = make_engine(url, pool_size=2)

    def drop() -> None:
        engine.dispose()
        if not keep:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return engine, drop


def _open(engine_name: str, keep: str | None, tmp: str) -> tuple[Engine, Callable[[], None]]:
    if engine_name == "sqlite":
        path = Path(keep).with_suffix(".sqlite") if keep else Path(tmp) / "stats.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        engine = make_engine(url, pool_size=2)
        return engine, engine.dispose
    dsn = os.environ.get("TOCSIN_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    return _pg_engine(dsn, f"tocsin_bench_{Path(keep).stem}" if keep else None)


def _run_engine(engine_name: str, engine: Engine, args: argparse.Namespace,
                cells: Any) -> float:
    """Run the asked phases on one engine; return its slowest query (0 if none ran)."""
    phases = set(args.phases.split(","))
    if "facts" in phases:
        with engine.connect() as conn:
            if conn.execute(text("SELECT 1 FROM stats_fact LIMIT 1")).first():
                raise SystemExit(f"{engine_name}: the kept database already holds facts: run "
                                 f"without the facts phase, or drop it first")
    with Progress(console=console, transient=True) as progress:
        if "facts" in phases:
            load_s = stats_load.load_facts(engine, args.events, args.seed, cells, progress)
            print(f"{engine_name}: loaded {args.events:,} facts in {load_s:.0f} s; "
                  f"load average {os.getloadavg()[0]:.1f}")
        if "rollups" in phases:
            roll_s = stats_load.build_rollups(engine, progress)
            print(f"{engine_name}: counted the rollups in {roll_s:.0f} s; "
                  f"load average {os.getloadavg()[0]:.1f}")
    with engine.connect() as conn:
        facts = conn.execute(text("SELECT count(*) FROM stats_fact")).scalar()
        rollups = conn.execute(text("SELECT count(*) FROM stats_rollup")).scalar()
    print(f"\n{engine_name}: {facts:,} facts, {rollups:,} rollup rows")
    if "query" not in phases:
        return 0.0
    worst = 0.0
    print(f"  {'query':52} {'ours ms':>9} {'naive ms':>10} {'ratio':>8}")
    for name, ours, naive in run_queries(engine, args.repeat):
        worst = max(worst, ours)
        print(f"  {name:52} {ours * 1000:9.1f} {naive * 1000:10.1f} {naive / ours:7.0f}x")
    print(f"  load average {os.getloadavg()}")
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5,
                        help="best of N, for our queries and the naive ones alike")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=13_11_2015)
    parser.add_argument("--keep", metavar="PATH",
                        help="keep the databases: SQLite in PATH.sqlite, PostgreSQL in the "
                             "database tocsin_bench_<name of PATH> (created if missing)")
    parser.add_argument("--phases", default="facts,rollups,query",
                        help="what to run, comma-separated: facts (load), rollups (count them "
                             "afresh from the facts), query (time); e.g. load once with "
                             "--keep X --phases facts,rollups, then --keep X --phases query")
    args = parser.parse_args(argv)
    if set(args.phases.split(",")) - {"facts", "rollups", "query"}:
        parser.error(f"unknown phase in {args.phases!r}")
    if "facts" not in args.phases and not args.keep:
        parser.error("without the facts phase, --keep must name a database loaded before")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; load average {os.getloadavg()}")
    print(f"{args.events:,} facts over {DAYS} days; ours and naive best of {args.repeat}; "
          f"phases {args.phases}")
    cells = stats_load.cells_for(args.seed)
    registry()  # every domain's figures import now, not after a long load
    worst = 0.0
    for engine_name in args.engines.split(","):
        with tempfile.TemporaryDirectory(prefix="tocsin-bench-stats-") as tmp:
            engine, close = _open(engine_name, args.keep, tmp)
            try:
                worst = max(worst, _run_engine(engine_name, engine, args, cells))
            finally:
                close()
    if "query" in args.phases:
        print(f"\nslowest dashboard query: {worst * 1000:.1f} ms; target < 200 ms: "
              f"{'met' if worst < 0.2 else 'NOT met'}; load average {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
