"""Offers and escalation: offer an incident to the nearest unit, escalate on timeout.

Callers of ``offer_next`` and ``escalate_due`` hold the decision lock. The pieces live beside
this module, split by meaning: the assignment rows and their conditional moves
(``assign_rows``), the nearest-unit choice (``assign_nearest``) and the unit's answers
(``assign_answers``); their names are re-exported here, where the callers have always found them.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.core.errors import Conflict
from tocsin.dispatch.assign_answers import (
    accept,
    arrive,
    decline,
    finish,
    own_assignment,
    unit_view,
)
from tocsin.dispatch.assign_nearest import Proposal, propose
from tocsin.dispatch.assign_rows import (
    LIVE,
    announce_assignment,
    assignment_event_data,
    assignments_of,
    get_assignment,
    live_assignments,
    release_unit,
    take_unit,
    transition,
)
from tocsin.dispatch.config import DispatchConfig
from tocsin.dispatch.index import UnitIndex
from tocsin.dispatch.models import DispatchAssignment, DispatchIncident, DispatchUnit

__all__ = [
    "LIVE", "WAITING_SCAN", "Proposal", "accept", "announce_assignment", "arrive",
    "assignment_event_data", "assignments_of", "decline", "escalate_due", "finish",
    "get_assignment", "live_assignments", "offer_next", "own_assignment", "propose",
    "release_unit", "take_unit", "unit_view",
]

# Waiting incidents looked at per escalation tick, most urgent and oldest first.
WAITING_SCAN = 500


def _tried(session: Session, incident_id: str) -> set[str]:
    return set(
        session.scalars(
            select(DispatchAssignment.unit_id).where(
                DispatchAssignment.incident_id == incident_id
            )
        )
    )


def offer_next(
    session: Session, *, index: UnitIndex, config: DispatchConfig, incident: DispatchIncident,
    now: dt.datetime, tried: set[str] | None = None,
) -> DispatchAssignment | None:
    """Offer the incident to the nearest available unit not tried yet (caller holds the lock).

    Does nothing when an offer or an assignment is already in force, or no unit is free (the
    escalation tick tries again later). ``tried`` is for a caller that knows the incident has
    nothing in force and which units it has had (an incident it just opened: none), which
    spares two queries per incident in a batch.
    """
    if tried is None:
        if incident.status != "open" or live_assignments(session, incident_id=incident.id):
            return None
        tried = _tried(session, incident.id)
    elif incident.status != "open":
        return None
    rank = len(tried) + 1
    candidates = propose(
        session, index=index, config=config, lat=incident.lat, lon=incident.lon,
        exclude=tried, k=config.candidates,
    )
    for proposal in candidates:
        unit = take_unit(
            session, unit_id=proposal.unit_id, incident_id=incident.id, to_status="offered",
            now=now,
        )
        if unit is None:
            index.remove(proposal.unit_id)  # stale entry: it was taken elsewhere
            continue
        assignment = DispatchAssignment(
            id=uuid.uuid4().hex, incident_id=incident.id, unit_id=unit.id, status="offered",
            rank=rank, distance_m=proposal.distance_m, eta_s=proposal.eta_s, offered_at=now,
            deadline_at=now + dt.timedelta(seconds=config.offer_timeout_s), answered_at=None,
            by="engine",
        )
        session.add(assignment)  # flushed with the rest (a batch inserts all its offers at once)
        announce_assignment(session, assignment, unit)
        return assignment
    return None


def escalate_due(
    session: Session, *, index: UnitIndex, config: DispatchConfig, now: dt.datetime,
    batch: int = 100,
) -> int:
    """Expire offers past their deadline and offer each incident to its next unit.

    Then offer every open incident that has nothing in force (no unit was free before).
    Safe with several workers: the caller holds the decision lock, and the expiry itself is a
    conditional UPDATE. Returns how many offers expired.
    """
    due = session.scalars(
        select(DispatchAssignment)
        .where(DispatchAssignment.status == "offered", DispatchAssignment.deadline_at <= now)
        .order_by(DispatchAssignment.deadline_at)
        .limit(batch)
    ).all()
    expired = 0
    for assignment in due:
        try:
            transition(session, assignment, expect=("offered",), to="expired",
                        unit_expect=("offered",), unit_to="available", now=now)
        except Conflict:
            continue
        expired += 1
    free = session.scalar(
        select(func.count()).select_from(DispatchUnit).where(
            DispatchUnit.status == "available", DispatchUnit.lat.is_not(None))
    )
    if not free:
        return expired
    # Incidents that every free unit has already declined (or let expire) stay open for the
    # dispatcher: they are looked past, so they cannot hold the head of the queue and starve
    # the incidents behind them.
    waiting = session.scalars(
        select(DispatchIncident.id)
        .where(
            DispatchIncident.status == "open",
            ~DispatchIncident.id.in_(
                select(DispatchAssignment.incident_id).where(DispatchAssignment.status.in_(LIVE))
            ),
        )
        .order_by(DispatchIncident.priority, DispatchIncident.opened_at, DispatchIncident.id)
        .limit(WAITING_SCAN)
    ).all()
    offered = 0
    for incident_id in waiting:
        incident = session.get(DispatchIncident, incident_id)
        if incident is None:
            continue
        if offer_next(session, index=index, config=config, incident=incident, now=now):
            offered += 1
            free -= 1
            if offered >= batch or free <= 0:
                break
    return expired
