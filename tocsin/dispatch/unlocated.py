"""SOS sent "position unknown": held aside until the phone sends a first position.

Dispatch clusters by position and sends the nearest unit: an SOS without one joins no incident
and gets no unit (sending one to a made-up point would waste it). The console lists these SOS
on their own so the dispatcher asks the caller where they are; the first point the phone sends
(``sos.position``, the trail) then places the SOS, which is clustered and dispatched as any other.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core.errors import NotFound
from tocsin.dispatch import incidents
from tocsin.dispatch.models import DispatchIncidentSos
from tocsin.sos import service as sos_service


def unlocated(session: Session, *, limit: int = 1000) -> list[sos_service.Unplaced]:
    """Open SOS without a position that no incident holds yet, newest first."""
    found: list[sos_service.Unplaced] = []
    offset = 0
    while len(found) < limit:
        page = sos_service.open_without_position(session, limit=limit, offset=offset)
        if not page:
            break
        offset += len(page)
        # Placed by their first position: in an incident, though the SOS row keeps no point.
        placed = set(session.scalars(select(DispatchIncidentSos.sos_id).where(
            DispatchIncidentSos.sos_id.in_([s.id for s in page]))))
        found += [s for s in page if s.id not in placed]
    return found[:limit]


def first_position(
    session: Session, *, sos_id: str, lat: float, lon: float, accuracy_m: float
) -> incidents.SosIn | None:
    """The SOS to cluster at its first position, or None (placed already, closed, or gone)."""
    if incidents.incident_of_sos(session, sos_id=sos_id) is not None:
        return None
    try:
        sos = sos_service.get_sos(session, sos_id=sos_id)
    except NotFound:
        return None
    if sos.status != "open":
        return None
    return incidents.SosIn(sos_id=sos.id, lat=lat, lon=lon, accuracy_m=accuracy_m,
                           situation=sos.situation, people=sos.people,
                           received_at=sos.received_at)
