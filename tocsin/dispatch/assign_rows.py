"""Assignment rows and their conditional moves, shared by the offer flow and the units' answers.

Every unit transition is a conditional UPDATE (``WHERE status = <expected>``): whichever worker
or thread gets rowcount 1 wins, the other sees 0 and moves on (or answers 409).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from tocsin.core.errors import Conflict, NotFound
from tocsin.core.outbox import add_event
from tocsin.dispatch import events, units
from tocsin.dispatch.models import DispatchAssignment, DispatchUnit

LIVE = ("offered", "accepted", "on_scene")


def _rows(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def assignment_event_data(assignment: DispatchAssignment, callsign: str) -> dict[str, Any]:
    """Return the public state of an assignment, as ``assignment.*`` events carry it."""
    return {
        "assignment_id": assignment.id,
        "incident_id": assignment.incident_id,
        "unit_id": assignment.unit_id,
        "callsign": callsign,
        "status": assignment.status,
        "rank": assignment.rank,
        "distance_m": round(assignment.distance_m, 1),
        "eta_s": round(assignment.eta_s, 1),
        "offered_at": assignment.offered_at.isoformat(),
        "deadline_at": assignment.deadline_at.isoformat() if assignment.deadline_at else None,
    }


def announce_assignment(
    session: Session, assignment: DispatchAssignment, unit: DispatchUnit
) -> None:
    """Queue ``assignment.<status>`` and the unit's new state."""
    add_event(
        session,
        events.assignment_subject(assignment.status),
        assignment_event_data(assignment, unit.callsign),
    )
    units.announce(session, unit)


def live_assignments(session: Session, *, incident_id: str) -> list[DispatchAssignment]:
    """Return the incident's offers and assignments still in force."""
    return list(
        session.scalars(
            select(DispatchAssignment).where(
                DispatchAssignment.incident_id == incident_id,
                DispatchAssignment.status.in_(LIVE),
            )
        )
    )


def assignments_of(session: Session, *, incident_id: str) -> list[DispatchAssignment]:
    """Return every assignment of an incident, oldest first."""
    return list(
        session.scalars(
            select(DispatchAssignment)
            .where(DispatchAssignment.incident_id == incident_id)
            .order_by(DispatchAssignment.offered_at, DispatchAssignment.rank)
        )
    )


def get_assignment(session: Session, *, assignment_id: str) -> DispatchAssignment:
    """Return the assignment or raise ``NotFound``."""
    assignment = session.get(DispatchAssignment, assignment_id)
    if assignment is None:
        raise NotFound(f"no assignment {assignment_id!r}")
    return assignment


def take_unit(
    session: Session, *, unit_id: str, incident_id: str, to_status: str, now: dt.datetime
) -> DispatchUnit | None:
    """Take an available unit for an incident; None if another worker got it first."""
    taken = _rows(
        session.execute(
            update(DispatchUnit)
            .where(DispatchUnit.id == unit_id, DispatchUnit.status == "available")
            .values(status=to_status, incident_id=incident_id, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if not taken:
        return None
    unit = session.get(DispatchUnit, unit_id, populate_existing=True)
    assert unit is not None
    return unit


def release_unit(
    session: Session, *, unit_id: str, incident_id: str, now: dt.datetime
) -> DispatchUnit | None:
    """Make a unit available again if it still serves ``incident_id``."""
    released = _rows(
        session.execute(
            update(DispatchUnit)
            .where(DispatchUnit.id == unit_id, DispatchUnit.incident_id == incident_id,
                   DispatchUnit.status.in_(("offered", "assigned", "on_scene")))
            .values(status="available", incident_id=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    unit = session.get(DispatchUnit, unit_id, populate_existing=True)
    if released and unit is not None:
        units.announce(session, unit)
    return unit if released else None


def transition(
    session: Session, assignment: DispatchAssignment, *, expect: tuple[str, ...], to: str,
    unit_expect: tuple[str, ...], unit_to: str, now: dt.datetime,
) -> DispatchUnit:
    """Move the assignment from ``expect`` to ``to`` and its unit from ``unit_expect`` to
    ``unit_to``, both conditionally; ``Conflict`` if either was moved elsewhere first."""
    moved = _rows(
        session.execute(
            update(DispatchAssignment)
            .where(DispatchAssignment.id == assignment.id, DispatchAssignment.status.in_(expect))
            .values(status=to, answered_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if not moved:
        session.refresh(assignment)
        raise Conflict(f"assignment is {assignment.status}, not {' or '.join(expect)}")
    incident_after = None if unit_to == "available" else assignment.incident_id
    unit_moved = _rows(
        session.execute(
            update(DispatchUnit)
            .where(DispatchUnit.id == assignment.unit_id,
                   DispatchUnit.incident_id == assignment.incident_id,
                   DispatchUnit.status.in_(unit_expect))
            .values(status=unit_to, incident_id=incident_after, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if not unit_moved:
        # Raised before commit: the caller's transaction rolls back and nothing changes.
        raise Conflict("the unit is no longer held by this assignment")
    session.refresh(assignment)
    unit = session.get(DispatchUnit, assignment.unit_id, populate_existing=True)
    assert unit is not None
    announce_assignment(session, assignment, unit)
    return unit
