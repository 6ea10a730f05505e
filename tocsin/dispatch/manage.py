"""What a dispatcher decides by hand: assign a chosen unit, reassign, merge, split, close.

Each action is audited (who, what, on which incident). Callers hold the decision lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid

from sqlalchemy.orm import Session

from tocsin.core import audit
from tocsin.core.auth import Principal
from tocsin.core.errors import Conflict, Invalid, NotFound
from tocsin.dispatch import incidents
from tocsin.dispatch.assign import (
    announce_assignment,
    live_assignments,
    offer_next,
    release_unit,
    take_unit,
)
from tocsin.dispatch.config import DispatchConfig
from tocsin.dispatch.geo import eta_seconds, haversine_m
from tocsin.dispatch.index import UnitIndex
from tocsin.dispatch.models import DispatchAssignment, DispatchIncident
from tocsin.dispatch.units import get_unit
from tocsin.sos import service as sos_service


def _cancel_live(session: Session, incident: DispatchIncident, now: dt.datetime) -> list[str]:
    freed = []
    for assignment in live_assignments(session, incident_id=incident.id):
        assignment.status, assignment.answered_at = "cancelled", now
        session.flush()
        unit = release_unit(session, unit_id=assignment.unit_id, incident_id=incident.id, now=now)
        if unit is not None:
            announce_assignment(session, assignment, unit)
        freed.append(assignment.unit_id)
    return freed


def assign_unit(
    session: Session, *, incident_id: str, unit_id: str, actor: Principal,
    config: DispatchConfig, now: dt.datetime,
) -> DispatchAssignment:
    """Give the incident to a unit the dispatcher chose (override): assigned at once."""
    incident = incidents.get_incident(session, incident_id=incident_id)
    incidents.require_open(incident)
    unit = get_unit(session, unit_id=unit_id)
    taken = take_unit(session, unit_id=unit.id, incident_id=incident.id, to_status="assigned",
                      now=now)
    if taken is None:
        raise Conflict(f"unit {unit.callsign} is {unit.status}, not available")
    distance = (
        haversine_m(incident.lat, incident.lon, taken.lat, taken.lon)
        if taken.lat is not None and taken.lon is not None else 0.0
    )
    assignment = DispatchAssignment(
        id=uuid.uuid4().hex, incident_id=incident.id, unit_id=taken.id, status="accepted",
        rank=0, distance_m=distance, eta_s=eta_seconds(distance, config.speed_kmh),
        offered_at=now, deadline_at=None, answered_at=now, by=actor.username[:80],
    )
    session.add(assignment)
    session.flush()
    announce_assignment(session, assignment, taken)
    audit.record(session, actor=actor, action="dispatch_assign", object_type="incident",
                 object_id=incident.id, reason=f"unit {taken.callsign}")
    return assignment


def reassign(
    session: Session, *, incident_id: str, unit_id: str | None, reason: str, actor: Principal,
    index: UnitIndex, config: DispatchConfig, now: dt.datetime,
) -> DispatchAssignment | None:
    """Withdraw the incident from its units, then give it to ``unit_id`` or the next nearest.

    ``reason`` (the dispatcher's words) goes into the audit entry with what was withdrawn.
    """
    incident = incidents.get_incident(session, incident_id=incident_id)
    incidents.require_open(incident)
    if unit_id is not None:
        get_unit(session, unit_id=unit_id)  # unknown unit: 404 before anything changes
    freed = _cancel_live(session, incident, now)
    audit.record(session, actor=actor, action="dispatch_reassign", object_type="incident",
                 object_id=incident.id,
                 reason=f"{reason} (withdrawn from {len(freed)} unit(s))")
    if unit_id is not None:
        return assign_unit(session, incident_id=incident.id, unit_id=unit_id, actor=actor,
                           config=config, now=now)
    return offer_next(session, index=index, config=config, incident=incident, now=now)


def merge(
    session: Session, *, target_id: str, source_ids: list[str], actor: Principal,
    now: dt.datetime,
) -> DispatchIncident:
    """Fold incidents into ``target_id``: their SOS move over, their units are released."""
    if target_id in source_ids or len(set(source_ids)) != len(source_ids) or not source_ids:
        raise Invalid("give distinct source incidents, other than the target")
    target = incidents.get_incident(session, incident_id=target_id)
    incidents.require_open(target)
    sources = [incidents.get_incident(session, incident_id=sid) for sid in source_ids]
    for source in sources:
        incidents.require_open(source)
    for source in sources:
        _cancel_live(session, source, now)
        links = incidents.sos_of(session, incident_id=source.id)
        incidents.move_sos(session, sos_ids=[link.sos_id for link in links], source=source,
                           target=target)
        source.status, source.merged_into, source.closed_at = "merged", target.id, now
        incidents.announce(session, source)
        audit.record(session, actor=actor, action="dispatch_merge", object_type="incident",
                     object_id=source.id, reason=f"merged into {target.id}")
    incidents.recompute(session, target)
    session.flush()
    incidents.announce(session, target)
    return target


def split(
    session: Session, *, incident_id: str, sos_ids: list[str], actor: Principal,
    now: dt.datetime,
) -> DispatchIncident:
    """Move some SOS of an incident to a new incident (the caller then dispatches it)."""
    source = incidents.get_incident(session, incident_id=incident_id)
    incidents.require_open(source)
    if not sos_ids or len(set(sos_ids)) != len(sos_ids):
        raise Invalid("give distinct SOS ids to split off")
    if len(sos_ids) >= source.sos_count:
        raise Invalid("a split must leave at least one SOS in the incident")
    new = DispatchIncident(
        id=uuid.uuid4().hex, status="open", priority=source.priority, situation=source.situation,
        sos_count=0, lat=source.lat, lon=source.lon, opened_at=now, last_sos_at=now,
        closed_at=None, merged_into=None,
    )
    session.add(new)
    session.flush()
    incidents.move_sos(session, sos_ids=sos_ids, source=source, target=new)
    incidents.recompute(session, source)
    incidents.recompute(session, new)
    session.flush()
    incidents.announce(session, source)
    incidents.announce(session, new)
    audit.record(session, actor=actor, action="dispatch_split", object_type="incident",
                 object_id=source.id, reason=f"{len(sos_ids)} SOS to {new.id}")
    return new


def close(
    session: Session, *, incident_id: str, reason: str, actor: Principal, now: dt.datetime
) -> DispatchIncident:
    """Close an incident by hand: its units are released and its SOS closed.

    Closing the SOS ends the callers' silent chat and starts their retention period.
    """
    incident = incidents.get_incident(session, incident_id=incident_id)
    incidents.require_open(incident)
    _cancel_live(session, incident, now)
    incident.status, incident.closed_at = "closed", now
    session.flush()
    for link in incidents.sos_of(session, incident_id=incident.id):
        with contextlib.suppress(NotFound):  # already purged by the sos domain
            sos_service.close_sos(session, sos_id=link.sos_id, actor=actor)
    incidents.announce(session, incident)
    audit.record(session, actor=actor, action="dispatch_close", object_type="incident",
                 object_id=incident.id, reason=reason)
    return incident
