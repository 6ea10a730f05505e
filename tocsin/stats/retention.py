"""Purge of old facts and notices; the rollups (anonymous counts) stay.

A fact holds the id of what it counted (an SOS id, a report id): a link back to records that
are themselves purged within weeks. Facts are kept ``fact_retention_days`` (400 by default:
enough for a yearly transparency report and its comparison), then only the rollups remain.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.orm import Session

from tocsin.stats.config import StatsSettings
from tocsin.stats.models import StatsFact, StatsNotice


def purge(session: Session, now: dt.datetime) -> dict[str, int]:
    """Delete facts and notices older than the retention."""
    cutoff = now - dt.timedelta(days=StatsSettings().fact_retention_days)
    facts = session.execute(delete(StatsFact).where(StatsFact.at < cutoff))
    notices = session.execute(delete(StatsNotice).where(StatsNotice.raised_at < cutoff))
    return {
        "stats_fact": int(facts.rowcount),  # type: ignore[attr-defined]
        "stats_notice": int(notices.rowcount),  # type: ignore[attr-defined]
    }
