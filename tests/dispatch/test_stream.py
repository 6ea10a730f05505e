"""The console's SSE stream over real HTTP (uvicorn): one worker, and across two workers."""

from __future__ import annotations

import contextlib
import json
import queue
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.factories import PASSWORD, make_user
from tests.served import serve_in_thread as serve
from tests.sos.factories import sos_body
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope
from tocsin.dispatch.models import DispatchIncidentSos

S = "/api/v1/dispatch/stream"


def lonely_sos_body() -> dict[str, Any]:
    """An SOS far from any other test's, so it opens its own incident.

    In cluster mode the test session shares one database, and SOS posted near the Bataclan by
    earlier tests may still hold an open incident there that this SOS would join.
    """
    rng = random.Random()
    return sos_body(lat=round(44.0 + rng.random() * 4, 5), lon=round(0.5 + rng.random() * 5, 5))


def dispatcher_token(app: FastAPI, base: str) -> str:
    with session_scope(app.state.runtime.sessions) as session:
        name = make_user(session, role=Role.dispatcher).username
    response = httpx.post(f"{base}/api/v1/auth/token",
                          data={"username": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


class StreamReader:
    """Read an SSE stream in a thread; events land in a queue as (event, data)."""

    def __init__(self, url: str) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.status: int | None = None
        self._client = httpx.Client(timeout=httpx.Timeout(5, read=30))
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url,), daemon=True)
        self._thread.start()
        assert self._ready.wait(30), "stream did not answer"

    def _run(self, url: str) -> None:
        with contextlib.suppress(httpx.HTTPError), self._client.stream(
            "GET", url, headers={"Accept": "text/event-stream"}
        ) as response:
            self.status = response.status_code
            self._ready.set()
            name = ""
            for line in response.iter_lines():
                if line.startswith("event:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    self.events.put((name, json.loads(line.split(":", 1)[1])))
        self._ready.set()

    def wait_for(self, check: Callable[[str, Any], bool], timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "event not seen on the stream in time"
            with contextlib.suppress(queue.Empty):
                name, data = self.events.get(timeout=left)
                if check(name, data):
                    return data

    def close(self) -> None:
        self._client.close()


def open_stream(base: str, token: str) -> StreamReader:
    ticket = httpx.post(f"{base}{S}/ticket", headers={"Authorization": f"Bearer {token}"})
    assert ticket.status_code == 200, ticket.text
    reader = StreamReader(f"{base}{S}?ticket={ticket.json()['ticket']}")
    assert reader.status == 200
    reader.wait_for(lambda name, _: name == "ready")
    # The ticket was single use.
    again = httpx.get(f"{base}{S}?ticket={ticket.json()['ticket']}",
                      headers={"Accept": "text/event-stream"})
    assert again.status_code == 401
    return reader


def test_stream_shows_sos_and_incident(make_app: Callable[..., FastAPI]) -> None:
    app = make_app()
    with serve(app) as base:
        reader = open_stream(base, dispatcher_token(app, base))
        try:
            ack = httpx.post(f"{base}/api/v1/sos", json=lonely_sos_body()).json()
            created = reader.wait_for(lambda n, d: n == "sos.created")
            assert created["data"]["sos_id"] == ack["id"]
            updated = reader.wait_for(lambda n, d: n == "incident.updated")
            assert updated["data"]["sos_count"] == 1
        finally:
            reader.close()


def test_sos_on_worker_a_reaches_stream_of_worker_b(
    make_app: Callable[..., FastAPI], mode: str
) -> None:
    if mode != "cluster":
        pytest.skip("two workers share a bus only in cluster mode (NATS)")
    worker_a, worker_b = make_app(), make_app()
    with serve(worker_a) as base_a, serve(worker_b) as base_b:
        reader = open_stream(base_b, dispatcher_token(worker_b, base_b))
        try:
            ack = httpx.post(f"{base_a}/api/v1/sos", json=lonely_sos_body()).json()
            created = reader.wait_for(lambda n, d: n == "sos.created", timeout=20)
            assert created["data"]["sos_id"] == ack["id"]
            # Clustered once for the whole cluster (durable consumer), seen by B as well.
            reader.wait_for(lambda n, d: n == "incident.updated", timeout=20)
            time.sleep(0.5)
            with worker_a.state.runtime.sessions() as session:
                links = session.scalars(select(DispatchIncidentSos)).all()
            assert [link.sos_id for link in links] == [ack["id"]]
        finally:
            reader.close()
