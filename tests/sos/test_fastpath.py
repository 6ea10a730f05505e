"""The direct ASGI path of ``POST /api/v1/sos`` answers as the FastAPI route would, or defers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.sos.factories import count_rows, sos_body
from tocsin.sos import fastpath

# The body limit accepts this spelling, the fast path leaves it to the route: the route's answer.
VIA_ROUTE = {"Content-Type": "application/json;charset=utf-8"}


@pytest.fixture
def handled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The client_ids the fast path itself recorded."""
    seen: list[str] = []
    accept = fastpath.accept

    async def counting(runtime: Any, body: Any, **kwargs: Any) -> Any:
        seen.append(body.client_id)
        return await accept(runtime, body, **kwargs)

    monkeypatch.setattr(fastpath, "accept", counting)
    return seen


def _post(client: TestClient, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return client.post(
        "/api/v1/sos", content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def test_fast_path_and_route_give_the_same_answers(client: TestClient, handled: list[str]) -> None:
    fast_body, route_body = sos_body(), sos_body()
    fast = _post(client, fast_body)
    route = _post(client, route_body, VIA_ROUTE)
    assert handled == [fast_body["client_id"]]  # the second went through FastAPI
    assert fast.status_code == route.status_code == 201
    assert set(fast.json()) == set(route.json()) == {"id", "follow_up_token", "received_at"}
    assert fast.headers["content-type"] == route.headers["content-type"] == "application/json"
    for name in ("content-security-policy", "x-content-type-options", "referrer-policy"):
        assert fast.headers[name] == route.headers[name]
    # A retry answers 200 with the same SOS and token, whichever path took the first.
    again_by_route = _post(client, fast_body, VIA_ROUTE)
    again_fast = _post(client, route_body)
    assert again_by_route.status_code == again_fast.status_code == 200
    assert again_by_route.json() == fast.json() and again_fast.json() == route.json()
    assert count_rows(client) == 2


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"{not json", {}),
        (json.dumps(sos_body(lat=91)).encode(), {}),
        (json.dumps([sos_body()]).encode(), {}),
        (json.dumps(sos_body()).encode(), {"X-Device-Token": "x" * 129}),
    ],
)
def test_what_the_route_refuses_is_left_to_the_route(
    client: TestClient, handled: list[str], content: bytes, headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/sos", content=content, headers={"Content-Type": "application/json", **headers}
    )
    assert response.status_code == 422, response.text
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert handled == [] and count_rows(client) == 0


def test_a_limit_refusal_on_the_fast_path_has_the_shared_shape(
    client: TestClient, handled: list[str]
) -> None:
    body = sos_body()
    codes = [_post(client, body).status_code for _ in range(12)]
    assert codes[0] == 201 and codes[-1] == 429 and len(handled) == 12
    refused = _post(client, body)
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited", refused.text
    assert count_rows(client) == 1


def _limit(client: TestClient) -> int:
    return int(client.app.state.runtime.settings.max_body_bytes)  # type: ignore[attr-defined]


def test_a_body_over_the_limit_gets_the_stacks_413(client: TestClient, handled: list[str]) -> None:
    padded = sos_body(text="x" * 100)
    content = json.dumps(padded).encode() + b" " * _limit(client)  # valid JSON, too long
    announced = client.post(
        "/api/v1/sos", content=content, headers={"Content-Type": "application/json"}
    )

    def chunks():  # type: ignore[no-untyped-def]  # no Content-Length: streamed
        yield content[:1000]
        yield content[1000:]

    streamed = client.post(
        "/api/v1/sos", content=chunks(), headers={"Content-Type": "application/json"}
    )
    for response in (announced, streamed):
        assert response.status_code == 413, response.text
        assert response.json()["error"]["code"] == "payload_too_large"
    assert handled == [] and count_rows(client) == 0


def test_an_unexpected_failure_is_a_503_to_retry_never_a_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(fastpath, "accept", broken)
    response = _post(client, sos_body())
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert response.headers["retry-after"] == "1"
    assert response.headers["x-content-type-options"] == "nosniff"  # the stack's headers too
    assert count_rows(client) == 0
