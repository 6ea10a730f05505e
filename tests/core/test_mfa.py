"""Two-factor authentication: enrolment, login with a code, replay, throttle, role policy."""

from __future__ import annotations

import time

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.factories import PASSWORD, create_account, login
from tocsin.core.auth.models import MfaRecoveryCode, MfaTotp
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope
from tocsin.cyber.taxii_auth import BasicCache

TOKEN = "/api/v1/auth/token"


def code(secret: str, ahead: int = 0) -> str:
    """The code of the current 30 s step, or of a step ``ahead`` (drift the server accepts)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * ahead)


def off_by_one(good: str) -> str:
    """A wrong code (the drift window accepts 3 codes: 1 in 300,000 it is one of them)."""
    return str((int(good) + 1) % 1_000_000).zfill(6)


def activation_code(client: TestClient, headers: dict[str, str]) -> str:
    """An activation code for the account behind ``headers``, as an administrator issues it."""
    from tocsin.core.auth import mfa

    name = client.get("/api/v1/auth/me", headers=headers).json()["username"]
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        return mfa.issue_activation(session, username=name, by="test")[1]


def enrol(client: TestClient, headers: dict[str, str]) -> tuple[str, list[str]]:
    """Enrol and confirm TOTP for the account behind ``headers``; return secret and codes."""
    activation = activation_code(client, headers)
    started = client.post("/api/v1/auth/mfa/totp", json={"activation_code": activation},
                          headers=headers)
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    confirmed = client.post(
        "/api/v1/auth/mfa/totp/confirm",
        json={"code": code(secret), "activation_code": activation}, headers=headers,
    )
    assert confirmed.status_code == 200, confirmed.text
    return secret, confirmed.json()["recovery_codes"]


def test_enrolment_shows_uri_and_qr_and_activates_only_on_a_valid_code(
    client: TestClient,
) -> None:
    headers = login(client, Role.dispatcher, username="op.mfa")
    activation = activation_code(client, headers)
    started = client.post("/api/v1/auth/mfa/totp", json={"activation_code": activation},
                          headers=headers).json()
    assert started["otpauth_uri"].startswith("otpauth://totp/Tocsin:op.mfa?secret=")
    assert started["qr_svg"].startswith("data:image/svg+xml")
    status = client.get("/api/v1/auth/mfa", headers=headers).json()
    assert status["pending"] and not status["enabled"]
    right = code(started["secret"])
    wrong = client.post("/api/v1/auth/mfa/totp/confirm",
                        json={"code": off_by_one(right), "activation_code": activation},
                        headers=headers)
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
    assert not client.get("/api/v1/auth/mfa", headers=headers).json()["enabled"]
    ok = client.post("/api/v1/auth/mfa/totp/confirm",
                     json={"code": right, "activation_code": activation}, headers=headers)
    assert ok.status_code == 200
    codes = ok.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    status = client.get("/api/v1/auth/mfa", headers=headers).json()
    assert status["enabled"] and status["recovery_codes_left"] == 10
    # The secret is sealed at rest and the recovery codes are stored only hashed.
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT secret FROM mfa_totp").scalar_one()
        hashes = conn.exec_driver_sql("SELECT code_hash FROM mfa_recovery_code").scalars().all()
    assert started["secret"].encode() not in bytes(raw)
    assert not any(c.replace("-", "") in h for c in codes for h in hashes)
    again = client.post("/api/v1/auth/mfa/totp", json={"activation_code": activation},
                        headers=headers)
    assert again.status_code == 409


def test_login_needs_the_code_refuses_replay_and_takes_a_recovery_code_once(
    client: TestClient,
) -> None:
    headers = login(client, Role.authority, username="prefet.mfa")
    secret, recovery = enrol(client, headers)
    form = {"username": "prefet.mfa", "password": PASSWORD}
    missing = client.post(TOKEN, data=form)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "mfa_required"
    assert "otp" in missing.json()["error"]["message"]

    next_code = code(secret, ahead=1)  # the confirm step's code is spent: use the next one
    ok = client.post(TOKEN, data={**form, "otp": next_code})
    assert ok.status_code == 200, ok.text
    assert ok.json()["scope"] == "full"
    replay = client.post(TOKEN, data={**form, "otp": next_code})
    assert replay.status_code == 401 and "already used" in replay.json()["error"]["message"]

    by_recovery = client.post(TOKEN, data={**form, "otp": recovery[0].upper()})
    assert by_recovery.status_code == 200
    assert client.post(TOKEN, data={**form, "otp": recovery[0]}).status_code == 401
    status = client.get("/api/v1/auth/mfa", headers=headers).json()
    assert status["recovery_codes_left"] == 9
    # The login's session is marked as opened with a second factor.
    bearer = {"Authorization": f"Bearer {ok.json()['access_token']}"}
    mine = client.get("/api/v1/auth/sessions", headers=bearer).json()
    assert [s["mfa"] for s in mine if s["current"]] == [True]


def test_wrong_codes_count_toward_the_throttle(client: TestClient) -> None:
    """Guessing codes behind a known password waits as guessing passwords does (the owner,
    elsewhere, is not concerned: tests/core/test_login_throttle.py)."""
    headers = login(client, Role.moderator, username="mod.mfa")
    secret, _ = enrol(client, headers)
    form = {"username": "mod.mfa", "password": PASSWORD}
    good = code(secret, ahead=1)
    wrong = off_by_one(good)
    for _ in range(5):
        assert client.post(TOKEN, data={**form, "otp": wrong}).status_code == 401
    locked = client.post(TOKEN, data={**form, "otp": good})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1


def test_a_required_role_without_2fa_gets_an_enrolment_only_token(client: TestClient) -> None:
    admin = login(client, Role.admin)
    policy = client.put("/api/v1/auth/mfa/policy/analyst", json={"required": True}, headers=admin)
    assert policy.status_code == 200 and policy.json()["required"]["analyst"] is True
    assert "organisation" not in policy.json()["required"]
    name = create_account(client, Role.analyst, username="analyst.mfa")
    answer = client.post(TOKEN, data={"username": name, "password": PASSWORD}).json()
    assert answer["scope"] == "mfa_enrolment"
    limited = {"Authorization": f"Bearer {answer['access_token']}"}
    # A route the role may use is refused, and the message says what to do...
    refused = client.get("/api/v1/watch/queue", headers=limited)
    assert refused.status_code == 403 and "enrol" in refused.json()["error"]["message"]
    # ...while the enrolment routes, "me" and the sessions stay open to it.
    status = client.get("/api/v1/auth/mfa", headers=limited)
    assert status.status_code == 200 and status.json()["required"] is True
    assert client.get("/api/v1/auth/me", headers=limited).status_code == 200

    secret, _ = enrol(client, limited)
    # Confirming proved the second factor: this session is now a full one.
    assert client.get("/api/v1/auth/sessions", headers=limited).json()[0]["mfa"] is True
    assert client.get("/api/v1/watch/queue", headers=limited).status_code == 200
    full = client.post(TOKEN, data={"username": name, "password": PASSWORD,
                                    "otp": code(secret, ahead=1)})
    assert full.json()["scope"] == "full"
    # Disabling is refused while the role requires it.
    refused_off = client.post("/api/v1/auth/mfa/disable", json={"code": code(secret, ahead=1)},
                              headers=limited)
    assert refused_off.status_code == 409


def test_required_role_blocks_old_password_only_tokens(client: TestClient) -> None:
    admin = login(client, Role.admin)
    unit = login(client, Role.unit, username="patrol.mfa")
    assert client.get("/api/v1/dispatch/units/me", headers=unit).status_code == 404  # no unit
    client.put("/api/v1/auth/mfa/policy/unit", json={"required": True}, headers=admin)
    refused = client.get("/api/v1/dispatch/units/me", headers=unit)
    assert refused.status_code == 403
    assert "enrol" in refused.json()["error"]["message"]


def test_policy_refuses_bad_roles_and_self_lockout(client: TestClient) -> None:
    admin = login(client, Role.admin)
    for role, status in (("wizard", 422), ("organisation", 422), ("admin", 409)):
        response = client.put(f"/api/v1/auth/mfa/policy/{role}", json={"required": True},
                              headers=admin)
        assert response.status_code == status, (role, response.text)
    bad_body = client.put("/api/v1/auth/mfa/policy/unit", json={"required": "maybe"},
                          headers=admin)
    assert bad_body.status_code == 422
    assert not any(client.get("/api/v1/auth/mfa/policy", headers=admin).json()["required"]
                   .values())
    org = login(client, Role.organisation)
    assert client.post("/api/v1/auth/mfa/totp", json={"activation_code": "x"},
                       headers=org).status_code == 403


def test_disable_needs_a_code_and_admin_reset_revokes_sessions(client: TestClient) -> None:
    admin = login(client, Role.admin)
    headers = login(client, Role.analyst, username="analyst.off")
    secret, _ = enrol(client, headers)
    bad = client.post("/api/v1/auth/mfa/disable", json={"code": "12"}, headers=headers)
    assert bad.status_code == 422
    off = client.post("/api/v1/auth/mfa/disable", json={"code": code(secret, ahead=1)},
                      headers=headers)
    assert off.status_code == 204
    assert client.post(TOKEN, data={"username": "analyst.off", "password": PASSWORD}).status_code \
        == 200
    enrol(client, headers)
    reset = client.post("/api/v1/users/analyst.off/mfa/reset", headers=admin)
    assert reset.status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        assert session.scalars(select(MfaTotp)).all() == []
        assert session.scalars(select(MfaRecoveryCode)).all() == []
    actions = {e["action"] for e in client.get("/api/v1/audit", headers=admin).json()["entries"]}
    assert {"mfa_enabled", "mfa_disabled", "mfa_reset", "mfa_enrol_start"} <= actions


def test_password_only_paths_honour_the_requirement(client: TestClient) -> None:
    """HTTP Basic (TAXII) cannot carry a code: a role that requires 2FA cannot use it, and an
    enrolment-only bearer token opens nothing there either."""
    admin = login(client, Role.admin)
    partner = create_account(client, Role.partner, username="cert.mfa")
    taxii = {"Accept": "application/taxii+json;version=2.1"}
    assert client.get("/taxii2/", auth=(partner, PASSWORD), headers=taxii).status_code == 200
    client.put("/api/v1/auth/mfa/policy/partner", json={"required": True}, headers=admin)
    client.app.state.runtime.states.take(BasicCache)  # type: ignore[attr-defined]
    assert client.get("/taxii2/", auth=(partner, PASSWORD), headers=taxii).status_code == 401
    limited = client.post(TOKEN, data={"username": partner, "password": PASSWORD}).json()
    assert limited["scope"] == "mfa_enrolment"
    bearer = {**taxii, "Authorization": f"Bearer {limited['access_token']}"}
    assert client.get("/taxii2/", headers=bearer).status_code == 401
    # Once enrolled, Basic still cannot carry the code: the account uses the web with its code.
    enrol(client, {"Authorization": f"Bearer {limited['access_token']}"})
    assert client.get("/taxii2/", auth=(partner, PASSWORD), headers=taxii).status_code == 401
