"""Retention of SOS data (run by ``tocsin purge``): nothing personal is kept past its purpose.

A closed SOS (with its sealed text, chat and trail, removed by ``ON DELETE CASCADE``) goes
``TOCSIN_SOS_RETENTION_DAYS`` after it was closed; an SOS never closed goes
``TOCSIN_SOS_OPEN_EXPIRY_DAYS`` after it was received, so a forgotten one does not stay forever.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from tocsin.sos.config import SosSettings
from tocsin.sos.models import Sos, SosMessage, SosPosition

BATCH = 500  # SOS per call: ``tocsin purge`` commits between calls


def purge(
    session: Session, *, now: dt.datetime, batch: int | None = None,
    settings: SosSettings | None = None,
) -> dict[str, int]:
    """Delete one batch of SOS past retention with their chat and trail; count per table."""
    limit = batch or BATCH  # read here: a test may lower the module's BATCH
    cfg = settings or SosSettings()
    closed_before = now - dt.timedelta(days=cfg.retention_days)
    received_before = now - dt.timedelta(days=cfg.open_expiry_days)
    expired = select(Sos.id).where(
        or_(
            and_(Sos.status == "closed", Sos.closed_at < closed_before),
            Sos.received_at < received_before,
        )
    )
    ids = list(session.scalars(expired.limit(limit)))
    counts = {"sos": 0, "sos_message": 0, "sos_position": 0}
    # Chunks keep the IN lists within SQLite's parameter limit.
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for table, key in ((SosMessage, "sos_message"), (SosPosition, "sos_position")):
            counts[key] += int(
                session.scalar(
                    select(func.count()).select_from(table).where(table.sos_id.in_(chunk))
                )
                or 0
            )
            # Explicit deletes, not only the cascade: it also holds where foreign keys are off.
            session.execute(delete(table).where(table.sos_id.in_(chunk)))
        session.execute(delete(Sos).where(Sos.id.in_(chunk)))
        counts["sos"] += len(chunk)
    return counts
