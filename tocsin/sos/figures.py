"""Figures the SOS domain contributes to the observatory (contract: ``tocsin.core.figures``).

One fact per SOS, at its acknowledgement time, by situation, placed on the map. It arrives
from ``sos.created`` at once; the periodic sweep over the ``sos`` table is the safety net.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core.bus import Event
from tocsin.core.figures import Fact, Kind, parse_time
from tocsin.sos import events
from tocsin.sos.models import Sos
from tocsin.sos.schemas import Situation

KINDS = (
    Kind("sos.created", "SOS reçus", "SOS received",
         categories=tuple(s.value for s in Situation), mapped=True, watch=True,
         details="", public=True),
)
SUBJECTS = (events.SOS_CREATED,)


def from_event(session: Session, event: Event) -> list[Fact]:
    """Turn ``sos.created`` into its fact."""
    data = event.data
    at = parse_time(data.get("received_at")) or event.occurred_at
    return [Fact("sos.created", str(data["sos_id"]), at, category=str(data.get("situation", "")),
                 lat=data.get("lat"), lon=data.get("lon"))]


def from_tables(session: Session, start: dt.datetime, end: dt.datetime) -> list[Fact]:
    """Return one fact per SOS received in ``[start, end)``."""
    rows = session.execute(
        select(Sos.id, Sos.received_at, Sos.situation, Sos.lat, Sos.lon)
        .where(Sos.received_at >= start, Sos.received_at < end)
    )
    return [Fact("sos.created", r.id, r.received_at, category=r.situation, lat=r.lat, lon=r.lon)
            for r in rows]
