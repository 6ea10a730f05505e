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


LOOKUP = "/api/v1/safety/lookup?code=ABCD-1234"  # 30 a minute per client address


def _lookups(base: str, forwarded_for: list[str]) -> list[int]:
    with httpx.Client(base_url=base) as http:
        return [http.get(LOOKUP, headers={"X-Forwarded-For": f}).status_code
                for f in forwarded_for]


def test_forwarded_for_from_an_untrusted_peer_does_not_change_the_rate_limit_key(
    settings: Settings, tmp_path: Path
) -> None:
    """Issue 19, finding 8: with no trusted proxy (the default) a client on loopback cannot
    pose as 35 different addresses by writing X-Forwarded-For itself."""
    with serve(settings, tmp_path / "serve.log") as served:
        codes = _lookups(served.base, [f"198.51.100.{n}" for n in range(35)])
    assert 429 not in codes[:30], codes
    assert set(codes[30:]) == {429}, codes


def test_forwarded_for_from_a_trusted_proxy_names_the_client(
    settings: Settings, tmp_path: Path
) -> None:
    """Behind a proxy listed in TOCSIN_TRUSTED_PROXIES (a network here), each client it
    forwards has its own budget, and one client is still held to its own."""
    with serve(settings, tmp_path / "serve.log",
               TOCSIN_TRUSTED_PROXIES="127.0.0.0/8, ::1") as served:
        spread = _lookups(served.base, [f"198.51.100.{n}" for n in range(35)])
        same = _lookups(served.base, ["203.0.113.9"] * 35)
    assert 429 not in spread, spread
    assert 429 not in same[:30] and set(same[30:]) == {429}, same
