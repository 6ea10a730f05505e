"""Purge of the cyber desk's personal data past retention (run by ``tocsin purge``).

A report's free text, the contact of an anonymous reporter and the evidence files expire
``reports.PERSONAL_DAYS`` after the report; the report's statistical skeleton (type, sector,
size, region, dates, impact) stays, naming no one. Expired subscriptions go with their mails and
pushes; mails the relay has sent are kept a week; TAXII status resources a month.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from tocsin.cyber.models import (
    CyberEvidence,
    CyberIncident,
    CyberMailOutbox,
    CyberSubscription,
    CyberTaxiiStatus,
)

SENT_MAIL_KEPT = dt.timedelta(days=7)
STATUS_KEPT = dt.timedelta(days=30)


def _n(result: object) -> int:
    return int(result.rowcount)  # type: ignore[attr-defined]


def purge(session: Session, now: dt.datetime) -> dict[str, int]:
    """Delete or blank what has expired; return counts per table."""
    evidence = session.execute(delete(CyberEvidence).where(CyberEvidence.expires_at <= now))
    reports = session.execute(
        update(CyberIncident)
        .where(CyberIncident.personal_expires_at <= now)
        .values(description=None, contact=None, personal_expires_at=None))
    subscriptions = session.execute(
        delete(CyberSubscription).where(CyberSubscription.expires_at <= now))
    mails = session.execute(delete(CyberMailOutbox).where(
        CyberMailOutbox.sent_at.is_not(None), CyberMailOutbox.sent_at <= now - SENT_MAIL_KEPT))
    statuses = session.execute(delete(CyberTaxiiStatus).where(
        CyberTaxiiStatus.created_at <= now - STATUS_KEPT))
    return {
        "cyber_evidence": _n(evidence),
        "cyber_incident_personal": _n(reports),
        "cyber_subscription": _n(subscriptions),
        "cyber_mail_outbox": _n(mails),
        "cyber_taxii_status": _n(statuses),
    }
