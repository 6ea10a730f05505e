"""stats: a ten-minute grain ('t') in the rollups, counted from the minute rollups

``queries.totals`` covers a period cut at odd minutes with whole days, hours, ten minutes and
minutes; before this grain its edges read up to 59 minute buckets on each side, which in a
burst hold nearly one row per fact (per cell and category). The new rows are summed from the
minute rows already there, not from the facts: the facts are purged after their retention and
the rollups are not, so this is exact for every period the rollups cover. No schema change
(``grain`` is a one-letter column); the downgrade deletes the rows.

Run it with the workers stopped or restarted on the new code: a worker of the previous version
would add facts to the minute rows without their ten-minute rows.

Revision ID: 20261202_stats_ten_minutes
Revises: 20261123_stats
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '20261202_stats_ten_minutes'
down_revision: str | Sequence[str] | None = '20261123_stats'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The start of the ten minutes holding a minute bucket. SQLite stores a timestamp as the text
# 'YYYY-MM-DD HH:MM:SS.ffffff': the ten minutes are its first 15 characters and '0:00.000000'.
TEN_MINUTES = {
    "sqlite": "substr(bucket, 1, 15) || '0:00.000000'",
    "postgresql": "date_bin('10 minutes', bucket, timestamptz '2000-01-01 00:00:00+00')",
}


def upgrade() -> None:
    bind = op.get_bind()
    start = TEN_MINUTES[bind.dialect.name]
    # Counted afresh (a database whose ten-minute rows were built otherwise gets them right).
    bind.exec_driver_sql("DELETE FROM stats_rollup WHERE grain = 't'")
    # exec_driver_sql: the ':00' of the SQLite expression is not a bound parameter. Only the
    # constant expressions above are formatted in.
    bind.exec_driver_sql(
        "INSERT INTO stats_rollup (kind, grain, cell, bucket, category, detail, n, total) "  # noqa: S608
        f"SELECT kind, 't', cell, {start}, category, detail, sum(n), sum(total) "
        f"FROM stats_rollup WHERE grain = 'm' GROUP BY kind, cell, {start}, category, detail")


def downgrade() -> None:
    op.execute("DELETE FROM stats_rollup WHERE grain = 't'")
