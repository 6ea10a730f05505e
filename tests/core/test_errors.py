"""Failures keep the one error shape; a database outage is a 503, never a false success."""

from __future__ import annotations

import socket
from collections.abc import Callable

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from tocsin.core.auth import public
from tocsin.core.runtime import DbSession
from tocsin.core.settings import Settings


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unexpected_exception_is_a_500_without_a_trace(make_app: Callable[..., FastAPI]) -> None:
    app = make_app()

    @app.get("/boom", dependencies=[Depends(public())])
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "internal error", "details": None}
    }
    assert "secret" not in response.text and "Traceback" not in response.text


def test_unknown_route_and_method_use_the_error_shape(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = client.delete("/healthz")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"


def test_database_down_gives_503_with_retry_after(settings: Settings) -> None:
    from tocsin.app import create_app

    down = settings.model_copy(
        update={
            "database_url": f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/none",
            "bus_url": "memory://",
        }
    )
    app = create_app(down)

    @app.post("/write", dependencies=[Depends(public())])
    def write(db: DbSession) -> dict[str, str]:
        db.execute(text("SELECT 1"))
        db.commit()
        return {"status": "written"}

    # Not entered as a context manager: the worker's start-up (domain consumers, index
    # rebuilds) needs the database; this test is about requests arriving while it is gone.
    client = TestClient(app, raise_server_exceptions=False)
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["database"] == "down"
    response = client.post("/write")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.json()["error"]["code"] == "unavailable"


def test_security_headers_on_every_response(client: TestClient) -> None:
    response = client.get("/healthz")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
