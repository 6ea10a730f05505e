"""Failed sign-ins are throttled per address and per account, never by locking the account.

Issue 19, finding 12: five wrong passwords used to lock an account for everyone (a denial of
service anyone could run) and only existing accounts ever answered 429 (a user-name oracle).
"""

from __future__ import annotations

from collections.abc import Callable

import pyotp
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import PASSWORD, create_account
from tocsin.core.auth.roles import Role

TOKEN = "/api/v1/auth/token"
ATTACKER = ("203.0.113.66", 40000)
OWNER = ("198.51.100.7", 40000)
# Failures one address may make over any names, one name from all addresses, before back-off.
ADDRESS_FREE = 20
ACCOUNT_FREE = 50


def _app(make_app: Callable[..., FastAPI]) -> FastAPI:
    # The per-address request budget (10 a minute) is another protection: lift it here so the
    # failure throttle is what these tests see.
    return make_app(login_rate_per_minute=10_000)


def _bad(client: TestClient, name: str, times: int) -> list[int]:
    return [
        client.post(TOKEN, data={"username": name, "password": "Wrong-Guess-123"}).status_code
        for _ in range(times)
    ]


def test_a_guesser_cannot_lock_the_owner_out(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(_app(make_app), client=ATTACKER) as attacker:
        name = create_account(attacker, Role.authority, username="prefet.victim")
        codes = _bad(attacker, name, 12)
        assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
        # From the guesser's address even the right password waits (it is not even checked).
        blocked = attacker.post(TOKEN, data={"username": name, "password": PASSWORD})
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
        owner = TestClient(attacker.app, client=OWNER)
        ok = owner.post(TOKEN, data={"username": name, "password": PASSWORD})
        assert ok.status_code == 200, ok.text


def test_unknown_and_known_names_answer_alike(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(_app(make_app), client=ATTACKER) as client:
        known = create_account(client, Role.dispatcher, username="op.known")
        answers = {}
        for name in (known, "op.ghost"):
            seen = []
            for _ in range(8):
                r = client.post(TOKEN, data={"username": name, "password": "Wrong-Guess-123"})
                seen.append((r.status_code, r.json()["error"]["code"],
                             r.json()["error"]["message"], r.headers.get("Retry-After")))
            answers[name] = seen
        assert answers[known] == answers["op.ghost"]
        assert [s[0] for s in answers[known]] == [401] * 5 + [429] * 3


def test_changing_the_device_token_does_not_reset_the_count(
    make_app: Callable[..., FastAPI],
) -> None:
    with TestClient(_app(make_app), client=ATTACKER) as client:
        name = create_account(client, Role.unit, username="patrol.dev")
        codes = [
            client.post(TOKEN, data={"username": name, "password": "Wrong-Guess-123"},
                        headers={"X-Device-Token": f"fresh-{i}"}).status_code
            for i in range(7)
        ]
        assert codes == [401] * 5 + [429] * 2


def test_one_address_guessing_many_accounts_is_slowed(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(_app(make_app), client=ATTACKER) as client:
        codes = []
        for i in range(ADDRESS_FREE + 2):
            r = client.post(TOKEN, data={"username": f"spray{i}", "password": "Wrong-Guess-123"})
            codes.append(r.status_code)
        assert codes[:ADDRESS_FREE] == [401] * ADDRESS_FREE
        assert codes[-1] == 429
        # Another address is not affected.
        other = TestClient(client.app, client=OWNER)
        assert other.post(TOKEN, data={"username": "spray0", "password": "x"}).status_code == 401


def test_wrong_second_factor_codes_count(make_app: Callable[..., FastAPI]) -> None:
    from tests.core.test_mfa import code, enrol, off_by_one

    with TestClient(_app(make_app), client=ATTACKER) as client:
        headers = _bearer(client, Role.moderator, "mod.thr")
        secret, _ = enrol(client, headers)
        form = {"username": "mod.thr", "password": PASSWORD}
        wrong = off_by_one(pyotp.TOTP(secret).now())
        codes = [client.post(TOKEN, data={**form, "otp": wrong}).status_code for _ in range(6)]
        assert codes == [401] * 5 + [429]
        # Guessing codes on a signed-in session (disable, new recovery codes) counts the same.
        off = client.post("/api/v1/auth/mfa/disable", json={"code": wrong}, headers=headers)
        assert off.status_code == 429
        owner = TestClient(client.app, client=OWNER)
        ok = owner.post(TOKEN, data={**form, "otp": code(secret, ahead=1)})
        assert ok.status_code == 200, ok.text


def test_a_flood_from_many_addresses_spares_the_owners_known_address(
    make_app: Callable[..., FastAPI],
) -> None:
    with TestClient(_app(make_app), client=OWNER) as owner:
        name = create_account(owner, Role.analyst, username="analyst.flood")
        assert owner.post(TOKEN, data={"username": name, "password": PASSWORD}).status_code == 200
        for n in range(ACCOUNT_FREE // 4 + 1):
            bot = TestClient(owner.app, client=(f"192.0.2.{n + 1}", 1000))
            _bad(bot, name, 4)
        stranger = TestClient(owner.app, client=("192.0.2.250", 1000))
        assert stranger.post(TOKEN, data={"username": name, "password": PASSWORD}).status_code \
            == 429
        # The owner signed in from here before: still admitted.
        assert owner.post(TOKEN, data={"username": name, "password": PASSWORD}).status_code == 200


def test_backoff_doubles_and_is_forgotten() -> None:
    from tocsin.core.auth.throttle import Backoff, LoginThrottle

    assert (LoginThrottle.ADDRESS_FREE, LoginThrottle.ACCOUNT_FREE) == (ADDRESS_FREE,
                                                                         ACCOUNT_FREE)
    now = [1000.0]
    b = Backoff(free=2, first_s=10, cap_s=40, forget_s=100, clock=lambda: now[0])
    for _ in range(2):
        assert b.wait("k") == 0
        b.fail("k")
    assert b.wait("k") == 10
    now[0] += 10
    b.fail("k")
    assert b.wait("k") == 20
    now[0] += 20
    b.fail("k")
    b.fail("k")
    assert b.wait("k") == 40  # capped
    now[0] += 40 + 100
    assert b.wait("k") == 0 and len(b) == 0
    b.fail("other")
    b.clear("other")
    assert len(b) == 0


def _bearer(client: TestClient, role: Role, name: str) -> dict[str, str]:
    create_account(client, role, username=name)
    r = client.post(TOKEN, data={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
