"""Factories of the SOS tests: request bodies and posting helpers."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from tocsin.sos.models import Sos


def sos_body(**overrides: Any) -> dict[str, Any]:
    """A valid ``POST /api/v1/sos`` body near the Bataclan, with a fresh client_id."""
    body: dict[str, Any] = {
        "lat": 48.8631,
        "lon": 2.3708,
        "accuracy_m": 12.5,
        "situation": "hidden",
        "people": 3,
        "text": "Nous sommes cachés dans les loges, au premier étage.",
        "client_id": uuid.uuid4().hex,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def post_sos(client: TestClient, **overrides: Any) -> dict[str, Any]:
    """Post an SOS, assert it was acknowledged, return the acknowledgement."""
    response = client.post("/api/v1/sos", json=sos_body(**overrides))
    assert response.status_code == 201, response.text
    ack: dict[str, Any] = response.json()
    return ack


def count_rows(client: TestClient, table: str = "sos") -> int:
    """Count the rows of an SOS table in the worker's database."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.sessions() as session:
        if table == "sos":
            return int(session.scalar(select(func.count()).select_from(Sos)) or 0)
        if table == "outbox_event":  # other domains' events are not ours to count
            query = "SELECT count(*) FROM outbox_event WHERE subject LIKE 'sos.%'"
            return int(session.scalar(text(query)) or 0)
        return int(session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
