"""Figures the safety domain contributes to the observatory (contract: ``tocsin.core.figures``).

One fact per mark ("safe" / "need_help"), at its first marking, in the mark's coarse cell (the
mark keeps its position sealed; the cell is all the map needs). Marks announce no event (only
help requests do), so the periodic sweep brings them in.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core.bus import Event
from tocsin.core.figures import Fact, Kind
from tocsin.safety.models import SafetyCheck, SafetyMark

KINDS = (
    Kind("safety.mark", "Marquages « en sécurité » / « besoin d'aide »",
         "Safety marks (safe / need help)", categories=("safe", "need_help"), mapped=True,
         watch=True),
    Kind("safety.check", "Contrôles de sécurité activés", "Safety checks activated"),
)
SUBJECTS: tuple[str, ...] = ()


def from_event(session: Session, event: Event) -> list[Fact]:
    """No event is consumed (marks are swept from the table)."""
    return []


def from_tables(session: Session, start: dt.datetime, end: dt.datetime) -> list[Fact]:
    """Return marks made and checks activated in ``[start, end)``."""
    facts = [
        Fact("safety.mark", str(r.id), r.marked_at, category=r.status, cell=r.cell)
        for r in session.execute(
            select(SafetyMark.id, SafetyMark.marked_at, SafetyMark.status, SafetyMark.cell)
            .where(SafetyMark.marked_at >= start, SafetyMark.marked_at < end))
    ]
    facts += [
        Fact("safety.check", str(r.id), r.starts_at)
        for r in session.execute(select(SafetyCheck.id, SafetyCheck.starts_at).where(
            SafetyCheck.starts_at >= start, SafetyCheck.starts_at < end))
    ]
    return facts
