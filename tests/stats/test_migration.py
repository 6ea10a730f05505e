"""Migrations ``20261202_stats_ten_minutes`` and ``20261202_stats_cell`` on a database that has
minute rollups but no facts (purged): the ten-minute rows and ``stats_cell`` are summed from the
kept rollups, on SQLite and PostgreSQL alike, and the downgrade removes them again."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import sqlalchemy as sa
from alembic import command

from tocsin.core.db import UTCDateTime, make_engine
from tocsin.core.migrate import alembic_config, upgrade

BEFORE = "20261123_stats"
T0 = dt.datetime(2026, 11, 13, 21, 0, tzinfo=dt.UTC)
ROLLUP = sa.table("stats_rollup", sa.column("kind", sa.String()), sa.column("grain", sa.String()),
                  sa.column("cell", sa.String()), sa.column("bucket", UTCDateTime()),
                  sa.column("category", sa.String()), sa.column("detail", sa.String()),
                  sa.column("n", sa.BigInteger()), sa.column("total", sa.Float()))




def test_ten_minute_rows_and_cells_come_from_the_minute_rollups(fresh_url: str) -> None:
    upgrade(fresh_url, BEFORE)
    rng = random.Random(5)
    rows = {}
    for _ in range(300):
        key = ("sos.created", "m", rng.choice(["", "871fb4662ffffff", "871fb4670ffffff"]),
               T0 + dt.timedelta(minutes=rng.randrange(90)), rng.choice(["attack", "hidden"]),
               "")
        rows[key] = rng.randrange(1, 9)
    engine = make_engine(fresh_url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(ROLLUP.insert(), [
            {"kind": k[0], "grain": k[1], "cell": k[2], "bucket": k[3], "category": k[4],
             "detail": k[5], "n": n, "total": 0.5 * n} for k, n in rows.items()])
    upgrade(fresh_url)
    ten: Counter[tuple[str, dt.datetime, str]] = Counter()
    cells: Counter[tuple[str, dt.datetime, str]] = Counter()
    for (_kind, _grain, cell, at, category, _detail), n in rows.items():
        start = at.replace(minute=at.minute // 10 * 10)
        ten[(cell, start, category)] += n
        if cell:
            cells[("m", at, cell)] += n
            cells[("t", start, cell)] += n
    with engine.connect() as conn:
        got = conn.execute(sa.select(ROLLUP.c.cell, ROLLUP.c.bucket, ROLLUP.c.category,
                                     ROLLUP.c.n, ROLLUP.c.total).where(ROLLUP.c.grain == "t"))
        got_rows = got.all()
        assert {(c, b, cat): n for c, b, cat, n, _t in got_rows} == dict(ten)
        assert all(t == 0.5 * n for *_k, n, t in got_rows)
        cell_rows = conn.execute(sa.text("SELECT grain, bucket, cell, n FROM stats_cell")).all()
    assert {(g, UTCDateTime().process_result_value(
        dt.datetime.fromisoformat(b) if isinstance(b, str) else b, engine.dialect), c): n
        for g, b, c, n in cell_rows} == dict(cells)
    command.downgrade(alembic_config(fresh_url), BEFORE)
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(ROLLUP).where(
            ROLLUP.c.grain == "t")) == 0
        assert not sa.inspect(conn).has_table("stats_cell")
    engine.dispose()
