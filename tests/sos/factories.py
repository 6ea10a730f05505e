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


# A crowd's mix: most hide, some are hurt, a few see the attackers or are held.
CROWD_SITUATIONS = ["hidden"] * 5 + ["injured"] * 2 + ["hostage", "attack", "other"]


def sos_burst(
    sessions: Any, where: tuple[float, float], count: int, *, seed: int,
    situations: list[str] = CROWD_SITUATIONS,
) -> list[str]:
    """Commit ``count`` SOS around ``where`` the way the intake does (one batch); return their ids.

    Received over the last ``4 * count`` seconds, so the age part of the priority varies.
    """
    import datetime as dt
    import random

    from tocsin.core.db import session_scope
    from tocsin.sos import service
    from tocsin.sos.schemas import SosIn

    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    items = []
    for i in range(count):
        body = SosIn(
            lat=where[0] + rng.uniform(-0.0004, 0.0004),
            lon=where[1] + rng.uniform(-0.0005, 0.0005),
            accuracy_m=rng.choice([8, 15, 40]),
            situation=rng.choice(situations),  # type: ignore[arg-type]
            people=rng.choice([None, 1, 2, 3, 5, 12]),
            client_id=uuid.uuid4().hex,
        )
        items.append(service.prepare(body, now=now - dt.timedelta(seconds=4 * (count - i))))
    with session_scope(sessions) as session:
        acks = service.insert_batch(session, items=items)
    return [ack.id for ack in acks]
