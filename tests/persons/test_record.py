"""A record as its page shows it: linked records as one, notes in order, status history, last
known location; a reviewer links, unlinks; other roles are refused."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import login
from tocsin.core.auth.roles import Role
from tocsin.persons.record import coordinates


def post(client: TestClient, path: str, body: dict[str, Any], **kw: Any) -> Any:
    response = client.post(path, json=body, **kw)
    assert response.status_code in (200, 201), response.text
    return response.json()


def two_records(client: TestClient) -> tuple[str, str]:
    a = post(client, "/api/v1/persons", {"full_name": "Hélène Gauthier", "author_name": "Sœur",
                                         "home_city": "Paris"})["person_record_id"]
    b = post(client, "/api/v1/persons", {"full_name": "Helene Gautier", "author_name": "Voisin",
                                         "age": "30-35"})["person_record_id"]
    return a, b


def test_the_view_of_a_linked_pair_is_one_record_and_unlink_separates_them(
    client: TestClient
) -> None:
    a, b = two_records(client)
    post(client, "/api/v1/persons/notes", {
        "person_record_id": a, "author_name": "Voisin", "text": "Cherchée par sa sœur",
        "status": "information_sought"})
    post(client, "/api/v1/persons/notes", {
        "person_record_id": b, "author_name": "Infirmier", "text": "Soignée, elle va bien",
        "status": "believed_alive", "last_known_location": "Hôpital Saint-Louis 48.8738, 2.3683",
        "author_email": "infirmier@example.fr"})
    alone = client.get(f"/api/v1/persons/view/{a}").json()
    assert alone["linked"] == [] and len(alone["notes"]) == 1 and alone["last_known"] is None

    reviewer = login(client, Role.authority)
    [proposal] = client.get("/api/v1/persons/duplicates", params={"record_id": a},
                            headers=reviewer).json()
    assert {proposal["person_record_id"], proposal["other_record_id"]} == {a, b}
    post(client, f"/api/v1/persons/duplicates/{proposal['id']}/link", {}, headers=reviewer)

    view = client.get(f"/api/v1/persons/view/{a}").json()
    assert view["person"]["full_name"] == "Hélène Gauthier"
    assert [p["person_record_id"] for p in view["linked"]] == [b]
    texts = [n["text"] for n in view["notes"]]
    assert texts[:2] == ["Cherchée par sa sœur", "Soignée, elle va bien"]  # oldest first
    assert len(texts) == 4  # and the two link notes
    assert [h["status"] for h in view["status_history"]] == ["information_sought",
                                                               "believed_alive"]
    assert view["last_known"]["lat"] == 48.8738 and view["last_known"]["lon"] == 2.3683
    assert "infirmier@example.fr" not in str(view)  # contact details never in the view
    assert client.get(f"/api/v1/persons/view/{b}").json()["linked"][0]["person_record_id"] == a

    unlinked = post(client, "/api/v1/persons/unlink",
                    {"person_record_id": b, "other_record_id": a}, headers=reviewer)
    assert unlinked["status"] == "unlinked"
    after = client.get(f"/api/v1/persons/view/{a}").json()
    assert after["linked"] == [] and "Pas la même personne" in after["notes"][-1]["text"]
    again = client.post("/api/v1/persons/unlink", json={"person_record_id": a,
                                                         "other_record_id": b}, headers=reviewer)
    assert again.status_code == 422 and "are not linked" in again.text


def test_only_reviewers_see_duplicates_and_unlink(client: TestClient) -> None:
    a, b = two_records(client)
    body = {"person_record_id": a, "other_record_id": b}
    assert client.post("/api/v1/persons/unlink", json=body).status_code == 401
    assert client.get("/api/v1/persons/duplicates", params={"record_id": a}).status_code == 401
    for role in (Role.dispatcher, Role.unit, Role.analyst):
        headers = login(client, role)
        assert client.post("/api/v1/persons/unlink", json=body,
                           headers=headers).status_code == 403
        assert client.get("/api/v1/persons/duplicates", params={"record_id": a},
                          headers=headers).status_code == 403


def test_unknown_or_expired_records_are_404(client: TestClient) -> None:
    response = client.get("/api/v1/persons/view/nowhere.example/person.1")
    assert response.status_code == 404 and "no person record" in response.text


def test_coordinates_in_location_text() -> None:
    assert coordinates("geo:48.8566,2.3522") == (48.8566, 2.3522)
    assert coordinates("près de 45.75 4.85, Lyon") == (45.75, 4.85)
    assert coordinates("Gare de Lyon, quai 12") is None
    assert coordinates("99.123, 2.35") is None  # no latitude past 90
    assert coordinates("le 12.05.2026") is None
