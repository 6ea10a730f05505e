"""TAXII HTTP Basic: no password oracle, and the sign-in throttle applies (issue 19, finding 8).

A right password of an account whose role may not use TAXII used to answer 403 "role may not
use TAXII" (while a wrong one answered 401), and Basic guesses were never slowed.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import PASSWORD, create_account
from tocsin.core.auth.roles import Role

TAXII = {"Accept": "application/taxii+json;version=2.1"}
ATTACKER = ("203.0.113.99", 40000)
PARTNER = ("198.51.100.20", 40000)


def test_a_right_password_of_another_role_answers_as_a_wrong_one(client: TestClient) -> None:
    dispatcher = create_account(client, Role.dispatcher)
    right = client.get("/taxii2/", auth=(dispatcher, PASSWORD), headers=TAXII)
    wrong = client.get("/taxii2/", auth=(dispatcher, "Wrong-Guess-123"), headers=TAXII)
    ghost = client.get("/taxii2/", auth=("ghost.user", "Wrong-Guess-123"), headers=TAXII)
    assert right.status_code == wrong.status_code == ghost.status_code == 401
    assert right.json() == wrong.json() == ghost.json()
    assert right.headers["WWW-Authenticate"] == wrong.headers["WWW-Authenticate"]
    assert "role" not in right.text
    partner = create_account(client, Role.partner)
    assert client.get("/taxii2/", auth=(partner, PASSWORD), headers=TAXII).status_code == 200


def test_basic_guesses_are_throttled_and_the_partner_still_gets_in(
    make_app: Callable[..., FastAPI],
) -> None:
    with TestClient(make_app(), client=ATTACKER) as attacker:
        partner = create_account(attacker, Role.partner, username="cert-fr")
        codes = [attacker.get("/taxii2/", auth=(partner, "Wrong-Guess-123"),
                              headers=TAXII).status_code for _ in range(7)]
        assert codes == [401] * 5 + [429] * 2
        blocked = attacker.get("/taxii2/", auth=(partner, PASSWORD), headers=TAXII)
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
        assert blocked.json()["http_status"] == "429"  # a TAXII error object
        # Logins and TAXII share the count: the web sign-in from there waits too.
        web = attacker.post("/api/v1/auth/token", data={"username": partner,
                                                        "password": PASSWORD})
        assert web.status_code == 429
        own = TestClient(attacker.app, client=PARTNER)
        assert own.get("/taxii2/", auth=(partner, PASSWORD), headers=TAXII).status_code == 200


def test_other_roles_right_passwords_count_as_failures(make_app: Callable[..., FastAPI]) -> None:
    """Else the throttle itself would tell right from wrong: only wrong ones reach 429."""
    with TestClient(make_app(), client=ATTACKER) as client:
        name = create_account(client, Role.dispatcher)
        codes = [client.get("/taxii2/", auth=(name, PASSWORD), headers=TAXII).status_code
                 for _ in range(6)]
        assert codes == [401] * 5 + [429]
