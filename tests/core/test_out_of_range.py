"""A number past what the database can hold is the input's fault: 422, never a 500 (found by the
Schemathesis run on POST /api/v1/watch/orders: SQLite raises OverflowError past 2**63 - 1)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.factories import login
from tocsin.core.auth import Role


@pytest.mark.parametrize("path, body", [
    ("/api/v1/watch/orders", {"item_id": 2**64, "legal_basis": "abc", "reason": "abc"}),
    (f"/api/v1/watch/orders/{2**64}/approve", None),
])
def test_a_number_out_of_range_is_a_422(client: TestClient, path: str, body: dict | None) -> None:
    r = client.post(path, headers=login(client, Role.moderator), json=body)
    assert r.status_code in (404, 422), r.text
    if r.status_code == 422:
        assert "out of range" in r.text or "invalid input" in r.text
