"""Offers and answers: propose the nearest units, offer to the first, escalate on timeout.

Every unit transition is a conditional UPDATE (``WHERE status = <expected>``): whichever worker
or thread gets rowcount 1 wins, the other sees 0 and moves on (or answers 409). Callers of
``offer_next`` and ``escalate_due`` hold the decision lock; answers from a unit need no lock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, and_, func, select, update
from sqlalchemy.orm import Session

from tocsin.core.errors import Conflict, Forbidden, NotFound
from tocsin.core.outbox import add_event
from tocsin.dispatch import events, incidents, units
from tocsin.dispatch.config import DispatchConfig
from tocsin.dispatch.geo import eta_seconds, haversine_m
from tocsin.dispatch.index import UnitIndex
from tocsin.dispatch.models import DispatchAssignment, DispatchIncident, DispatchUnit

LIVE = ("offered", "accepted", "on_scene")
# Waiting incidents looked at per escalation tick, most urgent and oldest first.
WAITING_SCAN = 500


@dataclass(frozen=True)
class Proposal:
    """A candidate unit for an incident: distance first, then road-free ETA."""

    unit_id: str
    callsign: str
    distance_m: float
    eta_s: float


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


def _tried(session: Session, incident_id: str) -> set[str]:
    return set(
        session.scalars(
            select(DispatchAssignment.unit_id).where(
                DispatchAssignment.incident_id == incident_id
            )
        )
    )


def propose(
    session: Session, *, index: UnitIndex, config: DispatchConfig, lat: float, lon: float,
    exclude: set[str] | frozenset[str] = frozenset(), k: int | None = None,
) -> list[Proposal]:
    """Return the ``k`` nearest available units, by distance then ETA.

    The index answers; when it knows fewer than ``k`` units (a worker that just started, events
    in flight) the database is scanned instead, so a proposal never misses a unit for long.
    """
    k = k or config.candidates
    found = index.nearest(lat, lon, k, exclude=exclude)
    if len(found) < k:
        rows = session.execute(
            select(DispatchUnit.id, DispatchUnit.lat, DispatchUnit.lon).where(
                DispatchUnit.status == "available", DispatchUnit.lat.is_not(None)
            )
        ).all()
        scanned = [
            (haversine_m(lat, lon, row.lat, row.lon), row.id)
            for row in rows
            if row.id not in exclude
        ]
        found = sorted(scanned)[:k]
    callsigns: dict[str, str] = {
        row.id: row.callsign
        for row in session.execute(
            select(DispatchUnit.id, DispatchUnit.callsign).where(
                DispatchUnit.id.in_([uid for _, uid in found])
            )
        )
    }
    proposals = [
        Proposal(uid, callsigns[uid], dist, eta_seconds(dist, config.speed_kmh))
        for dist, uid in found
        if uid in callsigns
    ]
    proposals.sort(key=lambda p: (round(p.distance_m), p.eta_s))
    return proposals


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


def get_assignment(session: Session, *, assignment_id: str) -> DispatchAssignment:
    """Return the assignment or raise ``NotFound``."""
    assignment = session.get(DispatchAssignment, assignment_id)
    if assignment is None:
        raise NotFound(f"no assignment {assignment_id!r}")
    return assignment


def _transition(
    session: Session, assignment: DispatchAssignment, *, expect: tuple[str, ...], to: str,
    unit_expect: tuple[str, ...], unit_to: str, now: dt.datetime,
) -> DispatchUnit:
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
    _transition(session, assignment, expect=("offered",), to="accepted",
                unit_expect=("offered",), unit_to="assigned", now=now)
    return assignment


def decline(
    session: Session, *, assignment_id: str, user_id: int | None, now: dt.datetime
) -> DispatchAssignment:
    """Decline an offer; the unit is free again (the caller then offers to the next unit)."""
    assignment = own_assignment(session, assignment_id, user_id)
    _transition(session, assignment, expect=("offered",), to="declined",
                unit_expect=("offered",), unit_to="available", now=now)
    return assignment


def arrive(
    session: Session, *, assignment_id: str, user_id: int | None, now: dt.datetime
) -> DispatchAssignment:
    """Mark the caller's unit on scene."""
    assignment = own_assignment(session, assignment_id, user_id)
    _transition(session, assignment, expect=("accepted",), to="on_scene",
                unit_expect=("assigned",), unit_to="on_scene", now=now)
    return assignment


def finish(
    session: Session, *, assignment_id: str, user_id: int | None, now: dt.datetime
) -> DispatchAssignment:
    """Close the caller's assignment; the incident closes when no other unit is on it."""
    assignment = own_assignment(session, assignment_id, user_id)
    _transition(session, assignment, expect=("accepted", "on_scene"), to="closed",
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
            _transition(session, assignment, expect=("offered",), to="expired",
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
