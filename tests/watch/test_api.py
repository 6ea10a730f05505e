"""The content-watch API, in both modes: reports, ingest, queue, decisions, orders, hashes."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from tests.factories import create_account, login
from tests.watch.conftest import png_bytes
from tocsin.core.auth import Role

APOLOGY = "Gloire aux frères qui ont frappé le Bataclan, ce sont des héros"
API = "/api/v1/watch"


def _setup_platform(client: TestClient, name: str = "x") -> dict[str, str]:
    """Register a platform with an account; return the account's bearer headers."""
    account = create_account(client, Role.platform)
    admin = login(client, Role.admin)
    r = client.post(f"{API}/platforms", headers=admin,
                    json={"name": name, "display_name": name.upper(), "account": account})
    assert r.status_code == 201, r.text
    token = client.post("/api/v1/auth/token",
                        data={"username": account, "password": "Correct-Horse-42"})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _report(client: TestClient, url: str = "https://x.example/p/1", **extra: object):
    data = {"url": url, "platform": "x", "category": "terrorism_apology", "excerpt": APOLOGY}
    data.update({k: v for k, v in extra.items() if k != "files"})
    return client.post(f"{API}/reports", data=data, files=extra.get("files"))  # type: ignore[arg-type]


def _queue(client: TestClient, headers: dict[str, str]) -> list[dict]:
    r = client.get(f"{API}/queue", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_public_reports_are_grouped_with_a_clean_screenshot(client: TestClient) -> None:
    _setup_platform(client)
    first = _report(client, files={"screenshot": ("s.png", png_bytes(), "image/png")})
    assert first.status_code == 201, first.text
    second = _report(client, url="https://X.example/p/1/")
    assert second.json() == {"item_id": first.json()["item_id"], "report_count": 2,
                             "grouped": True}
    staff = login(client, Role.analyst)
    (item,) = _queue(client, staff)
    assert item["report_count"] == 2 and item["category"] == "terrorism_apology"
    assert item["has_image"] and item["explanation"]["spans"]
    image = client.get(f"{API}/items/{item['id']}/image", headers=staff,
                       params={"reason": "review"})
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("change, message", [
    ({"url": "javascript:alert(1)"}, "url"),
    ({"url": "not a url"}, "url"),
    ({"platform": "myspace"}, "unknown platform"),
    ({"category": "spam"}, "category"),
    ({"excerpt": ""}, "excerpt"),
    ({"files": {"screenshot": ("s.pdf", b"%PDF-1.4", "application/pdf")}}, "image"),
])
def test_bad_reports_are_refused_and_store_nothing(client: TestClient, change: dict,
                                                   message: str) -> None:
    _setup_platform(client)
    r = _report(client, **change)
    assert 400 <= r.status_code < 500, r.text
    assert message in r.text
    assert _queue(client, login(client, Role.moderator)) == []


def test_platform_ingest_then_decision_then_order(client: TestClient) -> None:
    platform = _setup_platform(client)
    image = base64.b64encode(png_bytes()).decode()
    r = client.post(f"{API}/ingest", headers=platform, json={
        "url": "https://x.example/v/9", "text": APOLOGY, "author_handle": "@someone",
        "reach": 5000, "image_base64": image})
    assert r.status_code == 201, r.text
    item_id = r.json()["item_id"]
    mod = login(client, Role.moderator)
    r = client.post(f"{API}/items/{item_id}/decisions", headers=mod,
                    json={"decision": "remove", "reason": "apology of terrorism"})
    assert r.json() == {"item_id": item_id, "status": "removed",
                        "second_opinion_needed": False}
    order_body = {"item_id": item_id, "legal_basis": "Regulation (EU) 2021/784 Art. 3",
                  "reason": "glorifies the 13 November attacks"}
    r = client.post(f"{API}/orders", headers=mod, json=order_body)
    assert r.status_code == 409 and r.json()["error"]["code"] == "prior_notice_required"
    r = client.post(f"{API}/orders", headers=mod, json={**order_body, "emergency": True})
    assert r.status_code == 201, r.text
    order_id = r.json()["id"]
    assert r.json()["deadline_at"] is None and not r.json()["overdue"]
    fetched = client.get(f"{API}/platform/orders", headers=platform).json()
    assert fetched[0]["id"] == order_id and fetched[0]["deadline_at"]
    r = client.post(f"{API}/platform/orders/{order_id}/confirm", headers=platform)
    assert r.json()["status"] == "removed" and not r.json()["overdue"]
    analyst = login(client, Role.analyst)
    listed = client.get(f"{API}/orders", headers=analyst).json()
    assert listed[0]["status"] == "removed"
    stats = client.get(f"{API}/stats", headers=analyst).json()
    assert stats["removed_within_hour"] == 1 and stats["items_by_status"] == {"removed": 1}


def test_ingest_needs_a_linked_platform_account(client: TestClient) -> None:
    stray = login(client, Role.platform)
    r = client.post(f"{API}/ingest", headers=stray,
                    json={"url": "https://x.example/a", "text": "hello"})
    assert r.status_code == 404 and "not linked" in r.text


def test_bad_ingest_image_is_refused(client: TestClient) -> None:
    platform = _setup_platform(client)
    for bad in ("!!!notbase64", base64.b64encode(b"GIF89a broken").decode()):
        r = client.post(f"{API}/ingest", headers=platform,
                        json={"url": "https://x.example/a", "text": "t", "image_base64": bad})
        assert r.status_code == 422, r.text
    assert _queue(client, login(client, Role.moderator)) == []


def test_hash_lists_over_http(client: TestClient) -> None:
    mod = login(client, Role.moderator)
    csv_headers = {**mod, "Content-Type": "text/csv"}
    good = "signal_type,signal,category,source\nsha256," + "c" * 64 + ",hate,partner\n"
    r = client.post(f"{API}/hashes/import", headers=csv_headers, content=good)
    assert r.json() == {"added": 1, "total_rows": 1}
    bad = good + "md5,zz,hate,partner\n"
    r = client.post(f"{API}/hashes/import", headers=csv_headers, content=bad)
    assert r.status_code == 422 and "line 3" in r.text
    exported = client.get(f"{API}/hashes/export", headers=mod).text
    assert exported.count("\n") == 2  # header + the one good row: the bad list added nothing
    r = client.post(f"{API}/hashes/match", headers=mod, json={})
    assert r.status_code == 422


def test_known_file_hash_raises_priority_and_is_explained(client: TestClient) -> None:
    import hashlib

    _setup_platform(client)
    picture = png_bytes((90, 70))
    mod = login(client, Role.moderator)
    hash_list = ("signal_type,signal,category,source\n"
                 f"md5,{hashlib.md5(picture).hexdigest()},terrorism_apology,partner\n")
    r = client.post(f"{API}/hashes/import", content=hash_list,
                    headers={**mod, "Content-Type": "text/csv"})
    assert r.json()["added"] == 1
    for n, files in enumerate((None, {"screenshot": ("p.png", picture, "image/png")})):
        r = _report(client, url=f"https://x.example/m/{n}", excerpt="Regardez cette image",
                    category="other", files=files)
        assert r.status_code == 201, r.text
    first, second = _queue(client, mod)
    assert first["url"].endswith("/m/1") and first["hash_matches"] == 1
    assert first["explanation"]["matches"][0]["signal_type"] == "md5"
    assert second["hash_matches"] == 0
    r = client.post(f"{API}/hashes/match", headers=mod,
                    json={"image_base64": base64.b64encode(picture).decode()})
    assert [m["signal_type"] for m in r.json()["matches"]] == ["md5"]


def test_hash_list_is_stored_in_batches(client: TestClient,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from tocsin.watch import hashes

    monkeypatch.setattr(hashes, "BATCH", 2)
    batches: list[int] = []
    store = hashes.import_batch

    def spy(session: object, rows: list[hashes.Row]) -> int:
        batches.append(len(rows))
        return store(session, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(hashes, "import_batch", spy)
    mod = login(client, Role.moderator)
    csv_headers = {**mod, "Content-Type": "text/csv"}
    rows = [f"md5,{i:032x},hate,partner" for i in range(5)]
    body = "signal_type,signal,category,source\n" + "\n".join([*rows, rows[0]]) + "\n"
    r = client.post(f"{API}/hashes/import", headers=csv_headers, content=body)
    assert r.status_code == 200, r.text
    assert r.json() == {"added": 5, "total_rows": 6}  # the repeated row counts once
    assert batches == [2, 2, 2]  # one transaction each
    r = client.post(f"{API}/hashes/import", headers=csv_headers, content=body)
    assert r.json() == {"added": 0, "total_rows": 6}
    exported = client.get(f"{API}/hashes/export", headers=mod).text
    assert exported.count("\n") == 6 and all(row in exported for row in rows)


def test_hash_list_over_the_row_limit_is_refused_naming_it(client: TestClient) -> None:
    from tocsin.watch.hashes import MAX_ROWS

    mod = login(client, Role.moderator)
    body = "signal_type,signal\n" + "".join(f"md5,{i:032x}\n" for i in range(MAX_ROWS + 1))
    r = client.post(f"{API}/hashes/import", headers={**mod, "Content-Type": "text/csv"},
                    content=body)
    assert r.status_code == 413, r.text
    error = r.json()["error"]
    assert f"at most {MAX_ROWS} rows" in error["message"]
    assert error["details"]["limit"] == "max_rows"
    assert client.get(f"{API}/hashes/export", headers=mod).text.count("\n") == 1


def test_image_over_the_pixel_limit_is_refused_from_the_pool(client: TestClient) -> None:
    from tests.watch.test_media import _png_header_only

    _setup_platform(client)
    r = _report(client, files={"screenshot": ("s.png", _png_header_only(6_000, 4_000),
                                              "image/png")})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"]["limit"] == "max_pixels"
    assert "at most 20000000 pixels" in r.json()["error"]["message"]
    assert _queue(client, login(client, Role.analyst)) == []
