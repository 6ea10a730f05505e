"""Events on the NATS wire: routing fields in clear, the payload sealed.

JetStream keeps every message in its file store for the stream's ``max_age`` (14 days), and event
payloads carry what the domain tables seal (an SOS position or trail point, a safety mark's
position). So the ``data`` of every event is sealed with the deployment's keyring
(``tocsin.core.seal``, AES-256-GCM) before it leaves the process, and opened by the consumer:

    {"id": "…", "subject": "sos.created", "occurred_at": "…", "sealed": "<base64>"}

``id``, ``subject`` and ``occurred_at`` stay in clear: NATS routes on the subject, drops
duplicates by ``Nats-Msg-Id`` (the id) and consumers drop redeliveries by id before handling.
The sealed bytes are bound to ``bus.event:<subject>:<id>`` (associated data), so a payload moved
onto another event or subject does not open. Messages of the earlier plain form (``data`` in
clear, still in a stream written before this change) are read as they are.

Key rotation: a message is opened with whatever key sealed it, from ``TOCSIN_SEAL_KEY`` or
``TOCSIN_SEAL_OLD_KEYS``. Messages in the stream cannot be re-sealed (JetStream messages are
immutable), so an old key stays listed until the stream's max age has passed since the switch
(docs/security.md). The in-process bus never serialises events and needs none of this.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from pydantic_core import to_json

from tocsin.core import seal
from tocsin.core.bus.base import Event


def context(subject: str, event_id: str) -> str:
    """Return the associated data a payload is sealed for: its event's subject and id."""
    return f"bus.event:{subject}:{event_id}"


def encode(event: Event, sealer: seal.Sealer | None = None) -> bytes:
    """Serialise ``event`` for the wire with its ``data`` sealed by ``sealer``.

    ``sealer``: the worker's (``JetStreamBus`` passes its own); ``None`` takes the process's
    default (``tocsin.core.seal.configure``), for tools and tests with a single key.
    """
    keys = sealer or seal.active_sealer()
    blob = keys.seal(to_json(event.data), context(event.subject, event.id))
    head = to_json({"id": event.id, "subject": event.subject, "occurred_at": event.occurred_at})
    # Append the sealed field to the routing fields' JSON object (…"} → …","sealed":"…"}).
    return head[:-1] + b',"sealed":"' + base64.b64encode(blob) + b'"}'


def decode(raw: bytes, sealer: seal.Sealer | None = None) -> Event:
    """Parse a wire message back into an event, opening its payload.

    Raises ``ValueError`` for a malformed message and ``seal.SealError`` for a payload that does
    not open (a key this worker lacks, or tampering). ``sealer`` as for :func:`encode`.
    """
    fields: Any = json.loads(raw)
    if not isinstance(fields, dict):
        raise ValueError("an event must be a JSON object")
    sealed = fields.pop("sealed", None)
    if sealed is not None:
        if not isinstance(sealed, str) or "data" in fields:
            raise ValueError("malformed sealed event")
        subject, event_id = fields.get("subject"), fields.get("id")
        if not isinstance(subject, str) or not isinstance(event_id, str):
            raise ValueError("a sealed event needs its subject and id")
        try:
            blob = base64.b64decode(sealed, validate=True)
        except ValueError as exc:
            raise ValueError("sealed payload is not base64") from exc
        opened = (sealer or seal.active_sealer()).open(blob, context(subject, event_id))
        fields["data"] = json.loads(opened)
    return Event.model_validate(fields)
