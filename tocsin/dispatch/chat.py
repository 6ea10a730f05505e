"""When each caller of an open incident last wrote, and when they were last answered.

The console marks callers who wrote and those left unanswered; the stream tells it only what
happens while it is open, so a console opened (or reloaded) mid-incident reads this once. Only
the message rows' sender and time are read, never the sealed bodies: nothing is decrypted, so
there is nothing to audit. The query reads the sos domain's message table directly (one grouped
SELECT) rather than each SOS's chat through its service, which would unseal every message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.dispatch.models import DispatchIncident, DispatchIncidentSos
from tocsin.sos.models import SosMessage


@dataclass
class ChatState:
    sos_id: str
    citizen_messages: int = 0
    last_citizen_at: dt.datetime | None = None
    last_dispatcher_at: dt.datetime | None = None


def open_chat_state(session: Session) -> list[ChatState]:
    """Per SOS of an open incident that has a chat: message count and last times per side."""
    rows = session.execute(
        select(SosMessage.sos_id, SosMessage.sender, func.count(), func.max(SosMessage.at))
        .join(DispatchIncidentSos, DispatchIncidentSos.sos_id == SosMessage.sos_id)
        .join(DispatchIncident, DispatchIncident.id == DispatchIncidentSos.incident_id)
        .where(DispatchIncident.status == "open")
        .group_by(SosMessage.sos_id, SosMessage.sender)
    ).all()
    states: dict[str, ChatState] = {}
    for sos_id, sender, count, last in rows:
        state = states.setdefault(sos_id, ChatState(sos_id=sos_id))
        if sender == "citizen":
            state.citizen_messages, state.last_citizen_at = int(count), last
        else:
            state.last_dispatcher_at = last
    return list(states.values())
