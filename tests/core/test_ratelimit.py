"""Rate limits key on the network address, never on a header the client chooses (issue 19, 8).

A client that sends a fresh ``X-Device-Token`` with each request must still be throttled: the
tokens are free to mint. Only where a shared address (a stadium's Wi-Fi, a carrier's NAT) must
not starve the devices behind it does a device get a bucket of its own, and then the address
still has a (larger) one.
"""

from __future__ import annotations

import secrets
from types import SimpleNamespace

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from tocsin.core.ratelimit import RateLimit
from tocsin.core.settings import Settings
from tocsin.core.state import States


def _app(limit: RateLimit) -> FastAPI:
    app = FastAPI()
    app.state.runtime = SimpleNamespace(states=States(), settings=SimpleNamespace())

    @app.get("/probe", dependencies=[Depends(limit)])
    def probe() -> dict[str, str]:
        return {"ok": "yes"}

    return app


def _fresh_device() -> dict[str, str]:
    return {"X-Device-Token": secrets.token_hex(16)}


def test_a_fresh_device_token_per_request_does_not_escape_the_limit() -> None:
    with TestClient(_app(RateLimit("probe", 5))) as client:
        codes = [client.get("/probe", headers=_fresh_device()).status_code for _ in range(40)]
    assert codes[:5] == [200] * 5
    assert set(codes[5:]) == {429}


def test_devices_behind_one_address_keep_their_own_buckets_up_to_the_address_cap() -> None:
    """``devices=4``: each device 2 a minute, the address 4 times that (8) in all."""
    with TestClient(_app(RateLimit("probe", 2, devices=4))) as client:
        one = {"X-Device-Token": "phone-one"}
        assert [client.get("/probe", headers=one).status_code for _ in range(3)] == [200, 200, 429]
        # Another phone behind the same address is not starved by the first one.
        two = {"X-Device-Token": "phone-two"}
        assert client.get("/probe", headers=two).status_code == 200
        # Minting devices gets at most the address's cap: 8 requests in all (phone one's
        # refused third counts), then 429.
        codes = [client.get("/probe", headers=_fresh_device()).status_code for _ in range(20)]
    assert codes.count(200) == 8 - 4 and set(codes[4:]) == {429}


def test_refusal_says_when_to_retry() -> None:
    with TestClient(_app(RateLimit("probe", 1))) as client:
        client.get("/probe")
        refused = client.get("/probe", headers=_fresh_device())
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "probe" in refused.json()["detail"]


@pytest.mark.parametrize(("path", "method", "limit"), [
    ("/api/v1/safety/lookup?code=ABCD-1234", "GET", 30),
    ("/api/v1/watch/reports", "POST", 10),
    ("/api/v1/persons/photos", "POST", 10),
])
def test_public_routes_named_by_the_tester_are_throttled_by_address(
    client: TestClient, path: str, method: str, limit: int
) -> None:
    """The routes of finding 8: photos, code lookups, watch reports (bad bodies still count)."""
    codes = [client.request(method, path, headers=_fresh_device()).status_code
             for _ in range(limit + 5)]
    assert 429 not in codes[:limit], codes
    assert set(codes[limit:]) == {429}, codes


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    assert Settings(trusted_proxies="").trusted_proxy_list == []
    parsed = Settings(trusted_proxies=" 10.0.0.1, 192.168.0.0/16 ,::1").trusted_proxy_list
    assert parsed == ["10.0.0.1", "192.168.0.0/16", "::1"]
    for bad in ("proxy.example", "10.0.0.0/33", "*", "10.0.0.1;10.0.0.2"):
        with pytest.raises(ValidationError, match="trusted_proxies"):
            Settings(trusted_proxies=bad)


def test_shelter_limits_cap_the_address_as_well_as_each_device(client: TestClient) -> None:
    """The shelter's per-device limits (reports: 5 a minute) had no address cap but on
    requests: a fresh device token per report was never refused. Now 10 times the rate."""
    path = "/api/v1/shelter/requests/nope/report"
    codes = [client.post(path, headers=_fresh_device(), json={}).status_code for _ in range(60)]
    assert 429 not in codes[:50], codes
    assert set(codes[50:]) == {429}, codes
