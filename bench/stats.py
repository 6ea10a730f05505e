"""Benchmark of the observatory's dashboard queries (issue 9): ``python -m bench.stats``.

Generates N facts (default 10,000,000) over 30 days in greater Paris (SOS, content reports,
safety marks, alert deliveries), bulk-loads them into a fresh SQLite file and a fresh PostgreSQL
database (``TOCSIN_BENCH_PG``, default the local server; skipped with ``--engines sqlite``),
builds the rollups, then times each dashboard query the way the dashboard runs it (the
``tocsin.stats.queries`` functions over ``stats_rollup``) beside the naive query: the same
answer by ``GROUP BY`` over the raw ``stats_fact`` table (which has its ``(kind, at)`` index, so
the baseline is a fair one). Every answer of ours is checked equal to the naive one.

The bulk path (indexes built after the load, rollups by one ``INSERT ... SELECT ... GROUP BY``
per grain) is for generating data fast; in service the rollups grow incrementally, fact by fact.
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
import numpy as np
import psycopg
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from tocsin.core.db import make_engine, make_sessionmaker
from tocsin.core.migrate import upgrade
from tocsin.stats import queries
from tocsin.stats.registry import registry

console = Console()
END = dt.datetime(2026, 11, 14, 0, 0, tzinfo=dt.UTC)
DAYS = 30
BOX = (48.70, 2.08, 49.02, 2.62)
KINDS = {  # kind: (share, categories, details, mapped)
    "sos.created": (0.4, ("attack", "hidden", "injured", "armed_person", "hostage", "fire",
                          "other"), (), True),
    "watch.report": (0.3, ("terrorism_apology", "call_to_violence", "hate", "other"),
                     ("bigsocial", "tinyvideo", "microblog", "forum", "chat"), False),
    "safety.mark": (0.15, ("safe", "need_help"), (), True),
    "alerts.delivered": (0.15, ("push", "webhook"), (), False),
}
COLUMNS = ("kind", "key", "at", "category", "detail", "cell", "value")


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(i, min(n, i + size)) for i in range(0, n, size)]


def generate(start: int, stop: int, seed: int, cells: np.ndarray) -> list[tuple[Any, ...]]:
    """Return facts ``start..stop`` (deterministic for a seed) as row tuples."""
    rng = np.random.default_rng(seed + start)
    n = stop - start
    names = list(KINDS)
    kind_ix = rng.choice(len(names), n, p=[KINDS[k][0] for k in names])
    offsets = rng.integers(0, DAYS * 86400, n)
    # A few bursts: some hours get ten times the traffic (what an attack evening looks like).
    burst = rng.random(n) < 0.05
    offsets[burst] = (DAYS - 1) * 86400 + 21 * 3600 + rng.integers(0, 3 * 3600, int(burst.sum()))
    base = np.datetime64(END.replace(tzinfo=None) - dt.timedelta(days=DAYS), "s")
    stamps = np.datetime_as_string(base + offsets.astype("timedelta64[s]"), unit="us")
    cell_ix = rng.integers(0, len(cells), n)
    pick = rng.random(n)
    values = rng.gamma(2.0, 3.0, n).round(1)
    rows = []
    for i in range(n):
        kind = names[kind_ix[i]]
        _share, cats, details, mapped = KINDS[kind]
        rows.append((
            kind, str(start + i), stamps[i].replace("T", " "),
            cats[int(pick[i] * len(cats))], details[int(pick[i] * 7919) % len(details)]
            if details else "", cells[cell_ix[i]] if mapped else "",
            float(values[i]) if kind == "alerts.delivered" else None,
        ))
    return rows


def _cells(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lat = rng.normal(48.86, 0.06, 3000).clip(BOX[0], BOX[2])
    lon = rng.normal(2.35, 0.09, 3000).clip(BOX[1], BOX[3])
    return np.array([h3.latlng_to_cell(a, b, 7) for a, b in zip(lat, lon, strict=True)])


# --- loading -------------------------------------------------------------------------------

ROLLUP_SQL = {
    "sqlite": {"m": "strftime('%Y-%m-%d %H:%M:00.000000', at)",
               "h": "strftime('%Y-%m-%d %H:00:00.000000', at)",
               "d": "strftime('%Y-%m-%d 00:00:00.000000', at)"},
    "postgresql": {"m": "date_trunc('minute', at)", "h": "date_trunc('hour', at)",
                   "d": "date_trunc('day', at)"},
}


def load(engine: Engine, n: int, seed: int, cells: np.ndarray, progress: Progress) -> float:
    """Bulk-load n facts and build the rollups; return the seconds it took."""
    dialect = engine.dialect.name
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX IF EXISTS ix_stats_fact_kind_at"))
        if dialect == "sqlite":
            conn.execute(text("DROP INDEX IF EXISTS uq_stats_fact_kind_key"))
        else:
            conn.execute(text("ALTER TABLE stats_fact DROP CONSTRAINT uq_stats_fact_kind_key"))
    task = progress.add_task(f"{dialect}: facts", total=n)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if dialect == "sqlite":
            cur.execute("PRAGMA synchronous=OFF")
        for start, stop in _chunks(n, 200_000):
            rows = generate(start, stop, seed, cells)
            if dialect == "sqlite":
                cur.executemany("INSERT INTO stats_fact (kind, key, at, category, detail, cell, "
                                "value) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            else:
                with cur.copy("COPY stats_fact (kind, key, at, category, detail, cell, value) "
                              "FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row((*row[:2], row[2] + "+00", *row[3:]))
            raw.commit()
            progress.advance(task, stop - start)
        if dialect == "sqlite":
            cur.execute("PRAGMA synchronous=FULL")
    finally:
        raw.close()
    task = progress.add_task(f"{dialect}: indexes and rollups", total=7)
    with engine.begin() as conn:
        if dialect == "postgresql":
            conn.execute(text("SET TIME ZONE 'UTC'"))
            conn.execute(text("SET maintenance_work_mem = '512MB'"))
            conn.execute(text("SET work_mem = '256MB'"))
        conn.execute(text("CREATE INDEX ix_stats_fact_kind_at ON stats_fact (kind, at)"))
        progress.advance(task)
        conn.execute(text("CREATE UNIQUE INDEX uq_stats_fact_kind_key ON stats_fact (kind, key)"))
        progress.advance(task)
        for grain, trunc in ROLLUP_SQL[dialect].items():
            conn.execute(text(
                f"INSERT INTO stats_rollup (kind, grain, cell, bucket, category, detail, n, total) "
                f"SELECT kind, '{grain}', '', {trunc}, category, detail, count(*), "
                f"coalesce(sum(value), 0) FROM stats_fact "
                f"GROUP BY kind, {trunc}, category, detail"))
            progress.advance(task)
            conn.execute(text(
                f"INSERT INTO stats_rollup (kind, grain, cell, bucket, category, detail, n, total) "
                f"SELECT kind, '{grain}', cell, {trunc}, category, '', count(*), "
                f"coalesce(sum(value), 0) FROM stats_fact WHERE cell <> '' "
                f"GROUP BY kind, cell, {trunc}, category"))
            progress.advance(task)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    progress.advance(task)
    return time.perf_counter() - started


# --- the queries ---------------------------------------------------------------------------


def _naive_series(session: Session, kind: str, p: queries.Period, grain: str,
                  cells: list[str] | None) -> dict[str, int]:
    dialect = session.get_bind().dialect.name
    trunc = ROLLUP_SQL[dialect][grain]
    where = "kind = :kind AND at >= :start AND at < :end"
    params: dict[str, Any] = {"kind": kind, "start": _bind(dialect, p.start),
                              "end": _bind(dialect, p.end)}
    if cells:
        where += " AND cell IN (" + ", ".join(f":c{i}" for i in range(len(cells))) + ")"
        params.update({f"c{i}": c for i, c in enumerate(cells)})
    rows = session.execute(text(f"SELECT {trunc} AS b, category, count(*) FROM stats_fact "
                                f"WHERE {where} GROUP BY b, category"), params).all()
    out: dict[str, int] = {}
    for _b, category, n in rows:
        out[category] = out.get(category, 0) + int(n)
    return out


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
            naive_s, naive = _time(lambda: _naive_series(session, sos.name, p, grain, cells), 1)
            totals = {k: sum(v) for k, v in ours.counts.items()}
            assert totals == naive, f"{name}: {totals} != {naive}"
            results.append((name, ours_s, naive_s))

        def totals_case(name: str, kind: Any, p: queries.Period, by: str) -> None:
            ours_s, ours = _time(lambda: queries.totals(session, kind, p, by=by), repeat)
            naive_s, naive = _time(lambda: _naive_totals(session, kind.name, p, by), 1)
            assert {k: v[0] for k, v in ours.items()} == naive, f"{name}: answers differ"
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


def _pg_engine(admin_dsn: str) -> tuple[Engine, Callable[[], None]]:
    name = f"tocsin_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    url = f"{base}/{name}"
    upgrade(url)
    engine = make_engine(url, pool_size=2)

    def drop() -> None:
        engine.dispose()
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return engine, drop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="best of N for our queries")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=13_11_2015)
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; load average {os.getloadavg()}")
    print(f"{args.events:,} facts over {DAYS} days; ours best of {args.repeat}, naive once")
    cells = _cells(args.seed)
    registry()  # every domain's figures import now, not after a long load
    worst = 0.0
    for engine_name in args.engines.split(","):
        drop: Callable[[], None] = lambda: None  # noqa: E731
        with tempfile.TemporaryDirectory(prefix="tocsin-bench-stats-") as tmp:
            if engine_name == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'stats.db'}"
                upgrade(url)
                engine = make_engine(url, pool_size=2)
                drop = engine.dispose
            else:
                dsn = os.environ.get("TOCSIN_BENCH_PG",
                                     "postgresql://postgres@127.0.0.1:5432/postgres")
                engine, drop = _pg_engine(dsn)
            try:
                with Progress(console=console, transient=True) as progress:
                    load_s = load(engine, args.events, args.seed, cells, progress)
                with engine.connect() as conn:
                    rollups = conn.execute(text("SELECT count(*) FROM stats_rollup")).scalar()
                print(f"\n{engine_name}: loaded {args.events:,} facts and {rollups:,} rollup "
                      f"rows in {load_s:.0f} s; load average {os.getloadavg()[0]:.1f}")
                print(f"  {'query':52} {'ours ms':>9} {'naive ms':>10} {'ratio':>8}")
                for name, ours, naive in run_queries(engine, args.repeat):
                    worst = max(worst, ours)
                    print(f"  {name:52} {ours * 1000:9.1f} {naive * 1000:10.1f} "
                          f"{naive / ours:7.0f}x")
            finally:
                drop()
    print(f"\nslowest dashboard query: {worst * 1000:.1f} ms; target < 200 ms: "
          f"{'met' if worst < 0.2 else 'NOT met'}; load average {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
