"""Migration ``20261124_core_outbox``: the outbox's JSON envelope becomes a ``SealedJSON`` column.

Rows of the old form (the ``{"sealed": base64}`` envelope, and plain JSON written before the
outbox was sealed) are converted on SQLite and PostgreSQL alike, read back unchanged through the
model, published by the relay, and the downgrade gives the envelope back.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from tests.conftest import SEAL_KEY
from tocsin.core import seal
from tocsin.core.bus import Event
from tocsin.core.bus.memory import MemoryBus
from tocsin.core.db import UTCDateTime, make_engine, make_sessionmaker
from tocsin.core.migrate import alembic_config, upgrade
from tocsin.core.outbox import OutboxEvent
from tocsin.core.relay import OutboxRelay

BEFORE, AFTER = "20261123_core_mfa", "20261124_core_outbox"
CONTEXT = "outbox_event.payload"


@pytest.fixture(autouse=True)
def _sealer() -> None:
    """The migration seals and opens payloads with the suite's key."""
    seal.configure(seal.Sealer(SEAL_KEY))


def _payload(marker: str) -> dict[str, Any]:
    return Event(subject="probe.migrated", data={"text": marker}).model_dump(mode="json")


def _envelope(payload: dict[str, Any]) -> dict[str, str]:
    """What the previous ``SealedPayload`` type stored."""
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return {"sealed": base64.b64encode(seal.active_sealer().seal(data, CONTEXT)).decode()}


OLD = sa.table("outbox_event", sa.column("id", sa.String()), sa.column("subject", sa.String()),
               sa.column("payload", sa.JSON()), sa.column("created_at", UTCDateTime()),
               sa.column("published_at", UTCDateTime()), sa.column("attempts", sa.Integer()))


def test_envelope_and_plain_rows_convert_both_ways(fresh_url: str) -> None:
    upgrade(fresh_url, BEFORE)
    marker = uuid.uuid4().hex
    payloads = {f"e{i}": _payload(f"{marker}-{i}") for i in range(3)}
    stored = {"e0": _envelope(payloads["e0"]), "e1": _envelope(payloads["e1"]),
              "e2": payloads["e2"]}  # e2: plain, from before the outbox was sealed
    engine = make_engine(fresh_url, pool_size=1)
    now = dt.datetime(2026, 11, 23, 22, 0, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(OLD.insert(), [
            {"id": key, "subject": "probe.migrated", "payload": value, "attempts": 0,
             "created_at": now + dt.timedelta(seconds=i),
             "published_at": now if key == "e1" else None}
            for i, (key, value) in enumerate(stored.items())])
    engine.dispose()

    upgrade(fresh_url, AFTER)
    engine = make_engine(fresh_url, pool_size=1)
    with engine.connect() as conn:
        raw = {row[0]: bytes(row[1]) for row in conn.execute(sa.select(
            OutboxEvent.id, sa.type_coerce(OutboxEvent.payload, sa.LargeBinary)))}
    # Every row is now a sealed value under the current key; the envelope's bytes were kept.
    assert raw["e0"] == base64.b64decode(stored["e0"]["sealed"])
    for blob in raw.values():
        assert seal.key_id_of_blob(blob) == seal.active_sealer().current_key_id
        assert marker.encode() not in blob
    with Session(engine) as session:
        read = {row.id: row.payload for row in session.scalars(sa.select(OutboxEvent))}
    assert read == payloads

    # The relay publishes the two pending rows from the converted column.
    async def relay() -> list[Event]:
        bus, got = MemoryBus(), []

        async def handler(event: Event) -> None:
            got.append(event)

        await bus.subscribe("probe.*", handler, durable="migrated")
        await OutboxRelay(make_sessionmaker(engine), bus).relay_once()
        await bus.drain()
        await bus.close()
        return got

    published = asyncio.run(relay())
    assert [e.model_dump(mode="json") for e in published] == [payloads["e0"], payloads["e2"]]
    engine.dispose()

    command.downgrade(alembic_config(fresh_url), BEFORE)
    engine = make_engine(fresh_url, pool_size=1)
    with engine.connect() as conn:
        old = {row[0]: row[1] for row in conn.execute(sa.select(OLD.c.id, OLD.c.payload))}
    engine.dispose()
    assert old["e0"] == stored["e0"]
    for key, envelope in old.items():
        assert set(envelope) == {"sealed"}
        opened = seal.active_sealer().open(base64.b64decode(envelope["sealed"]), CONTEXT)
        assert json.loads(opened) == payloads[key]

    upgrade(fresh_url)  # and forward again, to every head
