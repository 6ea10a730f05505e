"""Purge of old facts and notices; the rollups (anonymous counts) stay.

A fact holds the id of what it counted (an SOS id, a report id): a link back to records that
are themselves purged within weeks. Facts are kept ``fact_retention_days`` (400 by default:
enough for a yearly transparency report and its comparison), then only the rollups remain.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tocsin.stats.config import StatsSettings
from tocsin.stats.models import StatsFact, StatsNotice

BATCH = 1000  # rows per table per call: ``tocsin purge`` commits between calls


def purge(session: Session, *, now: dt.datetime, batch: int | None = None) -> dict[str, int]:
    """Delete one batch of facts and notices older than the retention."""
    limit = batch or BATCH  # read here: a test may lower the module's BATCH
    cutoff = now - dt.timedelta(days=StatsSettings().fact_retention_days)
    facts = session.execute(delete(StatsFact).where(StatsFact.id.in_(
        select(StatsFact.id).where(StatsFact.at < cutoff).limit(limit))),
        execution_options={"synchronize_session": False})
    notices = session.execute(delete(StatsNotice).where(StatsNotice.id.in_(
        select(StatsNotice.id).where(StatsNotice.raised_at < cutoff).limit(limit))),
        execution_options={"synchronize_session": False})
    return {
        "stats_fact": int(facts.rowcount),  # type: ignore[attr-defined]
        "stats_notice": int(notices.rowcount),  # type: ignore[attr-defined]
    }
