"""What a unit reads of the incident it is offered or sent to: people, the caller's latest words.

A crew deciding to accept must know how many people wait and what a caller last wrote ("they
are reloading"). The words are sealed in the sos domain and read through its audited read, under
the unit's own account, only for the unit the offer is addressed to and only while the offer
or mission is in force. Only the most recent few SOS of an incident are read: the brief is for
the latest words, and an incident of 300 SOS must not cost 300 audited reads per look.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tocsin.core.auth import Principal
from tocsin.core.errors import Conflict, NotFound
from tocsin.dispatch import assign, incidents
from tocsin.dispatch.schemas import BriefOut
from tocsin.sos import service as sos_service

RECENT_SOS = 5


def brief(session: Session, *, assignment_id: str, actor: Principal) -> BriefOut:
    """The brief of the caller's own live assignment (403 another unit's, 409 once over)."""
    assignment = assign.own_assignment(session, assignment_id, actor.user_id)
    if assignment.status not in assign.LIVE:
        raise Conflict(f"this assignment is {assignment.status}")
    incident = incidents.get_incident(session, incident_id=assignment.incident_id)
    links = incidents.sos_of(session, incident_id=incident.id)
    known = [link.people for link in links if link.people is not None]
    latest: tuple[dt.datetime, str] | None = None
    reason = f"brief of the unit on assignment {assignment.id}"
    for link in sorted(links, key=lambda x: x.received_at, reverse=True)[:RECENT_SOS]:
        try:
            detail = sos_service.read_sos_detail(session, sos_id=link.sos_id, actor=actor,
                                                 reason=reason)
        except NotFound:  # purged by the sos domain meanwhile
            continue
        words = [(m.at, m.text) for m in detail.messages if m.sender == "citizen"]
        if detail.text:
            words.append((detail.received_at, detail.text))
        for at, text in words:
            if latest is None or at > latest[0]:
                latest = (at, text)
    return BriefOut(
        sos_count=incident.sos_count,
        people=sum(known) if known else None,
        latest_text=latest[1] if latest else None,
        latest_at=latest[0] if latest else None,
        lat=incident.lat,
        lon=incident.lon,
    )
