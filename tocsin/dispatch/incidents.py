"""Incident clustering, merge, split and the dispatcher's queue.

An SOS within ``cluster_radius_m`` of an open incident's centroid and within
``cluster_window_s`` of its last SOS joins it (count and running centroid); otherwise it opens a
new incident. Three hundred calls from one concert hall are one queue line, not three hundred.
Callers hold the decision lock (``tocsin.dispatch.locks``) so two workers clustering at once
cannot both open an incident for the same place.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.core.errors import Conflict, Invalid, NotFound
from tocsin.core.outbox import add_event
from tocsin.dispatch import events
from tocsin.dispatch.config import DispatchConfig
from tocsin.dispatch.geo import M_PER_DEG_LAT, haversine_m
from tocsin.dispatch.models import DispatchIncident, DispatchIncidentSos
from tocsin.sos.events import Situation, SosCreated

# 1 is most urgent. Codes are the sos domain's situations (its events' contract); a code this
# worker does not know (a newer producer) ranks as "other".
PRIORITY: dict[str, int] = {
    Situation.attack: 1,
    Situation.armed_person: 1,
    Situation.hostage: 1,
    Situation.injured: 2,
    Situation.fire: 2,
    Situation.hidden: 2,
    Situation.other: 3,
}


def priority_of(situation: str) -> int:
    """Return the priority of a situation code (1 most urgent)."""
    return PRIORITY.get(situation, 3)


@dataclass(frozen=True)
class SosIn:
    """What dispatch needs of an SOS (from the ``sos.created`` event or the sos service)."""

    sos_id: str
    lat: float
    lon: float
    accuracy_m: float
    situation: str
    people: int | None
    received_at: dt.datetime


def from_sos_created(data: Mapping[str, Any]) -> SosIn | None:
    """Read an ``sos.created`` payload with the producer's model (``tocsin.sos.events``).

    Returns None for an SOS sent "position unknown" (lat and lon None): it is placed later by
    its first position (``unlocated``). Raises ``Invalid`` on a malformed payload, one with half
    a position, or a position out of range.
    """
    try:
        event = SosCreated.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "payload"
        raise Invalid(f"malformed sos.created payload: {where}: {first['msg']}") from None
    if event.lat is None and event.lon is None:
        return None
    if event.lat is None or event.lon is None:
        raise Invalid("malformed sos.created payload: half a position (lat or lon missing)")
    try:
        received_at = dt.datetime.fromisoformat(event.received_at)
    except ValueError:
        raise Invalid("malformed sos.created payload: received_at is not ISO 8601") from None
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=dt.UTC)
    if not (-90 <= event.lat <= 90 and -180 <= event.lon <= 180) or not event.sos_id:
        raise Invalid("sos.created payload out of range")
    return SosIn(
        sos_id=event.sos_id,
        lat=event.lat,
        lon=event.lon,
        accuracy_m=event.accuracy_m or 0.0,
        situation=(event.situation or Situation.other.value)[:32],
        people=event.people,
        received_at=received_at,
    )


def incident_event_data(incident: DispatchIncident) -> dict[str, Any]:
    """Return the public state of an incident, as ``incident.updated`` carries it."""
    return {
        "incident_id": incident.id,
        "status": incident.status,
        "priority": incident.priority,
        "situation": incident.situation,
        "sos_count": incident.sos_count,
        "lat": incident.lat,
        "lon": incident.lon,
        "opened_at": incident.opened_at.isoformat(),
        "last_sos_at": incident.last_sos_at.isoformat(),
        "merged_into": incident.merged_into,
    }


def announce(session: Session, incident: DispatchIncident) -> None:
    """Queue ``incident.updated`` for the incident's current state."""
    add_event(session, events.INCIDENT_UPDATED, incident_event_data(incident))


def get_incident(session: Session, *, incident_id: str) -> DispatchIncident:
    """Return the incident or raise ``NotFound``."""
    incident = session.get(DispatchIncident, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id!r}")
    return incident


def incident_of_sos(session: Session, *, sos_id: str) -> DispatchIncident | None:
    """Return the incident an SOS is attached to, if any."""
    link = session.get(DispatchIncidentSos, sos_id)
    return None if link is None else session.get(DispatchIncident, link.incident_id)


def _nearby_open(
    session: Session, sos: SosIn, config: DispatchConfig
) -> DispatchIncident | None:
    dlat = config.cluster_radius_m / M_PER_DEG_LAT
    dlon = dlat / max(0.01, math.cos(math.radians(sos.lat)))
    since = sos.received_at - dt.timedelta(seconds=config.cluster_window_s)
    rows = session.scalars(
        select(DispatchIncident).where(
            DispatchIncident.status == "open",
            DispatchIncident.last_sos_at >= since,
            DispatchIncident.lat.between(sos.lat - dlat, sos.lat + dlat),
            DispatchIncident.lon.between(sos.lon - dlon, sos.lon + dlon),
        )
    ).all()
    best: tuple[float, DispatchIncident] | None = None
    for incident in rows:
        distance = haversine_m(sos.lat, sos.lon, incident.lat, incident.lon)
        if distance <= config.cluster_radius_m and (best is None or distance < best[0]):
            best = (distance, incident)
    return None if best is None else best[1]


def open_incident(sos: SosIn, *, now: dt.datetime) -> DispatchIncident:
    """A new open incident made of ``sos`` alone (the caller adds it to the session)."""
    return DispatchIncident(
        id=uuid.uuid4().hex,
        status="open",
        priority=priority_of(sos.situation),
        situation=sos.situation,
        sos_count=1,
        lat=sos.lat,
        lon=sos.lon,
        opened_at=now,
        last_sos_at=sos.received_at,
        closed_at=None,
        merged_into=None,
    )


def join_incident(incident: DispatchIncident, sos: SosIn) -> None:
    """Count ``sos`` into ``incident``: running centroid, latest time, most urgent situation."""
    n = incident.sos_count
    incident.lat = (incident.lat * n + sos.lat) / (n + 1)
    incident.lon = (incident.lon * n + sos.lon) / (n + 1)
    incident.sos_count = n + 1
    incident.last_sos_at = max(incident.last_sos_at, sos.received_at)
    if priority_of(sos.situation) < incident.priority:
        incident.priority = priority_of(sos.situation)
        incident.situation = sos.situation


def attach_sos(
    session: Session, *, sos: SosIn, config: DispatchConfig, now: dt.datetime
) -> tuple[DispatchIncident, bool]:
    """Attach an SOS to a nearby open incident or open one; return it and whether it is new.

    Idempotent: an SOS already attached returns its incident unchanged (redelivered event,
    or recovery racing the consumer).
    """
    existing = incident_of_sos(session, sos_id=sos.sos_id)
    if existing is not None:
        return existing, False
    incident = _nearby_open(session, sos, config)
    created = incident is None
    if incident is None:
        incident = open_incident(sos, now=now)
        session.add(incident)
    else:
        join_incident(incident, sos)
    session.add(
        DispatchIncidentSos(
            sos_id=sos.sos_id,
            incident_id=incident.id,
            lat=sos.lat,
            lon=sos.lon,
            accuracy_m=sos.accuracy_m,
            situation=sos.situation,
            people=sos.people,
            received_at=sos.received_at,
            attached_at=now,
        )
    )
    session.flush()
    announce(session, incident)
    return incident, created


def sos_of(session: Session, *, incident_id: str) -> list[DispatchIncidentSos]:
    """Return the SOS attached to an incident, oldest first."""
    return list(
        session.scalars(
            select(DispatchIncidentSos)
            .where(DispatchIncidentSos.incident_id == incident_id)
            .order_by(DispatchIncidentSos.received_at, DispatchIncidentSos.sos_id)
        )
    )


def open_sos_points(session: Session, *, limit: int = 5000) -> list[DispatchIncidentSos]:
    """Return the SOS of open incidents (positions only), newest first, for the console map."""
    return list(
        session.scalars(
            select(DispatchIncidentSos)
            .join(DispatchIncident, DispatchIncident.id == DispatchIncidentSos.incident_id)
            .where(DispatchIncident.status == "open")
            .order_by(DispatchIncidentSos.received_at.desc())
            .limit(limit)
        )
    )


def recompute(session: Session, incident: DispatchIncident) -> None:
    """Recompute count, centroid, priority and last SOS time from the attached SOS."""
    links = sos_of(session, incident_id=incident.id)
    if not links:
        return
    incident.sos_count = len(links)
    incident.lat = sum(link.lat for link in links) / len(links)
    incident.lon = sum(link.lon for link in links) / len(links)
    incident.last_sos_at = max(link.received_at for link in links)
    top = min(links, key=lambda link: priority_of(link.situation))
    incident.priority, incident.situation = priority_of(top.situation), top.situation


def queue(session: Session, *, limit: int = 500) -> list[DispatchIncident]:
    """Return open incidents, most urgent first, then oldest first."""
    return list(
        session.scalars(
            select(DispatchIncident)
            .where(DispatchIncident.status == "open")
            .order_by(DispatchIncident.priority, DispatchIncident.opened_at, DispatchIncident.id)
            .limit(limit)
        )
    )


def open_count(session: Session) -> int:
    """Count open incidents."""
    return int(
        session.scalar(
            select(func.count()).select_from(DispatchIncident)
            .where(DispatchIncident.status == "open")
        ) or 0
    )


def require_open(incident: DispatchIncident) -> None:
    """Refuse to act on a closed or merged incident."""
    if incident.status != "open":
        raise Conflict(f"incident {incident.id} is {incident.status}")


def move_sos(
    session: Session, *, sos_ids: list[str], source: DispatchIncident, target: DispatchIncident
) -> None:
    """Move SOS from one incident to another (merge, split); every id must belong to source."""
    links = [session.get(DispatchIncidentSos, sos_id) for sos_id in sos_ids]
    for sos_id, link in zip(sos_ids, links, strict=True):
        if link is None or link.incident_id != source.id:
            raise Invalid(f"SOS {sos_id!r} is not part of incident {source.id}")
    for link in links:
        assert link is not None
        link.incident_id = target.id
    session.flush()
