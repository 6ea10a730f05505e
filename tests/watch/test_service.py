"""Intake grouping, queue order, second opinion and the removal-order lifecycle (TCO Art. 3)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_user
from tests.watch.conftest import moderator
from tocsin.core.auth import Principal, Role
from tocsin.core.errors import Conflict, Invalid
from tocsin.watch import orders, service
from tocsin.watch.classifier import Model
from tocsin.watch.models import WatchPlatform
from tocsin.watch.service import Intake

T0 = dt.datetime(2026, 11, 13, 21, 0, tzinfo=dt.UTC)
APOLOGY = "Gloire aux frères qui ont frappé le Bataclan, ce sont des héros"
NEUTRAL = "Je suis en sécurité, je rentre à pied"


def _report(db: Session, model: Model, url: str, text: str, *, category: str = "other",
            reach: int = 0, now: dt.datetime = T0) -> tuple[int, bool]:
    item, grouped = service.record_item(db, model=model, now=now, intake=Intake(
        url=url, platform="x", source="report", category=category, excerpt=text, reach=reach))
    return item.id, grouped


def test_identical_reports_are_grouped_and_counted(db: Session, model: Model,
                                                   platform: WatchPlatform) -> None:
    first, grouped = _report(db, model, "https://x.example/status/1", APOLOGY)
    assert not grouped
    # Same item: host case, fragment and trailing slash do not make another item.
    again, grouped = _report(db, model, "HTTPS://X.example/status/1/#reply", APOLOGY)
    assert grouped and again == first
    item = service.get_item(db, item_id=first)
    assert item.report_count == 2 and item.category == "terrorism_apology"
    other, grouped = _report(db, model, "https://x.example/status/2", APOLOGY)
    assert other != first and not grouped


def test_queue_is_ordered_by_priority(db: Session, model: Model,
                                      platform: WatchPlatform) -> None:
    calm, _ = _report(db, model, "https://x.example/1", NEUTRAL)
    apology, _ = _report(db, model, "https://x.example/2", APOLOGY)
    reported, _ = _report(db, model, "https://x.example/3", NEUTRAL)
    for _ in range(15):
        _report(db, model, "https://x.example/3", NEUTRAL)
    ranked = [item.id for item, _ in service.queue(db, now=T0)]
    assert ranked == [apology, reported, calm]
    # Waiting raises priority: an old calm item passes a fresh one of the same kind.
    old, _ = _report(db, model, "https://x.example/4", NEUTRAL, now=T0 - dt.timedelta(hours=10))
    ranked = [item.id for item, _ in service.queue(db, now=T0)]
    assert ranked.index(old) < ranked.index(calm)


def test_decision_against_classifier_needs_a_second_moderator(
        db: Session, model: Model, platform: WatchPlatform) -> None:
    item_id, _ = _report(db, model, "https://x.example/9", APOLOGY)
    item, second = service.decide(db, item_id=item_id, who=moderator("a"), decision="keep",
                                  reason="satire account")
    assert second and item.status == "second_opinion"
    with pytest.raises(Conflict, match="another moderator"):
        service.decide(db, item_id=item_id, who=moderator("a"), decision="keep", reason="again")
    item, second = service.decide(db, item_id=item_id, who=moderator("b"), decision="remove",
                                  reason="apology of terrorism")
    assert not second and item.status == "removed"
    with pytest.raises(Conflict):
        service.decide(db, item_id=item_id, who=moderator("c"), decision="keep", reason="late")


def test_decision_agreeing_with_classifier_is_final(db: Session, model: Model,
                                                    platform: WatchPlatform) -> None:
    item_id, _ = _report(db, model, "https://x.example/10", APOLOGY)
    item, second = service.decide(db, item_id=item_id, who=moderator(), decision="remove",
                                  reason="apology")
    assert not second and item.status == "removed"
    assert len(service.decisions_of(db, item_id=item_id)) == 1


def _platform_principal() -> Principal:
    return Principal(user_id=None, username="x-platform", role=Role.platform)


def test_order_lifecycle_on_time(db: Session, model: Model, platform: WatchPlatform) -> None:
    item_id, _ = _report(db, model, "https://x.example/20", APOLOGY)
    with pytest.raises(orders.NoPriorNotice):
        orders.issue(db, item_id=item_id, legal_basis="TCO Art. 3", reason="apology",
                     emergency=False, who=moderator(), now=T0)
    orders.send_notice(db, name="x", who=moderator(), now=T0)
    with pytest.raises(orders.NoPriorNotice):  # notice given, but not 12 hours ago
        orders.issue(db, item_id=item_id, legal_basis="TCO Art. 3", reason="apology",
                     emergency=False, who=moderator(), now=T0 + dt.timedelta(hours=11))
    issued_at = T0 + dt.timedelta(hours=12)
    order = orders.issue(db, item_id=item_id, legal_basis="TCO Art. 3", reason="apology",
                         emergency=False, who=moderator(), now=issued_at)
    assert order.status == "issued" and order.deadline_at is None
    received = issued_at + dt.timedelta(minutes=30)  # the hour runs from receipt
    (fetched,) = orders.receive(db, who=_platform_principal(), now=received)
    assert fetched.deadline_at == received + dt.timedelta(hours=1)
    assert not orders.is_overdue(fetched, received + dt.timedelta(minutes=59))
    done = orders.confirm(db, order_id=order.id, who=_platform_principal(),
                          now=received + dt.timedelta(minutes=50))
    assert done.status == "removed" and not orders.is_overdue(done, received + dt.timedelta(
        hours=5))
    assert service.get_item(db, item_id=item_id).status == "removed"
    # A second fetch does not move the clock.
    orders.receive(db, who=_platform_principal(), now=received + dt.timedelta(hours=2))
    assert done.deadline_at == received + dt.timedelta(hours=1)


def test_order_overdue_and_contested(db: Session, model: Model,
                                     platform: WatchPlatform) -> None:
    first, _ = _report(db, model, "https://x.example/30", APOLOGY)
    second, _ = _report(db, model, "https://x.example/31", APOLOGY)
    late = orders.issue(db, item_id=first, legal_basis="TCO Art. 3", reason="r",
                        emergency=True, who=moderator(), now=T0)  # emergency: no notice
    orders.receive(db, who=_platform_principal(), now=T0)
    assert orders.is_overdue(late, T0 + dt.timedelta(minutes=61))
    with pytest.raises(Conflict):
        orders.issue(db, item_id=first, legal_basis="TCO Art. 3", reason="r", emergency=True,
                     who=moderator(), now=T0)
    orders.confirm(db, order_id=late.id, who=_platform_principal(),
                   now=T0 + dt.timedelta(hours=2))
    assert orders.is_overdue(late, T0 + dt.timedelta(hours=3))  # removed, but late
    contested = orders.issue(db, item_id=second, legal_basis="TCO Art. 3", reason="r",
                             emergency=False, who=moderator(), now=T0)  # not the first order
    orders.contest(db, order_id=contested.id, who=_platform_principal(),
                   reason="journalistic content, Art. 1(3)", now=T0 + dt.timedelta(minutes=5))
    assert contested.status == "contested" and contested.contest_reason
    assert not orders.is_overdue(contested, T0 + dt.timedelta(hours=5))
    with pytest.raises(Conflict):
        orders.confirm(db, order_id=contested.id, who=_platform_principal())
    report = orders.transparency(db, now=T0 + dt.timedelta(hours=5))
    assert report["orders_by_status"] == {"removed": 1, "contested": 1}
    assert report["removed_late"] == 1 and report["removed_within_hour"] == 0


def test_order_needs_a_platform_account(db: Session, model: Model) -> None:
    orders.add_platform(db, name="x", display_name="X", account=None,
                        who=moderator())
    item_id, _ = _report(db, model, "https://x.example/40", APOLOGY)
    with pytest.raises(Invalid, match="no account"):
        orders.issue(db, item_id=item_id, legal_basis="TCO", reason="r", emergency=True,
                     who=moderator())


def test_platform_account_must_have_role_platform(db: Session) -> None:
    make_user(db, role=Role.dispatcher, username="disp-x")
    with pytest.raises(Invalid, match="role platform"):
        orders.add_platform(db, name="y", display_name="Y", account="disp-x", who=moderator())


def test_other_platform_cannot_touch_an_order(db: Session, model: Model,
                                              platform: WatchPlatform) -> None:
    make_user(db, role=Role.platform, username="y-platform")
    orders.add_platform(db, name="y", display_name="Y", account="y-platform", who=moderator())
    item_id, _ = _report(db, model, "https://x.example/50", APOLOGY)
    order = orders.issue(db, item_id=item_id, legal_basis="TCO", reason="r", emergency=True,
                         who=moderator())
    other = Principal(user_id=None, username="y-platform", role=Role.platform)
    assert orders.receive(db, who=other) == []
    with pytest.raises(Exception, match="no order"):
        orders.confirm(db, order_id=order.id, who=other)
