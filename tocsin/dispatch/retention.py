"""Retention of dispatch data (run by ``tocsin purge``).

An incident copies the positions of its SOS; it goes ``TOCSIN_DISPATCH_RETENTION_DAYS`` after
it was closed or merged (or ``TOCSIN_DISPATCH_OPEN_EXPIRY_DAYS`` after its last SOS if nobody
closed it), with its SOS links and assignments. Units are staff resources and stay.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from tocsin.dispatch.config import DispatchConfig
from tocsin.dispatch.models import DispatchAssignment, DispatchIncident, DispatchIncidentSos

BATCH = 500  # incidents per call: ``tocsin purge`` commits between calls


def purge(
    session: Session, *, now: dt.datetime, batch: int | None = None,
    settings: DispatchConfig | None = None,
) -> dict[str, int]:
    """Delete one batch of incidents past retention with their SOS links and assignments;
    count per table."""
    limit = batch or BATCH  # read here: a test may lower the module's BATCH
    cfg = settings or DispatchConfig.from_env()
    closed_before = now - dt.timedelta(days=cfg.retention_days)
    stale_before = now - dt.timedelta(days=cfg.open_expiry_days)
    ids = list(session.scalars(select(DispatchIncident.id).where(or_(
        and_(DispatchIncident.status != "open", DispatchIncident.closed_at < closed_before),
        DispatchIncident.last_sos_at < stale_before,
    )).limit(limit)))
    counts = {"dispatch_incident": 0, "dispatch_incident_sos": 0, "dispatch_assignment": 0}
    for start in range(0, len(ids), 500):  # within SQLite's parameter limit
        chunk = ids[start : start + 500]
        for table, key in ((DispatchIncidentSos, "dispatch_incident_sos"),
                           (DispatchAssignment, "dispatch_assignment")):
            result = session.execute(delete(table).where(table.incident_id.in_(chunk)))
            counts[key] += int(result.rowcount)  # type: ignore[attr-defined]
        session.execute(delete(DispatchIncident).where(DispatchIncident.id.in_(chunk)))
        counts["dispatch_incident"] += len(chunk)
    return counts
