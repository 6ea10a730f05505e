"""The audit log's search and paging (the admin page's server side): every word found in any
case in the actor, action, object or reason; pages with a total; admins only."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import login
from tocsin.core import audit
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope


def _seed(client: TestClient) -> None:
    with session_scope(client.app.state.runtime.sessions) as session:  # type: ignore[attr-defined]
        for n in range(25):
            audit.record(session, actor=f"op.{n % 5}", action="dispatch_assign",
                         object_type="incident", object_id=f"inc{n}", reason=f"unit PS-{n}")
        audit.record(session, actor="moderatrice", action="watch.remove", object_type="item",
                     object_id="42", reason="Apologie des attentats_du 13 novembre 100%")


def test_search_finds_every_word_in_any_case_and_column(client: TestClient) -> None:
    _seed(client)
    admin = login(client, Role.admin)

    def total(q: str) -> int:
        page = client.get("/api/v1/audit", params={"q": q}, headers=admin)
        assert page.status_code == 200, page.text
        return int(page.json()["total"])

    assert total("APOLOGIE novembre") == 1  # reason, any case, every word
    assert total("moderatrice item") == 1  # actor and object type
    assert total("apologie dispatch") == 0  # words of two entries: none has both
    assert total("ps-1") == 11  # PS-1, PS-10..PS-19
    assert total("inc7") == 1  # object id
    # LIKE's wildcards are plain characters in a search.
    assert total("100%") == 1 and total("%") == 1 and total("s_d") == 1


def test_pages_through_the_log_newest_first(client: TestClient) -> None:
    _seed(client)
    admin = login(client, Role.admin)
    seen: list[str] = []
    for offset in (0, 10, 20):
        page = client.get("/api/v1/audit", params={
            "q": "dispatch_assign", "limit": 10, "offset": offset}, headers=admin).json()
        assert page["total"] == 25
        seen += [e["object_id"] for e in page["entries"]]
    assert seen == [f"inc{n}" for n in range(24, -1, -1)]


def test_other_roles_cannot_search(client: TestClient) -> None:
    for role in (Role.dispatcher, Role.analyst, Role.moderator, Role.authority):
        refused = client.get("/api/v1/audit", params={"q": "x"}, headers=login(client, role))
        assert refused.status_code == 403, role
    assert client.get("/api/v1/audit", params={"q": "x"}).status_code == 401
    too_long = client.get("/api/v1/audit", params={"q": "x" * 81},
                          headers=login(client, Role.admin))
    assert too_long.status_code == 422 and "q" in too_long.text
