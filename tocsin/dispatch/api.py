"""HTTP routes of dispatch: units, offers and answers, the incident queue and its management.

Thin: each route checks the role, calls the service under the engine's decision lock when it
decides something, commits, and answers. The SSE stream and its ticket are in ``stream.py``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlalchemy.orm import Session

from tocsin.core.auth import Principal, Role, allow
from tocsin.core.errors import Invalid
from tocsin.core.runtime import AppRuntime, DbSession
from tocsin.dispatch import assign, brief, chat, incidents, manage, stream, units, unlocated
from tocsin.dispatch.engine import DispatchEngine, engine_of
from tocsin.dispatch.models import DispatchIncident
from tocsin.dispatch.schemas import (
    AssignIn,
    AssignmentOut,
    BriefOut,
    ChatStateOut,
    CloseIn,
    DutyIn,
    IncidentDetail,
    IncidentOut,
    IncidentSosOut,
    MergeIn,
    PositionIn,
    ProposalOut,
    ReassignIn,
    SplitIn,
    UnitCreate,
    UnitMe,
    UnitOut,
    UnlocatedOut,
)

router = APIRouter(prefix="/api/v1/dispatch", tags=["dispatch"])
router.include_router(stream.router)

Dispatcher = Annotated[Principal, Depends(allow(Role.dispatcher))]
Registrar = Annotated[Principal, Depends(allow(Role.dispatcher, Role.admin))]
Unit = Annotated[Principal, Depends(allow(Role.unit))]
IdPath = Annotated[str, Path(min_length=1, max_length=64)]


def _engine(runtime: AppRuntime) -> DispatchEngine:
    return engine_of(runtime)


Engine = Annotated[DispatchEngine, Depends(_engine)]


def _incident_out(db: Session, incident: DispatchIncident) -> IncidentOut:
    out = IncidentOut.model_validate(incident)
    out.assignments = [
        AssignmentOut.model_validate(a)
        for a in assign.assignments_of(db, incident_id=incident.id)
    ]
    return out


# --- units -----------------------------------------------------------------------------------


@router.post("/units", status_code=201, response_model=UnitOut)
def create_unit(body: UnitCreate, db: DbSession, who: Registrar, engine: Engine) -> UnitOut:
    """Register a unit, optionally linked to a unit account (dispatcher, admin)."""
    unit = units.create_unit(
        db, callsign=body.callsign, username=body.username, lat=body.lat, lon=body.lon,
        off_duty=body.off_duty, now=engine.clock(),
    )
    db.commit()
    engine.sync_touched(db)
    return UnitOut.model_validate(unit)


@router.get("/units", response_model=list[UnitOut])
def list_units(db: DbSession, who: Registrar) -> list[UnitOut]:
    """List every unit with its status and last position (dispatcher, admin)."""
    return [UnitOut.model_validate(u) for u in units.list_units(db)]


@router.get("/units/me", response_model=UnitMe)
def my_unit(db: DbSession, who: Unit) -> UnitMe:
    """Return the caller's unit, its current offer or assignment, and that incident (unit)."""
    unit, current, incident = assign.unit_view(db, user_id=who.user_id)
    return UnitMe(
        unit=UnitOut.model_validate(unit),
        assignment=AssignmentOut.model_validate(current) if current else None,
        incident=IncidentOut.model_validate(incident) if incident else None,
    )


@router.post("/units/{unit_id}/position", response_model=UnitOut)
def report_position(
    unit_id: IdPath, body: PositionIn, db: DbSession, who: Unit, engine: Engine
) -> UnitOut:
    """Report the position of the caller's own unit (unit); another unit's is refused (403)."""
    unit = units.report_position(db, unit_id=unit_id, user_id=who.user_id, lat=body.lat,
                                 lon=body.lon, now=engine.clock())
    db.commit()
    engine.sync_touched(db)
    return UnitOut.model_validate(unit)


@router.post("/units/{unit_id}/duty", response_model=UnitOut)
def set_duty(unit_id: IdPath, body: DutyIn, db: DbSession, who: Unit, engine: Engine) -> UnitOut:
    """Go on or off duty (unit); refused while holding an offer or a mission."""
    unit = units.set_duty(db, unit_id=unit_id, user_id=who.user_id, on_duty=body.on_duty,
                          now=engine.clock())
    db.commit()
    engine.sync_touched(db)
    return UnitOut.model_validate(unit)


# --- a unit answers --------------------------------------------------------------------------


@router.get("/assignments/{assignment_id}/brief", response_model=BriefOut)
def offer_brief(assignment_id: IdPath, db: DbSession, who: Unit) -> BriefOut:
    """People waiting and the caller's latest words, for the caller's own live offer (unit).

    Reading the words is an audited read of the SOS under the unit's account.
    """
    out = brief.brief(db, assignment_id=assignment_id, actor=who)
    db.commit()
    return out


@router.post("/assignments/{assignment_id}/accept", response_model=AssignmentOut)
def accept(assignment_id: IdPath, db: DbSession, who: Unit, engine: Engine) -> AssignmentOut:
    """Accept an offer made to the caller's unit (unit); 409 if it expired or was answered."""
    # No decision lock: the conditional UPDATEs alone make one accept win.
    result = assign.accept(db, assignment_id=assignment_id, user_id=who.user_id,
                           now=engine.clock())
    db.commit()
    engine.sync_touched(db)
    return AssignmentOut.model_validate(result)


@router.post("/assignments/{assignment_id}/decline", response_model=AssignmentOut)
def decline(assignment_id: IdPath, db: DbSession, who: Unit, engine: Engine) -> AssignmentOut:
    """Decline an offer (unit); the incident is offered to the next nearest unit at once."""
    with engine.decision(db):
        now = engine.clock()
        result = assign.decline(db, assignment_id=assignment_id, user_id=who.user_id, now=now)
        incident = incidents.get_incident(db, incident_id=result.incident_id)
        assign.offer_next(db, index=engine.index, config=engine.config, incident=incident,
                          now=now)
    return AssignmentOut.model_validate(result)


@router.post("/assignments/{assignment_id}/on-scene", response_model=AssignmentOut)
def on_scene(assignment_id: IdPath, db: DbSession, who: Unit, engine: Engine) -> AssignmentOut:
    """Report the caller's unit on scene (unit)."""
    result = assign.arrive(db, assignment_id=assignment_id, user_id=who.user_id,
                           now=engine.clock())
    db.commit()
    engine.sync_touched(db)
    return AssignmentOut.model_validate(result)


@router.post("/assignments/{assignment_id}/close", response_model=AssignmentOut)
def close_assignment(
    assignment_id: IdPath, db: DbSession, who: Unit, engine: Engine
) -> AssignmentOut:
    """Close the caller's mission (unit); the unit is available again."""
    with engine.decision(db):
        result = assign.finish(db, assignment_id=assignment_id, user_id=who.user_id,
                               now=engine.clock())
    return AssignmentOut.model_validate(result)


# --- the dispatcher's queue ------------------------------------------------------------------


@router.get("/incidents", response_model=list[IncidentOut])
def queue(db: DbSession, who: Dispatcher) -> list[IncidentOut]:
    """Open incidents, most urgent then oldest first, with their offers (dispatcher)."""
    return [_incident_out(db, incident) for incident in incidents.queue(db)]


@router.get("/sos", response_model=list[IncidentSosOut])
def open_sos(db: DbSession, who: Dispatcher) -> list[IncidentSosOut]:
    """Positions of the SOS of open incidents, for the map (dispatcher; no text)."""
    return [IncidentSosOut.model_validate(s) for s in incidents.open_sos_points(db)]


@router.get("/sos/unlocated", response_model=list[UnlocatedOut])
def unlocated_sos(db: DbSession, who: Dispatcher) -> list[UnlocatedOut]:
    """Open SOS sent "position unknown" and not placed yet, newest first (dispatcher)."""
    return [UnlocatedOut(sos_id=s.id, situation=s.situation, people=s.people,
                         received_at=s.received_at) for s in unlocated.unlocated(db)]


@router.get("/sos/chat", response_model=list[ChatStateOut])
def chat_state(db: DbSession, who: Dispatcher) -> list[ChatStateOut]:
    """Per open SOS with a chat: caller messages and last times per side, no text (dispatcher)."""
    return [ChatStateOut.model_validate(s) for s in chat.open_chat_state(db)]


@router.get("/incidents/{incident_id}", response_model=IncidentDetail)
def incident_detail(incident_id: IdPath, db: DbSession, who: Dispatcher) -> IncidentDetail:
    """One incident with its SOS (positions, no text) and its offers (dispatcher)."""
    incident = incidents.get_incident(db, incident_id=incident_id)
    out = _incident_out(db, incident)
    return IncidentDetail(
        **out.model_dump(),
        sos=[
            IncidentSosOut.model_validate(s)
            for s in incidents.sos_of(db, incident_id=incident.id)
        ],
    )


@router.get("/incidents/{incident_id}/proposals", response_model=list[ProposalOut])
def proposals(
    incident_id: IdPath, db: DbSession, who: Dispatcher, engine: Engine
) -> list[ProposalOut]:
    """The nearest available units for an incident: distance, then road-free ETA (dispatcher)."""
    incident = incidents.get_incident(db, incident_id=incident_id)
    found = assign.propose(db, index=engine.index, config=engine.config, lat=incident.lat,
                           lon=incident.lon)
    return [ProposalOut(**vars(p)) for p in found]


@router.post("/incidents/{incident_id}/assign", status_code=201, response_model=AssignmentOut)
def assign_unit(
    incident_id: IdPath, body: AssignIn, db: DbSession, who: Dispatcher, engine: Engine
) -> AssignmentOut:
    """Give the incident to a chosen available unit, overriding the proposal (dispatcher)."""
    with engine.decision(db):
        result = manage.assign_unit(db, incident_id=incident_id, unit_id=body.unit_id,
                                    actor=who, config=engine.config, now=engine.clock())
    return AssignmentOut.model_validate(result)


@router.post("/incidents/{incident_id}/reassign", response_model=IncidentOut)
def reassign(
    incident_id: IdPath, body: ReassignIn, db: DbSession, who: Dispatcher, engine: Engine
) -> IncidentOut:
    """Withdraw the incident from its units and give it to another (or the next nearest)."""
    with engine.decision(db):
        manage.reassign(db, incident_id=incident_id, unit_id=body.unit_id, reason=body.reason,
                        actor=who, index=engine.index, config=engine.config, now=engine.clock())
    return _incident_out(db, incidents.get_incident(db, incident_id=incident_id))


@router.post("/incidents/merge", response_model=IncidentOut)
def merge(body: MergeIn, db: DbSession, who: Dispatcher, engine: Engine) -> IncidentOut:
    """Merge incidents into one; their units are released (dispatcher)."""
    with engine.decision(db):
        target = manage.merge(db, target_id=body.target_id, source_ids=body.source_ids,
                              actor=who, now=engine.clock())
    return _incident_out(db, target)


@router.post("/incidents/{incident_id}/split", status_code=201, response_model=IncidentOut)
def split(
    incident_id: IdPath, body: SplitIn, db: DbSession, who: Dispatcher, engine: Engine
) -> IncidentOut:
    """Move some SOS to a new incident and dispatch it (dispatcher)."""
    with engine.decision(db):
        now = engine.clock()
        new = manage.split(db, incident_id=incident_id, sos_ids=body.sos_ids, actor=who, now=now)
        assign.offer_next(db, index=engine.index, config=engine.config, incident=new, now=now)
    return _incident_out(db, new)


@router.post("/incidents/{incident_id}/close", response_model=IncidentOut)
def close_incident(
    incident_id: IdPath, db: DbSession, who: Dispatcher, engine: Engine,
    body: CloseIn | None = None,
) -> IncidentOut:
    """Close an incident with a reason (audited); its units are released (dispatcher)."""
    if body is None:  # no body at all: still name the missing field, as for an empty one
        raise Invalid("invalid input at body.reason: a reason is required to close an incident")
    with engine.decision(db):
        incident = manage.close(db, incident_id=incident_id, reason=body.reason, actor=who,
                                now=engine.clock())
    return _incident_out(db, incident)
