"""When each caller of an open incident last wrote, and when they were last answered.

The console marks callers who wrote and those left unanswered; the stream tells it only what
happens while it is open, so a console opened (or reloaded) mid-incident reads this once. Only
the message rows' sender and time are read, never the sealed bodies: nothing is decrypted, so
there is nothing to audit. The sos service counts them (``chat_activity``, grouped SELECTs)
rather than dispatch reading each SOS's chat, which would unseal every message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.dispatch.models import DispatchIncident, DispatchIncidentSos
from tocsin.sos import service as sos_service


@dataclass
class ChatState:
    sos_id: str
    citizen_messages: int = 0
    last_citizen_at: dt.datetime | None = None
    last_dispatcher_at: dt.datetime | None = None


def open_chat_state(session: Session) -> list[ChatState]:
    """Per SOS of an open incident that has a chat: message count and last times per side."""
    sos_ids = list(session.scalars(
        select(DispatchIncidentSos.sos_id)
        .join(DispatchIncident, DispatchIncident.id == DispatchIncidentSos.incident_id)
        .where(DispatchIncident.status == "open")))
    states: dict[str, ChatState] = {}
    for activity in sos_service.chat_activity(session, sos_ids=sos_ids):
        state = states.setdefault(activity.sos_id, ChatState(sos_id=activity.sos_id))
        if activity.sender == "citizen":
            state.citizen_messages = activity.messages
            state.last_citizen_at = activity.last_at
        else:
            state.last_dispatcher_at = activity.last_at
    return list(states.values())
