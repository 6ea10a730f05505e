"""``tocsin serve`` as shipped: no access log by default, a redacted one when asked for.

A citizen's SOS must not leave their IP address on the server's disk; the operator's redacted
log keeps method, path and status, never the address or the query string.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from tests.served import serve
from tocsin.core.settings import Settings


def _serve_and_call(settings: Settings, tmp_path: Path, **env: str) -> str:
    with serve(settings, tmp_path / "serve.log", **env) as served:
        sos = {"lat": 48.86, "lon": 2.37, "accuracy_m": 20, "situation": "hidden", "people": 1,
               "client_id": uuid.uuid4().hex}
        assert httpx.post(f"{served.base}/api/v1/sos", json=sos).status_code == 201
        assert httpx.get(f"{served.base}/api/v1/persons/search?q=Dupont").status_code == 200
    return served.output()


def _without_banner(output: str) -> str:
    return output.replace("http://127.0.0.1:", "")


def test_no_access_log_by_default(settings: Settings, tmp_path: Path) -> None:
    output = _serve_and_call(settings, tmp_path)
    assert "/api/v1/sos" not in output
    assert "127.0.0.1:" not in _without_banner(output)


def test_redacted_access_log_has_no_address_and_no_query(
    settings: Settings, tmp_path: Path
) -> None:
    output = _serve_and_call(settings, tmp_path, TOCSIN_ACCESS_LOG="redacted")
    lines = [line for line in output.splitlines() if "/api/v1/" in line]
    assert any('"POST /api/v1/sos HTTP/1.1" 201' in line for line in lines), output
    assert any("/api/v1/persons/search?…" in line for line in lines), output
    assert "Dupont" not in output
    assert "127.0.0.1:" not in _without_banner(output)
