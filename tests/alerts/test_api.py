"""Alerts over HTTP, both modes: two-person rule, CAP export, Update/Cancel, feed, import."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from lxml import etree

from tests.alerts.helpers import (
    PARIS,
    SCHEMA,
    SHARED_CAP,
    alert_body,
    authorities,
    future,
    publish,
    shift_dates,
)
from tests.factories import login
from tocsin.alerts import validate
from tocsin.core.auth.roles import Role

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2", "atom": "http://www.w3.org/2005/Atom"}
XML = {"Content-Type": "application/cap+xml"}


def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def _cap(client: TestClient, alert_id: str) -> etree._Element:
    r = client.get(f"/api/v1/alerts/{alert_id}.cap")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/cap+xml")
    root = etree.fromstring(r.content)
    assert _schema().validate(root), _schema().error_log
    return root


def _feed_ids(client: TestClient) -> list[str]:
    r = client.get("/alerts.atom")
    assert r.status_code == 200
    root = etree.fromstring(r.content)
    links = root.xpath("//atom:entry/atom:link[@type='application/cap+xml']/@href", namespaces=NS)
    return [str(h).rsplit("/", 1)[-1].removesuffix(".cap") for h in links]


def _audit_actions(client: TestClient, object_id: str) -> list[str]:
    admin = login(client, Role.admin)
    r = client.get("/api/v1/audit", params={"object_id": object_id}, headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    entries = body.get("entries", body.get("items", []))
    return [e["action"] for e in entries]


def test_two_person_rule(client: TestClient) -> None:
    a, b = authorities(client)
    r = client.post("/api/v1/alerts", json=alert_body(), headers=a)
    assert r.status_code == 201, r.text
    alert = r.json()
    assert alert["state"] == "pending" and alert["cap_url"] is None
    # Not public while pending, not in the feed, not approvable by its author.
    assert client.get(f"/api/v1/alerts/{alert['id']}").status_code == 404
    assert client.get(f"/api/v1/alerts/{alert['id']}.cap").status_code == 404
    assert alert["id"] not in _feed_ids(client)
    own = client.post(f"/api/v1/alerts/{alert['id']}/approve", headers=a)
    assert own.status_code == 403 and "two-person" in own.json()["error"]["message"]
    queue = client.get("/api/v1/alerts/queue", headers=b).json()["alerts"]
    assert [q["id"] for q in queue] == [alert["id"]]
    ok = client.post(f"/api/v1/alerts/{alert['id']}/approve", headers=b)
    assert ok.status_code == 200, ok.text
    published = ok.json()
    assert published["state"] == "published" and published["approver"] != published["author"]
    again = client.post(f"/api/v1/alerts/{alert['id']}/approve", headers=b)
    assert again.status_code == 409
    root = _cap(client, alert["id"])
    assert root.findtext("cap:status", namespaces=NS) == "Actual"
    assert [i.findtext("cap:language", namespaces=NS) for i in root.findall("cap:info", NS)] == [
        "fr-FR", "en-GB"]
    polygon = root.findtext("cap:info/cap:area/cap:polygon", namespaces=NS)
    assert polygon is not None and polygon.split()[0] == polygon.split()[-1]
    assert alert["id"] in _feed_ids(client)
    actions = _audit_actions(client, alert["id"])
    for action in ("alert.composed", "alert.approve_refused", "alert.approve", "alert.publish"):
        assert action in actions, actions


def test_exercise_shown_test_not(client: TestClient) -> None:
    a, b = authorities(client)
    for status in ("Exercise", "Test"):
        alert = publish(client, a, b, status=status)  # both wait for b (test_second_authority)
        _cap(client, alert["id"])
    public = client.get("/api/v1/alerts").json()["alerts"]
    assert [p["status"] for p in public] == ["Exercise"]  # Test is not shown to citizens


def test_circle_area(client: TestClient) -> None:
    a, b = authorities(client)
    area = {"desc": "Bataclan", "circle": {"lat": 48.863, "lon": 2.370, "radius_km": 0.5}}
    alert = publish(client, a, b, area=area)
    assert alert["areas"][0]["circles"] == [{"lat": 48.863, "lon": 2.37, "radius_km": 0.5}]
    root = _cap(client, alert["id"])
    assert root.findtext("cap:info/cap:area/cap:circle", namespaces=NS) == "48.863000,2.370000 0.5"


def test_update_and_cancel_chain(client: TestClient) -> None:
    a, b = authorities(client)
    first = publish(client, a, b)
    r = client.post(f"/api/v1/alerts/{first['id']}/update",
                    json=alert_body(severity="Severe"), headers=a)
    assert r.status_code == 201, r.text
    upd = r.json()
    assert upd["msg_type"] == "Update" and upd["state"] == "pending"
    dup = client.post(f"/api/v1/alerts/{first['id']}/cancel", json={}, headers=a)
    assert dup.status_code == 409  # one waiting message per alert
    upd = client.post(f"/api/v1/alerts/{upd['id']}/approve", headers=b).json()
    assert upd["state"] == "published"
    first_cap = _cap(client, first["id"])
    ref1 = ",".join(first_cap.findtext(f"cap:{n}", namespaces=NS) or ""
                    for n in ("sender", "identifier", "sent"))
    assert upd["references"] == ref1
    assert _feed_ids(client) == [upd["id"]]  # the superseded alert left the feed
    assert client.get(f"/api/v1/alerts/{first['id']}").json()["state"] == "superseded"
    # A superseded alert can no longer be updated or cancelled.
    late = client.post(f"/api/v1/alerts/{first['id']}/cancel", json={}, headers=a)
    assert late.status_code == 409

    r = client.post(f"/api/v1/alerts/{upd['id']}/cancel", json={"note": "Fin"}, headers=b)
    assert r.status_code == 201, r.text
    can = client.post(f"/api/v1/alerts/{r.json()['id']}/approve", headers=a).json()
    assert can["msg_type"] == "Cancel" and can["state"] == "published"
    upd_cap = _cap(client, upd["id"])
    ref2 = ",".join(upd_cap.findtext(f"cap:{n}", namespaces=NS) or ""
                    for n in ("sender", "identifier", "sent"))
    assert can["references"] == f"{ref1} {ref2}"
    cancel_cap = _cap(client, can["id"])
    assert cancel_cap.findtext("cap:msgType", namespaces=NS) == "Cancel"
    assert validate.check(etree.tostring(cancel_cap)).ok
    assert _feed_ids(client) == []  # a cancelled alert leaves the feed
    assert client.get("/api/v1/alerts").json()["alerts"] == []


def test_bad_input_is_refused_and_nothing_stored(client: TestClient) -> None:
    a = login(client, Role.authority)
    open_polygon = alert_body(area={"desc": "x", "polygon": [list(p) for p in PARIS[:-1]]})
    r = client.post("/api/v1/alerts", json=open_polygon, headers=a)
    assert r.status_code == 422
    assert any("not closed" in d["message"] for d in r.json()["error"]["details"])
    circle = {"desc": "x", "circle": {"lat": 48.8, "lon": 2.3, "radius_km": -1}}
    r = client.post("/api/v1/alerts", json=alert_body(area=circle), headers=a)
    assert r.status_code == 422 and "radius_km" in r.text
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    r = client.post("/api/v1/alerts", json=alert_body(expires=past), headers=a)
    assert r.status_code == 422
    assert any("past" in d["message"] for d in r.json()["error"]["details"])
    r = client.post("/api/v1/alerts", json=alert_body(area={"desc": "nowhere"}), headers=a)
    assert r.status_code == 422
    assert client.get("/api/v1/alerts/queue", headers=a).json()["alerts"] == []


def test_import_samples_round_trip(client: TestClient) -> None:
    a, b = authorities(client)
    for tag, name in enumerate(("earthquake.cap", "weather.cap", "no_optional_fields.cap")):
        original = (SHARED_CAP / name).read_bytes()
        stale = client.post("/api/v1/alerts/import", content=original, headers={**a, **XML})
        body = shift_dates(original).replace(b"<identifier>", f"<identifier>{tag}-".encode())
        if name != "no_optional_fields.cap":  # expired in 2010: refused, with the reason
            assert stale.status_code == 422
            assert "past" in stale.text
            r = client.post("/api/v1/alerts/import", content=body, headers={**a, **XML})
        else:  # no <info>, so no expiry: accepted as it is
            r, body = stale, original
        assert r.status_code == 201, (name, r.text)
        imported = r.json()
        assert imported["origin"] == "imported" and imported["state"] == "pending"
        ok = client.post(f"/api/v1/alerts/{imported['id']}/approve", headers=b)
        assert ok.status_code == 200, ok.text
        root = _cap(client, imported["id"])
        source = validate.check(body).alert
        exported = validate.check(etree.tostring(root)).alert
        assert source == exported
        again = client.post("/api/v1/alerts/import", content=etree.tostring(root),
                            headers={**a, **XML})
        assert again.status_code == 409


def test_import_refusals(client: TestClient) -> None:
    a = login(client, Role.authority)
    r = client.post("/api/v1/alerts/import", content=(SHARED_CAP / "invalid.cap").read_bytes(),
                    headers={**a, **XML})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["location"] == "line 9"
    xxe = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'
    r = client.post("/api/v1/alerts/import", content=xxe, headers={**a, **XML})
    assert r.status_code == 422 and "refused" in r.text and "root:" not in r.text
    r = client.post("/api/v1/alerts/import", json={}, headers=a)
    assert r.status_code == 415
    unknown = f"""<?xml version="1.0"?><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
      <identifier>U-1</identifier><sender>other@example</sender>
      <sent>{future(-0.1)}</sent><status>Actual</status><msgType>Update</msgType>
      <scope>Public</scope><references>other@example,NOPE,2026-01-01T00:00:00+00:00</references>
    </alert>"""
    r = client.post("/api/v1/alerts/import", content=unknown.encode(), headers={**a, **XML})
    assert r.status_code == 422 and "unknown alert other@example,NOPE" in r.text
    assert client.get("/api/v1/alerts/queue", headers=a).json()["alerts"] == []


def test_validate_endpoint(client: TestClient) -> None:
    r = client.post("/api/v1/alerts/validate", content=(SHARED_CAP / "weather.cap").read_bytes(),
                    headers=XML)
    assert r.json() == {"valid": True, "version": "1.1", "problems": []}
    r = client.post("/api/v1/alerts/validate", content=b"<alert", headers=XML)
    assert r.json()["valid"] is False


def test_expired_alert_leaves_the_feed(client: TestClient) -> None:
    a, b = authorities(client)
    alert_id = publish(client, a, b, status="Exercise")["id"]
    assert alert_id in _feed_ids(client)
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    from sqlalchemy import update

    from tocsin.alerts.models import Alert
    from tocsin.core.db import session_scope, utcnow

    with session_scope(runtime.sessions) as s:
        s.execute(update(Alert).where(Alert.id == alert_id)
                  .values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert alert_id not in _feed_ids(client)
