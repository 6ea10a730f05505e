"""Who has written, for a console opened (or reloaded) after the messages came (issue 20).

The console marks the callers who wrote and the ones left unanswered; the stream only tells it
what happens while it is open. ``GET /sos/chat`` gives, per open SOS, the times of the last
caller message and last reply, never a message's text (dispatcher only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.dispatch.factories import BATACLAN
from tests.factories import login
from tests.sos.factories import post_sos
from tests.waiting import wait_for
from tocsin.core.auth.roles import Role

U = "/api/v1/dispatch"


@pytest.fixture
def client(make_app: Callable[..., FastAPI]) -> Any:
    with TestClient(make_app()) as test_client:
        yield test_client


def test_last_caller_message_and_reply_per_open_sos(client: TestClient) -> None:
    dispatcher = login(client, Role.dispatcher)
    wrote = post_sos(client, lat=BATACLAN[0], lon=BATACLAN[1])
    silent = post_sos(client, lat=BATACLAN[0], lon=BATACLAN[1] + 0.0001)
    answered = post_sos(client, lat=BATACLAN[0], lon=BATACLAN[1] + 0.0002)
    wait_for(lambda: len(client.get(f"{U}/sos", headers=dispatcher).json()) == 3)
    for ack in (wrote, answered):
        sent = client.post(f"/api/v1/sos/{ack['id']}/messages", json={"text": "au secours"},
                           headers={"X-Follow-Up-Token": ack["follow_up_token"]})
        assert sent.status_code == 201
    reply = client.post(f"/api/v1/sos/{answered['id']}/reply", headers=dispatcher,
                        json={"text": "on arrive"})
    assert reply.status_code == 201
    response = client.get(f"{U}/sos/chat", headers=dispatcher)
    assert response.status_code == 200, response.text
    state = {row["sos_id"]: row for row in response.json()}
    assert set(state) == {wrote["id"], answered["id"]}  # the silent one has no chat
    assert state[wrote["id"]]["citizen_messages"] == 1
    assert state[wrote["id"]]["last_dispatcher_at"] is None
    assert state[answered["id"]]["last_dispatcher_at"] >= state[answered["id"]]["last_citizen_at"]
    assert "au secours" not in response.text and silent["id"] not in response.text


def test_other_roles_are_refused(client: TestClient) -> None:
    for role in (Role.unit, Role.authority, Role.admin, Role.moderator):
        assert client.get(f"{U}/sos/chat", headers=login(client, role)).status_code == 403
    assert client.get(f"{U}/sos/chat").status_code == 401
