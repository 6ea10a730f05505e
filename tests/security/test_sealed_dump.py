"""Sensitive plaintexts written through the API never reach the database in clear (issue 10).

Known markers go through every route that writes a sealed field (SOS text, chat and trail;
safety marks; shelter addresses, directions, notes and reports; persons' contact details; push
keys and webhook secrets of alerts and watch). Then the whole database is read back raw:
SQLite's main file and its WAL as bytes, PostgreSQL every row of every table as text (``bytea``
columns appear in hex, so the hex form of each marker is looked for as well). None may appear.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import secrets
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nats
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic_core import to_json
from sqlalchemy import func, select, text

from tests.factories import create_account, login
from tests.reliability.harness import PrivateNats
from tests.shelter.helpers import device, follow, offer_body, request_body
from tests.sos.factories import sos_body
from tocsin.core.auth.roles import Role
from tocsin.core.bus import wire
from tocsin.core.db import Base, utcnow
from tocsin.core.outbox import pending_count
from tocsin.dispatch.models import DispatchIncident

POLYGON = [[2.360, 48.855], [2.385, 48.855], [2.385, 48.872], [2.360, 48.872], [2.360, 48.855]]


def _ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json() if response.content else {}
    return body


def write_sensitive_everywhere(client: TestClient, tag: str,
                               tokens: list[str] | None = None) -> list[str]:
    """Write one distinct marker into every sealed field reachable by the API; return them.

    The secret tokens handed out on the way (follow-up, management, lookup codes) are appended
    to ``tokens``: the logs test looks for those too.
    """
    tokens = [] if tokens is None else tokens
    m = {k: f"{k}{tag}" for k in ("sostext", "sosmsg", "safetymsg", "address", "directions",
                                   "offernote", "requestnote", "reporttext")}
    # Coordinates of a trail point / a mark: digits that appear nowhere else.
    trail_lat, mark_lat = "48.8611" + tag_digits(tag, 5), "48.8622" + tag_digits(tag, 5)
    phone = "+33 6 " + " ".join(tag_digits(tag, 8)[i:i + 2] for i in (0, 2, 4, 6))
    email = f"proche.{tag}@example.org"
    found_email = f"retrouve.{tag}@example.org"

    ack = _ok(client.post("/api/v1/sos", json=sos_body(text=m["sostext"])))
    token = {"X-Follow-Up-Token": ack["follow_up_token"]}
    tokens.append(ack["follow_up_token"])
    _ok(client.post(f"/api/v1/sos/{ack['id']}/messages", json={"text": m["sosmsg"]},
                    headers=token))
    _ok(client.post(f"/api/v1/sos/{ack['id']}/positions", headers=token,
                    json={"lat": float(trail_lat), "lon": 2.37, "accuracy_m": 8}), 204)

    authority = login(client, Role.authority)
    check = _ok(client.post("/api/v1/safety/checks", headers=authority, json={
        "name": "Paris 11e", "area": {"type": "polygon", "coordinates": POLYGON},
        "ends_at": (utcnow() + dt.timedelta(days=1)).isoformat()}))
    _ok(client.post(f"/api/v1/safety/checks/{check['id']}/approve",
                    headers=login(client, Role.authority)), 200)
    mark = _ok(client.post("/api/v1/safety/marks", headers={"X-Device-Token": "dump-1"}, json={
        "check_id": check["id"], "status": "need_help", "lat": float(mark_lat), "lon": 2.37,
        "name": f"Nom{tag}", "phone": phone, "message": m["safetymsg"]}))
    _ok(client.get("/api/v1/safety/lookup", params={"code": mark["code"]}), 200)
    tokens.append(mark["code"])

    offer = _ok(client.post("/api/v1/shelter/offers", headers=device(), json=offer_body(
        address=m["address"], directions=m["directions"], note=m["offernote"])))
    request = _ok(client.post("/api/v1/shelter/requests", headers=device(),
                              json=request_body(note=m["requestnote"], people=1)))
    tokens += [offer["manage_token"], request["token"]]
    _ok(client.post(f"/api/v1/shelter/requests/{request['id']}/ask",
                    json={"offer_id": offer["id"]}, headers=follow(request["token"])), 200)
    _ok(client.post(f"/api/v1/shelter/requests/{request['id']}/report",
                    headers=follow(request["token"]),
                    json={"offer_id": offer["id"], "reason": "unsafe", "text": m["reporttext"]}))

    person = _ok(client.post("/api/v1/persons", json={
        "full_name": "Camille Dumont", "author_name": "Sa sœur", "author_email": email,
        "author_phone": phone}))
    _ok(client.post("/api/v1/persons/notes", json={
        "person_record_id": person["person_record_id"], "author_name": "Voisin",
        "text": "Vue rue de Charonne", "status": "believed_alive",
        "email_of_found_person": found_email}))

    p256dh = base64.urlsafe_b64encode(b"\x04" + secrets.token_bytes(64)).decode().rstrip("=")
    auth = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
    push = _ok(client.post("/api/v1/alerts/subscriptions", json={
        "endpoint": f"https://fcm.googleapis.com/fcm/send/{tag}", "keys": {
            "p256dh": p256dh, "auth": auth}, "lat": 48.86, "lon": 2.35}))
    admin = login(client, Role.admin)
    hook = _ok(client.post("/api/v1/alerts/webhooks", json={"url": "https://relay.example/h"},
                           headers=admin))
    platform = _ok(client.post("/api/v1/watch/platforms", headers=admin,
                               json={"name": f"p{tag[:8].lower()}", "display_name": "P",
                                     "account": create_account(client, Role.platform),
                                     "webhook_url": "https://platform.example/tocsin"}))
    tokens += [push["token"], hook["token"]]
    secrets_out = [hook["secret"], platform["webhook_secret"]]
    assert all(secrets_out)
    return [*m.values(), trail_lat, mark_lat, phone, email, found_email, p256dh, auth,
            f"Nom{tag}", *secrets_out]


def tag_digits(tag: str, n: int) -> str:
    return "".join(str(int(c, 16) % 10) for c in tag)[:n]


def _sqlite_bytes(url: str) -> bytes:
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def _pg_dump_text(url: str) -> bytes:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    chunks: list[str] = []
    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            "SELECT quote_ident(table_name) FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'").fetchall()
        for (table,) in tables:
            for (row,) in conn.execute(f"SELECT t::text FROM {table} t"):
                chunks.append(row)
    assert len(tables) >= 20
    return "\n".join(chunks).encode()


@pytest.fixture(autouse=True)
def _outbound_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Allow the webhook hosts used here (set before the worker starts and reads them)."""
    monkeypatch.setenv("TOCSIN_ALERTS_WEBHOOK_HOSTS", "relay.example")
    monkeypatch.setenv("TOCSIN_WATCH_WEBHOOK_HOSTS", "platform.example")


def test_database_dump_holds_no_sensitive_plaintext(client: TestClient, mode: str) -> None:
    tag = secrets.token_hex(8).upper()
    markers = write_sensitive_everywhere(client, tag)
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    time.sleep(1.0)  # let the relay publish and the consumers write what they derive
    url = runtime.settings.resolved_database_url
    if mode == "embedded":
        with runtime.engine.connect() as conn:  # read both, unmerged and merged
            dump = _sqlite_bytes(url)
            conn.execute(text("PRAGMA wal_checkpoint(FULL)"))
        dump += _sqlite_bytes(url)
    else:
        dump = _pg_dump_text(url)
    assert len(dump) > 10_000
    leaked = []
    for marker in markers:
        raw = marker.encode()
        forms = {raw, raw.hex().encode(), marker.encode("unicode_escape")}
        if any(form in dump for form in forms):
            leaked.append(marker)
    assert leaked == [], f"plaintext in the database: {_where(runtime.engine, leaked)}"


def _where(engine: Any, leaked: list[str]) -> dict[str, list[str]]:
    """Name the tables holding each leaked marker (for the failure message)."""
    found: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(text(f'SELECT * FROM "{table.name}"')):
                for marker in leaked:
                    if marker in repr(tuple(row)):
                        found.setdefault(marker, []).append(table.name)
    return found


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[PrivateNats]:
    """A nats-server of this test's own, so its JetStream store directory can be read."""
    server = PrivateNats(tmp_path / "js")
    server.start()
    yield server
    server.kill()


def _stored_messages(url: str, stream: str) -> list[tuple[bytes, bytes]]:
    """Every message the stream holds, as stored: (headers as bytes, data)."""

    async def read() -> list[tuple[bytes, bytes]]:
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            state = (await js.stream_info(stream)).state
            out = []
            for seq in range(state.first_seq, state.last_seq + 1):
                msg = await js.get_msg(stream, seq)
                out.append((repr(msg.headers).encode(), msg.data or b""))
            return out
        finally:
            await nc.close()

    return asyncio.run(read())


def _forms(marker: str) -> set[bytes]:
    forms = {marker.encode(), marker.encode().hex().encode(), marker.encode("unicode_escape")}
    # A coordinate travels as a JSON number: 48.861180830 is written 48.86118083.
    with contextlib.suppress(ValueError):
        forms.add(repr(float(marker)).encode())
    return forms


def _found(markers: list[str], blob: bytes) -> list[str]:
    return [m for m in markers if any(f in blob for f in _forms(m))]


def test_bus_store_holds_no_sensitive_plaintext(
    make_app: Callable[..., FastAPI], private_nats: PrivateNats
) -> None:
    """The same markers through a worker on NATS: JetStream's stored messages and its store
    directory on disk hold none of them; the consumers (dispatch, safety, ...) still work."""
    stream = "SEALDUMP"
    app = make_app(bus_url=private_nats.url, bus_stream=stream, bus_prefix="sealdump")
    tag = secrets.token_hex(8).upper()
    with TestClient(app) as client:
        markers = write_sensitive_everywhere(client, tag)
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        deadline = time.monotonic() + 30
        while True:  # every event relayed, and the dispatch consumer did its work
            with runtime.sessions() as session:
                pending = pending_count(session)
                offered = session.scalar(select(func.count()).select_from(DispatchIncident))
            if pending == 0 and offered:
                break
            assert time.monotonic() < deadline, f"{pending} events still in the outbox"
            time.sleep(0.1)
        stored = _stored_messages(private_nats.url, stream)
    assert len(stored) >= 10
    events = [wire.decode(data) for _, data in stored]
    # Control: the events do carry sensitive values (positions), which the key opens.
    opened = b"".join(to_json(e.data) for e in events)
    carried = _found(markers, opened)
    assert carried, "no marker travels on the bus: the test would prove nothing"
    assert {"sos.created", "sos.position", "safety.help_requested"} <= {e.subject for e in events}
    raw = b"".join(h + d for h, d in stored)
    assert _found(markers, raw) == []
    assert all(e.id.encode() in raw and e.subject.encode() in raw for e in events)

    private_nats.proc.send_signal(signal.SIGTERM)  # a clean stop flushes the file store
    private_nats.proc.wait(timeout=30)
    private_nats.proc = None
    files = [p for p in (private_nats.store).rglob("*") if p.is_file()]
    disk = b"".join(p.read_bytes() for p in files)
    assert all(e.id.encode() in disk for e in events), "the store directory was not the stream's"
    assert _found(markers, disk) == [], f"in clear in {private_nats.store}: {carried}"
