"""The right legal instrument (issue 21): TCO removal orders for terrorist content only, DSA
notices for hate, a second moderator after a "keep" or against the classifier."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import login
from tests.watch.conftest import moderator
from tests.watch.test_api import API, _setup_platform
from tocsin.core.audit.models import AuditEntry
from tocsin.core.auth import Principal, Role
from tocsin.core.errors import Conflict
from tocsin.watch import figures, orders, service
from tocsin.watch.classifier import Model
from tocsin.watch.instruments import Instrument, WrongInstrument
from tocsin.watch.models import WatchPlatform
from tocsin.watch.service import Intake

T0 = dt.datetime(2026, 11, 13, 21, 0, tzinfo=dt.UTC)
APOLOGY = "Gloire aux frères qui ont frappé le Bataclan, ce sont des héros"
HATE = "Ces sales bougnoules dehors, ce sont des rats, qu'ils retournent chez eux"
PLATFORM = Principal(user_id=None, username="x-platform", role=Role.platform)


def _item(db: Session, model: Model, url: str, text: str) -> int:
    item, _ = service.record_item(db, model=model, now=T0, intake=Intake(
        url=url, platform="x", source="report", category="other", excerpt=text, reach=0))
    return item.id


def _issue(db: Session, item_id: int, *, who: str = "mod1", **extra: object):
    kwargs: dict[str, object] = {"legal_basis": "basis", "reason": "reason",
                                 "emergency": True, "now": T0, **extra}
    return orders.issue(db, item_id=item_id, who=moderator(who), **kwargs)  # type: ignore[arg-type]


def test_the_items_are_classified_as_the_tests_assume(db: Session, model: Model,
                                                      platform: WatchPlatform) -> None:
    assert service.get_item(db, item_id=_item(db, model, "https://x.example/a", APOLOGY)).category \
        == "terrorism_apology"
    hate = _item(db, model, "https://x.example/h", HATE)
    assert service.get_item(db, item_id=hate).category == "hate"


def test_no_removal_order_for_hate_it_goes_as_a_notice(db: Session, model: Model,
                                                       platform: WatchPlatform) -> None:
    item_id = _item(db, model, "https://x.example/h", HATE)
    with pytest.raises(WrongInstrument, match="only for terrorist content"):
        _issue(db, item_id)
    with pytest.raises(WrongInstrument, match="only for terrorist content"):
        _issue(db, item_id, content_category="hate")
    notice = _issue(db, item_id, instrument=Instrument.notice)
    assert (notice.instrument, notice.status, notice.content_category) == ("notice", "sent",
                                                                           "hate")
    assert not notice.emergency  # the 12-hour rule and its waiver are the TCO's
    (fetched,) = orders.receive(db, who=PLATFORM, now=T0 + dt.timedelta(minutes=5))
    assert fetched.status == "received" and fetched.deadline_at is None  # no one-hour clock
    assert not orders.is_overdue(fetched, T0 + dt.timedelta(days=3))
    declined = orders.contest(db, order_id=notice.id, who=PLATFORM, reason="satire, Art. 17",
                              now=T0 + dt.timedelta(hours=30))
    assert declined.status == "declined"


def test_a_notice_needs_no_prior_information_and_an_order_still_does(
        db: Session, model: Model, platform: WatchPlatform) -> None:
    hate = _item(db, model, "https://x.example/h", HATE)
    apology = _item(db, model, "https://x.example/a", APOLOGY)
    assert _issue(db, hate, instrument=Instrument.notice, emergency=False).status == "sent"
    with pytest.raises(orders.NoPriorNotice):  # the notice was not an order: still the first
        _issue(db, apology, emergency=False)


def test_an_order_after_a_keep_waits_for_a_second_moderator(db: Session, model: Model,
                                                            platform: WatchPlatform) -> None:
    item_id = _item(db, model, "https://x.example/a", APOLOGY)
    # Keep against the classifier: a second opinion is needed, and it keeps too.
    service.decide(db, item_id=item_id, who=moderator("mod1"), decision="keep",
                   reason="journalism quoting", now=T0)
    service.decide(db, item_id=item_id, who=moderator("mod2"), decision="keep",
                   reason="agreed", now=T0)
    assert service.get_item(db, item_id=item_id).status == "kept"
    proposed = _issue(db, item_id, who="mod1")
    assert proposed.status == "proposed" and proposed.proposed_at == T0
    assert orders.receive(db, who=PLATFORM, now=T0) == []  # nothing left Tocsin
    with pytest.raises(Conflict, match="another moderator"):
        orders.approve(db, order_id=proposed.id, who=moderator("mod1"), now=T0)
    with pytest.raises(Conflict, match="still open"):
        _issue(db, item_id, who="mod3")
    later = T0 + dt.timedelta(minutes=10)
    approved = orders.approve(db, order_id=proposed.id, who=moderator("mod2"), now=later)
    assert (approved.status, approved.approved_by, approved.issued_at) == ("issued", "mod2",
                                                                           later)
    (fetched,) = orders.receive(db, who=PLATFORM, now=later)
    assert fetched.deadline_at == later + dt.timedelta(hours=1)
    actions = set(db.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "watch_order")))
    assert {"watch.order_propose", "watch.order_approve", "watch.order_receive"} <= actions


def test_a_notice_after_a_keep_also_needs_a_second_moderator(db: Session, model: Model,
                                                             platform: WatchPlatform) -> None:
    item_id = _item(db, model, "https://x.example/h", HATE)
    service.decide(db, item_id=item_id, who=moderator("mod1"), decision="keep",
                   reason="first opinion", now=T0)  # awaiting the second opinion: keep stands
    proposed = _issue(db, item_id, instrument=Instrument.notice)
    assert proposed.status == "proposed"
    withdrawn = orders.withdraw(db, order_id=proposed.id, who=moderator("mod2"),
                                reason="the keep stands")
    assert withdrawn.status == "withdrawn"
    with pytest.raises(Conflict, match="not awaiting approval"):
        orders.approve(db, order_id=proposed.id, who=moderator("mod2"))
    assert _issue(db, item_id, instrument=Instrument.notice).status == "proposed"  # anew


def test_an_order_against_the_classifier_takes_two_moderators(db: Session, model: Model,
                                                              platform: WatchPlatform) -> None:
    item_id = _item(db, model, "https://x.example/h", HATE)  # classified hate
    proposed = _issue(db, item_id, content_category="call_to_violence")
    assert proposed.status == "proposed" and proposed.content_category == "call_to_violence"
    assert orders.approve(db, order_id=proposed.id, who=moderator("mod2")).status == "issued"


def test_nothing_for_content_no_one_called_illegal(db: Session, model: Model,
                                                   platform: WatchPlatform) -> None:
    item_id = _item(db, model, "https://x.example/n", "Je suis en sécurité, je rentre à pied")
    with pytest.raises(WrongInstrument, match="state the illegal content category"):
        _issue(db, item_id, instrument=Instrument.notice)
    assert _issue(db, item_id, instrument=Instrument.notice,
                  content_category="hate").status == "sent"


def test_the_transparency_report_counts_orders_and_notices_apart(
        db: Session, model: Model, platform: WatchPlatform,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_WATCH_TRUSTED_FLAGGER", "true")
    order = _issue(db, _item(db, model, "https://x.example/a", APOLOGY))
    notice = _issue(db, _item(db, model, "https://x.example/h", HATE),
                    instrument=Instrument.notice)
    assert notice.trusted_flagger and not order.trusted_flagger
    _issue(db, _item(db, model, "https://x.example/h2", HATE + " !"), content_category="hate",
           instrument=Instrument.notice)
    orders.receive(db, who=PLATFORM, now=T0)
    orders.confirm(db, order_id=order.id, who=PLATFORM, now=T0 + dt.timedelta(minutes=20))
    orders.confirm(db, order_id=notice.id, who=PLATFORM, now=T0 + dt.timedelta(hours=5))
    counts = orders.transparency(db, now=T0 + dt.timedelta(days=1))
    assert counts["orders"] == 1 and counts["orders_by_status"] == {"removed": 1}
    assert counts["notices"] == 2 and counts["notices_trusted_flagger"] == 2
    assert counts["notices_by_status"] == {"actioned": 1, "received": 1}
    lines = {line.key: line.value for line in figures.report(
        db, T0 - dt.timedelta(hours=1), T0 + dt.timedelta(days=1))}
    assert lines["tco.orders_issued"] == 1 and lines["tco.removed_within_hour"] == 1
    assert lines["dsa.notices_sent"] == 2 and lines["dsa.notices_actioned"] == 1
    facts = figures.from_tables(db, T0 - dt.timedelta(hours=1), T0 + dt.timedelta(days=1))
    kinds = sorted(f.kind for f in facts if f.kind.startswith(("watch.order", "watch.notice")))
    assert kinds == ["watch.notice_actioned", "watch.notice_sent", "watch.notice_sent",
                     "watch.order_issued", "watch.order_removed"]


def test_a_proposal_is_not_counted_until_it_leaves(db: Session, model: Model,
                                                   platform: WatchPlatform) -> None:
    _issue(db, _item(db, model, "https://x.example/h", HATE), content_category="call_to_violence")
    lines = {line.key: line.value for line in figures.report(
        db, T0 - dt.timedelta(hours=1), T0 + dt.timedelta(days=1))}
    assert lines["tco.orders_issued"] == 0


def test_the_api_names_the_wrong_instrument_and_refuses_other_roles(client: TestClient) -> None:
    platform = _setup_platform(client)
    r = client.post(f"{API}/reports", data={"url": "https://x.example/h", "platform": "x",
                                            "category": "hate", "excerpt": HATE})
    item_id = r.json()["item_id"]
    first = login(client, Role.moderator)
    body = {"item_id": item_id, "legal_basis": "Regulation (EU) 2021/784 Art. 3",
            "reason": "hate", "emergency": True}
    r = client.post(f"{API}/orders", headers=first, json=body)
    assert r.status_code == 422 and r.json()["error"]["code"] == "wrong_instrument"
    assert "notice" in r.json()["error"]["message"]
    r = client.post(f"{API}/orders", headers=first, json={**body, "content_category": "spam"})
    assert r.status_code == 422 and "content_category" in r.text
    r = client.post(f"{API}/orders", headers=first,
                    json={**body, "content_category": "call_to_violence"})
    assert r.status_code == 201 and r.json()["status"] == "proposed", r.text
    order_id = r.json()["id"]
    assert client.get(f"{API}/platform/orders", headers=platform).json() == []
    r = client.post(f"{API}/orders/{order_id}/approve", headers=first)
    assert r.status_code == 409 and "another moderator" in r.text
    for role in (Role.analyst, Role.platform, Role.authority):
        r = client.post(f"{API}/orders/{order_id}/approve", headers=login(client, role))
        assert r.status_code == 403, (role, r.text)
    second = login(client, Role.moderator)  # another account
    r = client.post(f"{API}/orders/{order_id}/approve", headers=second)
    assert r.status_code == 200 and r.json()["status"] == "issued", r.text
    (fetched,) = client.get(f"{API}/platform/orders", headers=platform).json()
    assert fetched["instrument"] == "order" and fetched["approved_by"]
    listed = client.get(f"{API}/orders", headers=first, params={"instrument": "notice"})
    assert listed.status_code == 200 and listed.json() == []
