"""Figures dispatch contributes to the observatory (contract: ``tocsin.core.figures``).

Response times run from the SOS acknowledgement (the earliest SOS of the incident) to the first
unit that accepted (``dispatch.assigned``) and to the first unit on scene (``dispatch.on_scene``).
The exact moment of acceptance lives only in the ``assignment.accepted`` event (the assignment
row keeps its latest answer), so those facts come from the bus; the sweep recovers what the
rows still show (an assignment now accepted or on scene) if an event was missed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.core.bus import Event
from tocsin.core.figures import Fact, Kind, seconds_between
from tocsin.dispatch import events
from tocsin.dispatch.models import DispatchAssignment, DispatchIncident, DispatchIncidentSos
from tocsin.sos.events import Situation

_SITUATIONS = tuple(s.value for s in Situation)
KINDS = (
    Kind("dispatch.incident", "Incidents ouverts", "Incidents opened", categories=_SITUATIONS,
         mapped=True),
    Kind("dispatch.assigned", "Délai SOS → unité engagée", "SOS to unit assigned",
         unit="seconds", categories=_SITUATIONS),
    Kind("dispatch.on_scene", "Délai SOS → unité sur place", "SOS to unit on scene",
         unit="seconds", categories=_SITUATIONS),
)
ACCEPTED = events.assignment_subject("accepted")
ON_SCENE = events.assignment_subject("on_scene")
SUBJECTS = (ACCEPTED, ON_SCENE)
_KIND_OF = {ACCEPTED: "dispatch.assigned", ON_SCENE: "dispatch.on_scene"}


def _first_sos(session: Session, incident_id: str) -> tuple[dt.datetime | None, str]:
    incident = session.get(DispatchIncident, incident_id)
    first = session.scalar(select(func.min(DispatchIncidentSos.received_at)).where(
        DispatchIncidentSos.incident_id == incident_id))
    if first is not None and first.tzinfo is None:
        first = first.replace(tzinfo=dt.UTC)
    start = first or (incident.opened_at if incident else None)
    return start, incident.situation if incident else ""


def from_event(session: Session, event: Event) -> list[Fact]:
    """Turn the first acceptance / arrival of an incident into a response-time fact."""
    incident_id = str(event.data.get("incident_id") or "")
    if not incident_id:
        return []
    start, situation = _first_sos(session, incident_id)
    value = seconds_between(start, event.occurred_at)
    if value is None:
        return []
    return [Fact(_KIND_OF[event.subject], incident_id, event.occurred_at, category=situation,
                 value=value)]


def from_tables(session: Session, start: dt.datetime, end: dt.datetime) -> list[Fact]:
    """Return incidents opened in ``[start, end)`` and the answers the rows still show."""
    facts = [
        Fact("dispatch.incident", r.id, r.opened_at, category=r.situation, lat=r.lat, lon=r.lon)
        for r in session.execute(
            select(DispatchIncident.id, DispatchIncident.opened_at, DispatchIncident.situation,
                   DispatchIncident.lat, DispatchIncident.lon)
            .where(DispatchIncident.opened_at >= start, DispatchIncident.opened_at < end))
    ]
    answered = session.execute(
        select(DispatchAssignment.incident_id, DispatchAssignment.status,
               DispatchAssignment.answered_at)
        .where(DispatchAssignment.status.in_(("accepted", "on_scene")),
               DispatchAssignment.answered_at >= start, DispatchAssignment.answered_at < end)
        .order_by(DispatchAssignment.answered_at))
    for incident_id, status, answered_at in answered:
        first, situation = _first_sos(session, incident_id)
        value = seconds_between(first, answered_at)
        kind = "dispatch.assigned" if status == "accepted" else "dispatch.on_scene"
        if value is not None and answered_at is not None:
            facts.append(Fact(kind, incident_id, answered_at, category=situation, value=value))
    return facts
