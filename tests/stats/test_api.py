"""The observatory API on a started worker (both modes): events become facts, roles."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.factories import login
from tests.sos.factories import post_sos
from tocsin.core.auth.roles import Role
from tocsin.stats.models import StatsFact


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def _facts(client: TestClient, kind: str) -> int:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(StatsFact).where(
            StatsFact.kind == kind)) or 0)


def test_an_sos_becomes_a_fact_through_the_bus(client: TestClient) -> None:
    post_sos(client, situation="attack")
    post_sos(client, situation="hidden")
    wait_for(lambda: _facts(client, "sos.created") == 2)


def test_figures_list_for_analysts_only(client: TestClient) -> None:
    response = client.get("/api/v1/stats/figures", headers=login(client, Role.analyst))
    assert response.status_code == 200
    names = {f["name"]: f for f in response.json()}
    assert "attack" in names["sos.created"]["categories"]
    assert client.get("/api/v1/stats/figures").status_code == 401
    refused = client.get("/api/v1/stats/figures", headers=login(client, Role.dispatcher))
    assert refused.status_code == 403
