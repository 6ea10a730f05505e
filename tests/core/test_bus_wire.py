"""Event payloads are sealed on the NATS wire (``tocsin.core.bus.wire``): routing fields in clear,
``data`` opened only with the keyring, bound to its event; consumers read old plain messages and
messages under a rotated-out key that is still listed, and keep a message they cannot open."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import NATS_URL
from tocsin.core import seal
from tocsin.core.bus import Event, wire
from tocsin.core.bus import jetstream as jetstream_module
from tocsin.core.bus.jetstream import JetStreamBus

KEY, OLD_KEY = seal.generate_key(), seal.generate_key()


@pytest.fixture(autouse=True)
def _sealer() -> Iterator[None]:
    seal.configure(seal.Sealer(KEY))
    yield


def _event(**data: object) -> Event:
    return Event(subject="sos.position", data={"lat": 48.8611842, "text": "caché", **data})


def test_payload_is_sealed_and_routing_fields_stay_clear() -> None:
    event = _event()
    raw = wire.encode(event)
    fields = json.loads(raw)
    assert set(fields) == {"id", "subject", "occurred_at", "sealed"}
    assert fields["id"] == event.id and fields["subject"] == "sos.position"
    assert b"48.8611842" not in raw and "caché".encode() not in raw
    assert wire.decode(raw) == event


def test_payload_moved_to_another_event_does_not_open() -> None:
    one, other = json.loads(wire.encode(_event())), json.loads(wire.encode(_event()))
    forged = {**other, "sealed": one["sealed"]}
    with pytest.raises(seal.SealError):
        wire.decode(json.dumps(forged).encode())
    moved = {**one, "subject": "alerts.published"}
    with pytest.raises(seal.SealError):
        wire.decode(json.dumps(moved).encode())


def test_plain_messages_of_the_earlier_form_are_read() -> None:
    event = _event()
    assert wire.decode(event.model_dump_json().encode()) == event


def test_rotated_out_key_opens_while_listed_and_fails_loudly_after() -> None:
    seal.configure(seal.Sealer(OLD_KEY))
    raw = wire.encode(_event())
    seal.configure(seal.Sealer(KEY, [OLD_KEY]))
    assert wire.decode(raw).data["text"] == "caché"
    seal.configure(seal.Sealer(KEY))
    with pytest.raises(seal.SealError):
        wire.decode(raw)


@pytest.mark.parametrize("raw", [b"[]", b"{}", b'{"id":"x","subject":"a.b","sealed":"%%%"}',
                                 b'{"id":"x","subject":"a.b","sealed":"QUJD","data":{}}',
                                 b'{"subject":"a.b","sealed":"QUJD"}', b"not json"])
def test_malformed_messages_raise_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):
        wire.decode(raw)


async def test_consumer_keeps_a_message_it_cannot_open_until_the_key_is_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Real JetStream: a message under a key the worker lacks is not handled and not lost; once
    the key is listed in the old keys, it is delivered. Plain and sealed ones pass meanwhile."""
    monkeypatch.setattr(jetstream_module, "UNOPENED_RETRY_S", 0.3)
    tag = uuid.uuid4().hex[:8]
    bus = JetStreamBus(NATS_URL, stream=f"WIRETEST_{tag.upper()}", prefix=f"wiretest{tag}")
    await bus.connect()
    got: list[Event] = []

    async def handler(event: Event) -> None:
        got.append(event)

    try:
        seal.configure(seal.Sealer(OLD_KEY))
        early = _event(n=1)
        await bus.publish(early)  # sealed under a key the consumer will not hold at first
        seal.configure(seal.Sealer(KEY))
        plain = _event(n=2)
        js = await bus._ready()
        await js.publish(bus._wire(plain.subject), plain.model_dump_json().encode(),
                         stream=bus.stream)  # a message from before payloads were sealed
        sealed = _event(n=3)
        await bus.publish(sealed)
        sub = await bus.subscribe("sos.*", handler, durable=f"wire_{tag}")
        for _ in range(100):
            if len(got) >= 2:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # several redeliveries of the unopened one meanwhile
        assert sorted(e.data["n"] for e in got) == [2, 3]
        seal.configure(seal.Sealer(KEY, [OLD_KEY]))  # the operator lists the key again
        for _ in range(100):
            if len(got) == 3:
                break
            await asyncio.sleep(0.05)
        assert [e.id for e in got if e.data["n"] == 1] == [early.id]
        await sub.stop()
    finally:
        await bus.delete_stream()
        await bus.close()
