"""Generated facts for ``bench.stats``, bulk-loaded, and the rollups counted from them in SQL.

Loading is split in two steps so a kept database can be reused: ``load_facts`` (the long part:
10 million facts take minutes to half an hour on a shared machine) and ``build_rollups`` (every
grain of ``tocsin.stats.ingest.GRAINS`` counted from the facts by one ``INSERT ... SELECT ...
GROUP BY`` per grain and shape, then ``stats_cell`` summed from them). In service the rollups
grow fact by fact through ``tocsin.stats.ingest.store``; this bulk path only makes data fast.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import h3
import numpy as np
from rich.progress import Progress
from sqlalchemy import Engine, text

from tocsin.stats.ingest import GRAINS

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
_CHUNK = 200_000


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


def cells_for(seed: int) -> np.ndarray:
    """Return ~3,000 positions of greater Paris as resolution-7 H3 cells (denser at the centre)."""
    rng = np.random.default_rng(seed)
    lat = rng.normal(48.86, 0.06, 3000).clip(BOX[0], BOX[2])
    lon = rng.normal(2.35, 0.09, 3000).clip(BOX[1], BOX[3])
    return np.array([h3.latlng_to_cell(a, b, 7) for a, b in zip(lat, lon, strict=True)])


# The start of a fact's bucket per grain, in each engine's SQL. SQLite stores a timestamp as the
# text 'YYYY-MM-DD HH:MM:SS.ffffff', so a bucket is a prefix of it and a constant tail.
ROLLUP_SQL = {
    "sqlite": {"m": "substr(at, 1, 16) || ':00.000000'",
               "t": "substr(at, 1, 15) || '0:00.000000'",
               "h": "substr(at, 1, 13) || ':00:00.000000'",
               "d": "substr(at, 1, 10) || ' 00:00:00.000000'"},
    "postgresql": {"m": "date_trunc('minute', at)",
                   "t": "date_bin('10 minutes', at, timestamptz '2000-01-01 00:00:00+00')",
                   "h": "date_trunc('hour', at)", "d": "date_trunc('day', at)"},
}


def load_facts(engine: Engine, n: int, seed: int, cells: np.ndarray, progress: Progress) -> float:
    """Bulk-load n facts (indexes built after the load); return the seconds it took."""
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
        for start, stop in _chunks(n, _CHUNK):
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
    task = progress.add_task(f"{dialect}: fact indexes", total=2)
    with engine.begin() as conn:
        if dialect == "postgresql":
            conn.execute(text("SET maintenance_work_mem = '512MB'"))
        conn.execute(text("CREATE INDEX ix_stats_fact_kind_at ON stats_fact (kind, at)"))
        progress.advance(task)
        conn.execute(text("CREATE UNIQUE INDEX uq_stats_fact_kind_key ON stats_fact (kind, key)"))
        progress.advance(task)
    return time.perf_counter() - started


def build_rollups(engine: Engine, progress: Progress) -> float:
    """Count every grain of the rollups afresh from the stored facts; return the seconds."""
    dialect = engine.dialect.name
    started = time.perf_counter()
    task = progress.add_task(f"{dialect}: rollups", total=2 * len(GRAINS) + 1)
    # stats_cell (the map's per-cell rows over all categories) is the sum of the per-cell rollups.
    with engine.begin() as conn:
        if dialect == "postgresql":
            conn.execute(text("SET TIME ZONE 'UTC'"))
            conn.execute(text("SET work_mem = '256MB'"))
            conn.execute(text("TRUNCATE stats_rollup, stats_cell"))
        else:
            conn.execute(text("DELETE FROM stats_rollup"))
            conn.execute(text("DELETE FROM stats_cell"))
        for grain in GRAINS:
            trunc = ROLLUP_SQL[dialect][grain]
            conn.exec_driver_sql(
                f"INSERT INTO stats_rollup (kind, grain, cell, bucket, category, detail, n, total) "
                f"SELECT kind, '{grain}', '', {trunc}, category, detail, count(*), "
                f"coalesce(sum(value), 0) FROM stats_fact "
                f"GROUP BY kind, {trunc}, category, detail")
            progress.advance(task)
            conn.exec_driver_sql(
                f"INSERT INTO stats_rollup (kind, grain, cell, bucket, category, detail, n, total) "
                f"SELECT kind, '{grain}', cell, {trunc}, category, '', count(*), "
                f"coalesce(sum(value), 0) FROM stats_fact WHERE cell <> '' "
                f"GROUP BY kind, cell, {trunc}, category")
            progress.advance(task)
        conn.execute(text(
            "INSERT INTO stats_cell (kind, grain, bucket, cell, n, total) "
            "SELECT kind, grain, bucket, cell, sum(n), sum(total) FROM stats_rollup "
            "WHERE cell <> '' GROUP BY kind, grain, bucket, cell"))
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    progress.advance(task)
    return time.perf_counter() - started
