"""Purge of safety marks past their expiry (a week after their check ends) and of old checks."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from tocsin.safety.models import SafetyCheck, SafetyMark
from tocsin.safety.service import CHECK_RETENTION

BATCH = 500  # rows per table per call: ``tocsin purge`` commits between calls


def purge(session: Session, *, now: dt.datetime, batch: int | None = None) -> dict[str, int]:
    """Delete one batch of expired marks, and of checks (no personal data) a year after they
    ended, with their marks first (counted with the marks)."""
    limit = batch or BATCH  # read here: a test may lower the module's BATCH
    quiet = {"synchronize_session": False}
    marks = session.execute(delete(SafetyMark).where(SafetyMark.id.in_(
        select(SafetyMark.id).where(SafetyMark.expires_at <= now).limit(limit)
    )), execution_options=quiet)
    old = now - CHECK_RETENTION
    old_checks = select(SafetyCheck.id).where(SafetyCheck.ends_at <= old)
    of_old_checks = session.execute(delete(SafetyMark).where(SafetyMark.id.in_(
        select(SafetyMark.id).where(SafetyMark.check_id.in_(old_checks)).limit(limit)
    )), execution_options=quiet)
    # A check goes once its marks are gone (a check with more marks than a batch: a later one).
    no_marks = ~exists().where(SafetyMark.check_id == SafetyCheck.id)
    checks = session.execute(delete(SafetyCheck).where(SafetyCheck.id.in_(
        old_checks.where(no_marks).limit(limit)
    )), execution_options=quiet)
    return {"safety_mark": _n(marks) + _n(of_old_checks), "safety_check": _n(checks)}


def _n(result: object) -> int:
    return int(result.rowcount)  # type: ignore[attr-defined]
