"""Purge of the cyber desk's personal data past retention (run by ``tocsin purge``).

A report's free text, the contact of an anonymous reporter and the evidence files expire
``reports.PERSONAL_DAYS`` after the report; the report's statistical skeleton (type, sector,
size, region, dates, impact) stays, naming no one. Expired subscriptions go with their mails and
pushes; mails the relay has sent are kept a week; TAXII status resources a month.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session

from tocsin.core.db import Base
from tocsin.cyber.models import (
    CyberEvidence,
    CyberIncident,
    CyberMailOutbox,
    CyberSubscription,
    CyberTaxiiStatus,
)

SENT_MAIL_KEPT = dt.timedelta(days=7)
STATUS_KEPT = dt.timedelta(days=30)
BATCH = 500  # rows per table per call: ``tocsin purge`` commits between calls


def _n(result: object) -> int:
    return int(result.rowcount)  # type: ignore[attr-defined]


def _first(limit: int, model: type[Base], *where: ColumnElement[bool]) -> ColumnElement[bool]:
    """The first ``limit`` rows of ``model`` matching ``where``."""
    ident = model.id  # type: ignore[attr-defined]
    return ident.in_(select(ident).where(*where).limit(limit))  # type: ignore[no-any-return]


def purge(session: Session, *, now: dt.datetime, batch: int | None = None) -> dict[str, int]:
    """Delete or blank one batch of what has expired; return counts per table."""
    limit = batch or BATCH  # read here: a test may lower the module's BATCH
    quiet = {"synchronize_session": False}
    evidence = session.execute(
        delete(CyberEvidence).where(_first(limit, CyberEvidence, CyberEvidence.expires_at <= now)),
        execution_options=quiet)
    reports = session.execute(
        update(CyberIncident)
        .where(_first(limit, CyberIncident, CyberIncident.personal_expires_at <= now))
        .values(description=None, contact=None, personal_expires_at=None),
        execution_options=quiet)
    subscriptions = session.execute(delete(CyberSubscription).where(
        _first(limit, CyberSubscription, CyberSubscription.expires_at <= now)),
        execution_options=quiet)
    mails = session.execute(delete(CyberMailOutbox).where(_first(
        limit, CyberMailOutbox,
        CyberMailOutbox.sent_at.is_not(None), CyberMailOutbox.sent_at <= now - SENT_MAIL_KEPT,
    )), execution_options=quiet)
    statuses = session.execute(delete(CyberTaxiiStatus).where(
        _first(limit, CyberTaxiiStatus, CyberTaxiiStatus.created_at <= now - STATUS_KEPT)),
        execution_options=quiet)
    return {
        "cyber_evidence": _n(evidence),
        "cyber_incident_personal": _n(reports),
        "cyber_subscription": _n(subscriptions),
        "cyber_mail_outbox": _n(mails),
        "cyber_taxii_status": _n(statuses),
    }
