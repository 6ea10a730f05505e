"""Purge of safety marks past their expiry (a week after their check ends) and of old checks."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.orm import Session

from tocsin.safety.models import SafetyCheck, SafetyMark
from tocsin.safety.service import CHECK_RETENTION


def purge(session: Session, now: dt.datetime) -> dict[str, int]:
    """Delete expired marks, and checks (no personal data) a year after they ended."""
    marks = session.execute(delete(SafetyMark).where(SafetyMark.expires_at <= now))
    old = now - CHECK_RETENTION
    session.execute(
        delete(SafetyMark).where(
            SafetyMark.check_id.in_(
                SafetyCheck.__table__.select().with_only_columns(SafetyCheck.id)
                .where(SafetyCheck.ends_at <= old)
            )
        )
    )
    checks = session.execute(delete(SafetyCheck).where(SafetyCheck.ends_at <= old))
    return {
        "safety_mark": int(marks.rowcount),  # type: ignore[attr-defined]
        "safety_check": int(checks.rowcount),  # type: ignore[attr-defined]
    }
