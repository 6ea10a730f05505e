"""SOS domain logic: intake (single and group-committed batches), follow-up, dispatcher reads.

Services never commit: the router, the batcher's writer thread or the caller does. Functions the
dispatch domain may call: ``get_sos``, ``list_open_sos``, ``read_sos_detail``,
``post_dispatcher_message``, ``close_sos``.

The follow-up token is derived from the device's secret ``client_id`` and the SOS id (HMAC), so a
retry with the same ``client_id`` gets the same token back although only digests are stored.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from tocsin.core import audit
from tocsin.core.auth import Principal
from tocsin.core.bus import Event
from tocsin.core.db import insert_rows, utcnow
from tocsin.core.entropy import uuid4_hex
from tocsin.core.errors import Conflict, DomainError, NotFound
from tocsin.core.outbox import OutboxEvent, add_event, hand_over
from tocsin.sos import events
from tocsin.sos.models import Sos, SosMessage, SosPosition
from tocsin.sos.schemas import (
    MessageOut,
    PositionOut,
    Situation,
    SosDetail,
    SosIn,
    SosSummary,
)

_TOKEN_LABEL = b"tocsin.sos.follow-up.v1"


class FollowUpDenied(DomainError):
    """Wrong or missing follow-up token (the same answer for an unknown SOS: ids are not probed)."""

    status = 403
    code = "forbidden"


class SosClosed(Conflict):
    """The SOS is closed: the channel no longer takes messages or positions."""


def digest(value: str) -> str:
    """Return the SHA-256 hex digest under which a secret is stored."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def follow_up_token(client_id: str, sos_id: str) -> str:
    """Derive the follow-up token of an SOS from the device's secret ``client_id``."""
    mac = hmac.new(_TOKEN_LABEL, f"{client_id}|{sos_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


@dataclass(slots=True)
class NewSos:
    """A validated SOS waiting for its transaction (``client_id`` stays in memory only)."""

    id: str
    client_id: str
    client_hash: str
    token: str
    data: SosIn
    received_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Ack:
    """The answer to one intake: ``created`` is False for a retry of a known ``client_id``."""

    id: str
    follow_up_token: str
    received_at: dt.datetime
    created: bool


def prepare(data: SosIn, *, now: dt.datetime | None = None) -> NewSos:
    """Turn a validated request into a record ready to insert."""
    sos_id = uuid4_hex()
    return NewSos(
        id=sos_id,
        client_id=data.client_id,
        client_hash=digest(data.client_id),
        token=follow_up_token(data.client_id, sos_id),
        data=data,
        received_at=now or utcnow(),
    )


def sos_row(item: NewSos) -> dict[str, object]:
    """The ``sos`` table row of ``item``."""
    data = item.data
    return {
        "id": item.id,
        "client_hash": item.client_hash,
        "token_hash": digest(item.token),
        "lat": data.lat,
        "lon": data.lon,
        "accuracy_m": data.accuracy_m,
        "situation": data.situation.value,
        "people": data.people,
        "text": data.text,
        "status": "open",
        "received_at": item.received_at,
        "closed_at": None,
    }


def created_event(item: NewSos) -> Event:
    """The ``sos.created`` event of ``item``."""
    data = item.data
    payload = events.SosCreated(
        sos_id=item.id,
        lat=data.lat,
        lon=data.lon,
        accuracy_m=data.accuracy_m,
        situation=data.situation.value,
        people=data.people,
        received_at=_iso(item.received_at),
    )
    return Event(subject=events.SOS_CREATED, data=payload.model_dump())


SOS_TABLE = cast(Table, Sos.__table__)
OUTBOX_TABLE = cast(Table, OutboxEvent.__table__)


def _add_all(session: Session, items: list[NewSos]) -> None:
    """Insert the SOS rows and their ``sos.created`` outbox rows with two multi-row INSERTs.

    Core inserts on the tables (``insert_rows``), not the ORM's bulk insert: the rows are complete
    dicts already, and the ORM bulk-insert layer over them added 15-25 % to their insert.
    """
    if not items:
        return
    insert_rows(session, SOS_TABLE, [sos_row(item) for item in items])
    # The rows ``add_event`` would write, in one INSERT, handed over to the relay (no re-read).
    events_out = [created_event(item) for item in items]
    insert_rows(session, OUTBOX_TABLE, hand_over(session, events_out))


def insert_batch(session: Session, *, items: list[NewSos]) -> list[Ack]:
    """Add every new SOS of ``items`` with its event; answer retries with the known SOS.

    Idempotency: a ``client_id`` already committed, or repeated inside the batch, maps to the one
    SOS. The unique index on ``client_hash`` settles a race with another worker (the caller
    retries the batch on ``IntegrityError``). Returns one ``Ack`` per item, in order.
    """
    known = known_intakes(session, hashes={item.client_hash for item in items})
    fresh, acks = plan_batch(items, known)
    _add_all(session, fresh)
    return acks


def known_intakes(session: Session, *, hashes: set[str]) -> dict[str, tuple[str, dt.datetime]]:
    """The SOS already committed for these ``client_hash`` values: {hash: (id, received_at)}."""
    return {
        row.client_hash: (row.id, row.received_at)
        # Core, on the session's connection: the ORM's select machinery cost more than the query.
        for row in session.connection().execute(
            select(SOS_TABLE.c.client_hash, SOS_TABLE.c.id, SOS_TABLE.c.received_at).where(
                SOS_TABLE.c.client_hash.in_(hashes)
            )
        )
    }


def plan_batch(
    items: list[NewSos], known: dict[str, tuple[str, dt.datetime]]
) -> tuple[list[NewSos], list[Ack]]:
    """Which items are new SOS (the first of each ``client_id`` not ``known``), and every
    item's acknowledgement, in order."""
    fresh: dict[str, NewSos] = {}
    for item in items:
        if item.client_hash not in known and item.client_hash not in fresh:
            fresh[item.client_hash] = item
    acks = []
    for item in items:
        if item.client_hash in known:
            sos_id, received_at = known[item.client_hash]
            created = False
        else:
            first = fresh[item.client_hash]
            sos_id, received_at, created = first.id, first.received_at, first is item
        token = item.token if sos_id == item.id else follow_up_token(item.client_id, sos_id)
        acks.append(Ack(sos_id, token, received_at, created))
    return list(fresh.values()), acks


def create_sos(session: Session, *, data: SosIn, now: dt.datetime | None = None) -> Ack:
    """Record one SOS (or find the one with the same ``client_id``); the caller commits."""
    ack = insert_batch(session, items=[prepare(data, now=now)])[0]
    session.flush()
    return ack


def get_sos(session: Session, *, sos_id: str) -> Sos:
    """Return the SOS ``sos_id`` (sealed fields are not for display: use ``read_sos_detail``)."""
    sos = session.get(Sos, sos_id) if len(sos_id) <= 32 else None
    if sos is None:
        raise NotFound(f"no SOS {sos_id!r}")
    return sos


def list_open_sos(session: Session, *, limit: int = 1000) -> list[Sos]:
    """Return open SOS, oldest first (crash recovery and queues)."""
    query = select(Sos).where(Sos.status == "open").order_by(Sos.received_at).limit(limit)
    return list(session.scalars(query))


@dataclass(frozen=True)
class Unplaced:
    """An open SOS sent "position unknown": what a dispatcher needs to ask where it is."""

    id: str
    situation: str
    people: int | None
    received_at: dt.datetime


def open_without_position(session: Session, *, limit: int = 1000,
                          offset: int = 0) -> list[Unplaced]:
    """Return open SOS sent "position unknown" (no point at intake), newest first."""
    rows = session.execute(
        select(Sos.id, Sos.situation, Sos.people, Sos.received_at)
        .where(Sos.status == "open", Sos.lat.is_(None))
        .order_by(Sos.received_at.desc(), Sos.id).limit(limit).offset(offset)).all()
    return [Unplaced(*row) for row in rows]


@dataclass(frozen=True)
class ChatActivity:
    """How much one side of an SOS's chat wrote, and when last: never the bodies (sealed)."""

    sos_id: str
    sender: str
    messages: int
    last_at: dt.datetime


def chat_activity(session: Session, *, sos_ids: list[str]) -> list[ChatActivity]:
    """Per SOS and side, the number of messages and the last one's time (nothing unsealed)."""
    found: list[ChatActivity] = []
    for start in range(0, len(sos_ids), 500):  # bounded IN lists
        chunk = sos_ids[start:start + 500]
        rows = session.execute(
            select(SosMessage.sos_id, SosMessage.sender, func.count(), func.max(SosMessage.at))
            .where(SosMessage.sos_id.in_(chunk))
            .group_by(SosMessage.sos_id, SosMessage.sender)).all()
        found += [ChatActivity(sos_id, sender, int(count), last)
                  for sos_id, sender, count, last in rows]
    return found


def authorize_follow_up(session: Session, *, sos_id: str, token: str | None) -> Sos:
    """Return the SOS if ``token`` is its follow-up token, else raise ``FollowUpDenied``."""
    sos = session.get(Sos, sos_id) if token and len(sos_id) <= 32 else None
    # Compare digests in constant time; an unknown id gets the same refusal as a wrong token.
    if sos is None or not hmac.compare_digest(sos.token_hash, digest(token or "")):
        raise FollowUpDenied("wrong follow-up token for this SOS")
    return sos


def _open(sos: Sos) -> Sos:
    if sos.status != "open":
        raise SosClosed("this SOS is closed")
    return sos


def _message(session: Session, sos: Sos, sender: str, body: str) -> SosMessage:
    message = SosMessage(id=uuid.uuid4().hex, sos_id=sos.id, sender=sender, body=body, at=utcnow())
    session.add(message)
    payload = events.SosMessage(
        sos_id=sos.id,
        message_id=message.id,
        sender=sender,
        at=_iso(message.at),  # type: ignore[arg-type]
    )
    add_event(session, events.SOS_MESSAGE, payload.model_dump())
    return message


def add_citizen_message(session: Session, *, sos: Sos, body: str) -> SosMessage:
    """Add a text from the citizen (already authorised by the follow-up token)."""
    return _message(session, _open(sos), "citizen", body)


def add_position(
    session: Session, *, sos: Sos, lat: float, lon: float, accuracy_m: float
) -> SosPosition:
    """Add a point to the citizen's trail (sealed) and announce it to dispatch."""
    _open(sos)
    now = utcnow()
    point = SosPosition(
        sos_id=sos.id, point={"lat": lat, "lon": lon, "accuracy_m": accuracy_m}, at=now
    )
    session.add(point)
    payload = events.SosPosition(
        sos_id=sos.id, lat=lat, lon=lon, accuracy_m=accuracy_m, at=_iso(now)
    )
    add_event(session, events.SOS_POSITION, payload.model_dump())
    return point


def list_messages(session: Session, *, sos_id: str) -> list[MessageOut]:
    """Return the chat of an SOS, oldest first (decrypted: callers authorise and audit)."""
    rows = session.scalars(
        select(SosMessage).where(SosMessage.sos_id == sos_id).order_by(SosMessage.at, SosMessage.id)
    )
    return [
        MessageOut(id=m.id, sender=m.sender, text=m.body, at=m.at)  # type: ignore[arg-type]
        for m in rows
    ]


def _trail(session: Session, sos_id: str) -> list[PositionOut]:
    rows = session.scalars(
        select(SosPosition).where(SosPosition.sos_id == sos_id).order_by(SosPosition.id)
    )
    return [PositionOut(**p.point, at=p.at) for p in rows]


def summary(sos: Sos) -> SosSummary:
    """Describe an SOS without its sealed fields."""
    return SosSummary(
        id=sos.id,
        lat=sos.lat,
        lon=sos.lon,
        accuracy_m=sos.accuracy_m,
        position_unknown=sos.lat is None,
        situation=Situation(sos.situation),
        people=sos.people,
        status=sos.status,  # type: ignore[arg-type]
        received_at=sos.received_at,
        closed_at=sos.closed_at,
    )


def read_sos_detail(session: Session, *, sos_id: str, actor: Principal, reason: str) -> SosDetail:
    """Return the SOS with text, trail and chat, and write the read to the audit log."""
    sos = get_sos(session, sos_id=sos_id)
    audit.record_read(session, actor=actor, object_type="sos", object_id=sos.id, reason=reason)
    return SosDetail(
        **summary(sos).model_dump(),
        text=sos.text,
        trail=_trail(session, sos.id),
        messages=list_messages(session, sos_id=sos.id),
    )


def post_dispatcher_message(
    session: Session, *, sos_id: str, actor: Principal, body: str
) -> SosMessage:
    """Send a silent reply to the citizen; the act is audited (not its content)."""
    sos = _open(get_sos(session, sos_id=sos_id))
    message = _message(session, sos, "dispatcher", body)
    audit.record(session, actor=actor, action="sos_reply", object_type="sos", object_id=sos.id)
    return message


def close_sos(session: Session, *, sos_id: str, actor: Principal | str) -> Sos:
    """Close the SOS (idempotent): the chat stops and the retention period starts."""
    sos = get_sos(session, sos_id=sos_id)
    if sos.status == "closed":
        return sos
    sos.status = "closed"
    sos.closed_at = utcnow()
    add_event(
        session,
        events.SOS_CLOSED,
        events.SosClosed(sos_id=sos.id, at=_iso(sos.closed_at)).model_dump(),
    )
    audit.record(session, actor=actor, action="sos_close", object_type="sos", object_id=sos.id)
    return sos
