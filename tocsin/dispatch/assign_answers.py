"""A unit's side of an assignment: accept, decline, arrive, finish, and what it sees.

Answers need no decision lock: each is a conditional move (``assign_rows.transition``), so a
second accept, or an accept racing the offer's expiry, is a ``Conflict``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from tocsin.core.errors import Forbidden, NotFound
from tocsin.dispatch import incidents
from tocsin.dispatch.assign_rows import LIVE, get_assignment, live_assignments, transition
from tocsin.dispatch.models import DispatchAssignment, DispatchIncident, DispatchUnit


def own_assignment(
    session: Session, assignment_id: str, user_id: int | None
) -> DispatchAssignment:
    """The assignment if it is addressed to the account's unit, else ``Forbidden``."""
    assignment = get_assignment(session, assignment_id=assignment_id)
    unit = session.get(DispatchUnit, assignment.unit_id)
    if unit is None or unit.user_id is None or unit.user_id != user_id:
        raise Forbidden("this offer is not addressed to your unit")
    return assignment


def accept(
    session: Session, *, assignment_id: str, user_id: int | None, now: dt.datetime
) -> DispatchAssignment:
    """Accept an offer made to the caller's unit; a second accept is a ``Conflict``."""
    assignment = own_assignment(session, assignment_id, user_id)
    transition(session, assignment, expect=("offered",), to="accepted",
                unit_expect=("offered",), unit_to="assigned", now=now)
    return assignment


def decline(
    session: Session, *, assignment_id: str, user_id: int | None, now: dt.datetime
) -> DispatchAssignment:
    """Decline an offer; the unit is free again (the caller then offers to the next unit)."""
    assignment = own_assignment(session, assignment_id, user_id)
    transition(session, assignment, expect=("offered",), to="declined",
                unit_expect=("offered",), unit_to="available", now=now)
    return assignment


def arrive(
    session: Session, *, assignment_id: str, user_id: int | None, now: dt.datetime
) -> DispatchAssignment:
    """Mark the caller's unit on scene."""
    assignment = own_assignment(session, assignment_id, user_id)
    transition(session, assignment, expect=("accepted",), to="on_scene",
                unit_expect=("assigned",), unit_to="on_scene", now=now)
    return assignment


def finish(
    session: Session, *, assignment_id: str, user_id: int | None, now: dt.datetime
) -> DispatchAssignment:
    """Close the caller's assignment; the incident closes when no other unit is on it."""
    assignment = own_assignment(session, assignment_id, user_id)
    transition(session, assignment, expect=("accepted", "on_scene"), to="closed",
                unit_expect=("assigned", "on_scene"), unit_to="available", now=now)
    incident = session.get(DispatchIncident, assignment.incident_id)
    if incident is not None and incident.status == "open" and not live_assignments(
        session, incident_id=incident.id
    ):
        incident.status, incident.closed_at = "closed", now
        session.flush()
        incidents.announce(session, incident)
    return assignment


def unit_view(
    session: Session, *, user_id: int | None
) -> tuple[DispatchUnit, DispatchAssignment | None, DispatchIncident | None]:
    """Return an account's unit, its offer or assignment in force and that incident.

    One statement, so one snapshot: under PostgreSQL's READ COMMITTED, separate reads could
    show the offer of a commit that landed between them beside the unit as it was before it
    (an offered assignment on an "available" unit). Raises ``NotFound`` without a unit.
    """
    if user_id is None:  # ``user_id == None`` would be IS NULL: any unit without an account
        raise NotFound("no unit is linked to this account")
    row = session.execute(
        select(DispatchUnit, DispatchAssignment, DispatchIncident)
        .outerjoin(DispatchAssignment, and_(DispatchAssignment.unit_id == DispatchUnit.id,
                                            DispatchAssignment.status.in_(LIVE)))
        .outerjoin(DispatchIncident, DispatchIncident.id == DispatchAssignment.incident_id)
        .where(DispatchUnit.user_id == user_id)
        .order_by(DispatchAssignment.offered_at.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFound("no unit is linked to this account")
    return row[0], row[1], row[2]
