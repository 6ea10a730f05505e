"""Removal orders under Regulation (EU) 2021/784 (TCO), and DSA Art. 16 notices.

Which instrument fits which content, and when a second moderator must approve, is in
``tocsin.watch.instruments``; this module keeps each one's life. For orders:

- Art. 3(3): the platform removes or disables the content within **one hour of receipt**. Receipt
  is the platform account's first fetch of the order; the deadline is stored then.
- Art. 3(2): before its *first* order to a platform, the authority informs it of the procedures
  and deadlines at least **12 hours** ahead, except in duly justified emergencies.
- Art. 9: the platform may contest the order; the contest and its reason are kept.
- Art. 6: removed content and its data are preserved for **six months** (see ``retention``).

A notice has no clock: the platform decides (DSA Art. 16(6)) and tells its decision, recorded
as ``actioned`` or ``declined`` with its reasons (Art. 17).

The clock is injectable (``now=``) so tests can run an order past its hour.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core import audit
from tocsin.core.auth import Principal
from tocsin.core.auth.models import UserAccount
from tocsin.core.db import utcnow
from tocsin.core.errors import Conflict, DomainError, Invalid, NotFound
from tocsin.core.outbox import add_event
from tocsin.watch import events
from tocsin.watch.config import WatchSettings, check_outbound, settings_or_env
from tocsin.watch.events import ItemStatus
from tocsin.watch.instruments import (
    OPEN_STATUSES,
    VISIBLE_TO_PLATFORM,
    Instrument,
    Status,
    plan,
)
from tocsin.watch.models import WatchDecision, WatchItem, WatchOrder, WatchPlatform
from tocsin.watch.service import counts as service_counts
from tocsin.watch.service import get_item, require_platform

REMOVAL_DEADLINE = dt.timedelta(hours=1)
PRIOR_NOTICE = dt.timedelta(hours=12)


class NoPriorNotice(DomainError):
    """First order to a platform without the 12-hour notice of TCO Art. 3(2)."""

    status = 409
    code = "prior_notice_required"


def add_platform(session: Session, *, name: str, display_name: str, account: str | None,
                 who: Principal, webhook_url: str | None = None,
                 settings: WatchSettings | None = None) -> WatchPlatform:
    """Register a platform; ``account`` must be an existing account of role platform.

    With a ``webhook_url``, a signing secret is generated (read it once from the result).
    """
    if session.scalar(select(WatchPlatform).where(WatchPlatform.name == name)) is not None:
        raise Conflict(f"platform {name!r} already exists")
    if webhook_url is not None:
        check_outbound(webhook_url, "webhook", settings)
    if account is not None:
        user = session.scalar(select(UserAccount).where(UserAccount.username == account))
        if user is None or user.role != "platform":
            raise Invalid(f"account {account!r} does not exist or is not of role platform")
    platform = WatchPlatform(name=name, display_name=display_name, account=account,
                             webhook_url=webhook_url, created_at=utcnow(),
                             webhook_secret=secrets.token_urlsafe(32) if webhook_url else None)
    session.add(platform)
    session.flush()
    audit.record(session, actor=who, action="watch.platform_add", object_type="watch_platform",
                 object_id=name)
    return platform


def send_notice(session: Session, *, name: str, who: Principal,
                now: dt.datetime | None = None) -> WatchPlatform:
    """Record the Art. 3(2) information sent to a platform (starts its 12-hour notice)."""
    platform = require_platform(session, name=name)
    platform.notice_at = platform.notice_at or (now or utcnow())
    audit.record(session, actor=who, action="watch.prior_notice", object_type="watch_platform",
                 object_id=name, reason="TCO Art. 3(2)")
    session.flush()
    return platform


def _kept(session: Session, item: WatchItem) -> bool:
    """True when a moderator's standing (or latest, awaiting a second opinion) call is keep."""
    if item.status == ItemStatus.kept:
        return True
    latest = session.scalar(select(WatchDecision.decision).where(
        WatchDecision.item_id == item.id).order_by(WatchDecision.id.desc()).limit(1))
    return latest == "keep"


def issue(session: Session, *, item_id: int, legal_basis: str, reason: str, emergency: bool,
          who: Principal, instrument: Instrument = Instrument.order,
          content_category: str | None = None, now: dt.datetime | None = None,
          settings: WatchSettings | None = None) -> WatchOrder:
    """Issue a removal order or a notice about an item to the platform hosting it.

    It leaves at once, or waits as ``proposed`` for a second moderator (see ``instruments``).
    """
    now = now or utcnow()
    item = get_item(session, item_id=item_id)
    platform = require_platform(session, name=item.platform)
    if not platform.account:
        raise Invalid(f"platform {platform.name!r} has no account to receive orders")
    chosen = plan(instrument=instrument, classified=item.category, stated=content_category,
                  kept=_kept(session, item))
    open_order = session.scalar(select(WatchOrder).where(
        WatchOrder.item_id == item_id, WatchOrder.status.in_(OPEN_STATUSES)))
    if open_order is not None:
        raise Conflict(f"{open_order.instrument} {open_order.id} for item {item_id} is still "
                       f"open ({open_order.status})")
    if instrument is Instrument.order:
        _check_prior_notice(session, platform, emergency=emergency, now=now)
    order = WatchOrder(
        platform_id=platform.id, item_id=item_id, instrument=instrument.value,
        content_category=chosen.category,
        trusted_flagger=(instrument is Instrument.notice
                         and settings_or_env(settings).trusted_flagger),
        legal_basis=legal_basis, reason=reason,
        emergency=emergency and instrument is Instrument.order, issued_by=who.username,
        issued_at=now, proposed_at=now if chosen.needs_second_moderator else None,
        status=Status.proposed.value if chosen.needs_second_moderator else _sent(instrument))
    session.add(order)
    session.flush()
    audit.record(session, actor=who, action=f"watch.{instrument.value}_"
                 + ("propose" if chosen.needs_second_moderator else "issue"),
                 object_type="watch_order", object_id=order.id,
                 reason=f"{legal_basis}: {reason}"
                 + (f" (second moderator needed: {chosen.why})" if chosen.why else ""))
    if not chosen.needs_second_moderator:
        _announce(session, order, platform)
    return order


def _sent(instrument: Instrument) -> str:
    return (Status.issued if instrument is Instrument.order else Status.sent).value


def _check_prior_notice(session: Session, platform: WatchPlatform, *, emergency: bool,
                        now: dt.datetime) -> None:
    first = session.scalar(select(WatchOrder.id).where(
        WatchOrder.platform_id == platform.id, WatchOrder.instrument == Instrument.order.value,
        WatchOrder.status.not_in((Status.proposed.value, Status.withdrawn.value))
    ).limit(1)) is None
    noticed = platform.notice_at is not None and now - platform.notice_at >= PRIOR_NOTICE
    if first and not emergency and not noticed:
        raise NoPriorNotice(
            f"first order to {platform.name!r}: TCO Art. 3(2) requires information 12 hours "
            "before (send the notice, or state a justified emergency)")


def _announce(session: Session, order: WatchOrder, platform: WatchPlatform) -> None:
    # One event for both instruments: the webhook consumer pushes either to the platform.
    add_event(session, events.ORDER_ISSUED, events.OrderIssued(
        id=order.id, platform=platform.name, item_id=order.item_id,
        instrument=order.instrument).model_dump())


def _proposal(session: Session, order_id: int) -> WatchOrder:
    order = session.get(WatchOrder, order_id)
    if order is None:
        raise NotFound(f"no order or notice {order_id}")
    if order.status != Status.proposed:
        raise Conflict(f"{order.instrument} {order_id} is {order.status}, not awaiting approval")
    return order


def approve(session: Session, *, order_id: int, who: Principal,
            now: dt.datetime | None = None) -> WatchOrder:
    """A second moderator approves a proposed order or notice: it leaves for the platform."""
    now = now or utcnow()
    order = _proposal(session, order_id)
    if order.issued_by == who.username:
        raise Conflict("the approval must come from another moderator than the one who "
                       "proposed it")
    platform = session.get(WatchPlatform, order.platform_id)
    assert platform is not None  # foreign key
    instrument = Instrument(order.instrument)
    if instrument is Instrument.order:
        _check_prior_notice(session, platform, emergency=order.emergency, now=now)
    order.status, order.approved_by, order.issued_at = _sent(instrument), who.username, now
    audit.record(session, actor=who, action=f"watch.{instrument.value}_approve",
                 object_type="watch_order", object_id=order.id)
    _announce(session, order, platform)
    session.flush()
    return order


def withdraw(session: Session, *, order_id: int, who: Principal, reason: str,
             now: dt.datetime | None = None) -> WatchOrder:
    """Withdraw a proposal (its author changed their mind, or a second moderator refused it)."""
    order = _proposal(session, order_id)
    order.status = Status.withdrawn.value
    audit.record(session, actor=who, action=f"watch.{order.instrument}_withdraw",
                 object_type="watch_order", object_id=order.id, reason=reason)
    session.flush()
    return order


def platform_of(session: Session, who: Principal) -> WatchPlatform:
    """Return the platform whose account ``who`` is."""
    platform = session.scalar(select(WatchPlatform).where(WatchPlatform.account == who.username))
    if platform is None:
        # 404, not 403: the role is right, the link to a platform is what is missing.
        raise NotFound(f"account {who.username!r} is not linked to any platform")
    return platform


def receive(session: Session, *, who: Principal,
            now: dt.datetime | None = None) -> list[WatchOrder]:
    """Return the platform's orders; the first fetch of an order is its receipt (clock starts)."""
    now = now or utcnow()
    platform = platform_of(session, who)
    orders = list(session.scalars(select(WatchOrder).where(
        WatchOrder.platform_id == platform.id, WatchOrder.status.in_(VISIBLE_TO_PLATFORM)
    ).order_by(WatchOrder.id.desc()).limit(200)))
    for order in orders:
        if order.received_at is None:
            mark_received(order, now)
            audit.record(session, actor=who, action=f"watch.{order.instrument}_receive",
                         object_type="watch_order", object_id=order.id)
    session.flush()
    return orders


def mark_received(order: WatchOrder, now: dt.datetime) -> None:
    """Record the platform's receipt; an order's hour starts then, a notice has no clock."""
    order.received_at = now
    if order.instrument == Instrument.order:
        order.deadline_at = now + REMOVAL_DEADLINE
    order.status = Status.received.value


def _own_order(session: Session, order_id: int, who: Principal) -> WatchOrder:
    platform = platform_of(session, who)
    order = session.get(WatchOrder, order_id)
    if (order is None or order.platform_id != platform.id
            or order.status not in VISIBLE_TO_PLATFORM):
        raise NotFound(f"no order {order_id} for this platform")
    return order


_DONE = (Status.removed, Status.contested, Status.actioned, Status.declined)


def confirm(session: Session, *, order_id: int, who: Principal,
            now: dt.datetime | None = None) -> WatchOrder:
    """Record the platform's confirmation that the content is removed (or, for a notice,
    that it acted on it)."""
    now = now or utcnow()
    order = _own_order(session, order_id, who)
    if order.status in _DONE:
        raise Conflict(f"{order.instrument} {order_id} is already {order.status}")
    if order.received_at is None:  # confirmed without fetching the list: receipt is now
        mark_received(order, now)
    order.removed_at = now
    order.status = (Status.removed if order.instrument == Instrument.order
                    else Status.actioned).value
    item = session.get(WatchItem, order.item_id)
    if item is not None:
        item.status = ItemStatus.removed
        item.decided_at = item.decided_at or now
    audit.record(session, actor=who, action=f"watch.{order.instrument}_confirm",
                 object_type="watch_order", object_id=order_id)
    add_event(session, events.ORDER_REMOVED,
              events.OrderRemoved(id=order_id, late=is_overdue(order, now)).model_dump())
    session.flush()
    return order


def contest(session: Session, *, order_id: int, who: Principal, reason: str,
            now: dt.datetime | None = None) -> WatchOrder:
    """Record the platform's contest of an order (TCO Art. 9), or its decision not to act on
    a notice (DSA Art. 17 statement of reasons), with its reason."""
    now = now or utcnow()
    order = _own_order(session, order_id, who)
    if order.status in _DONE:
        raise Conflict(f"{order.instrument} {order_id} is already {order.status}")
    if order.received_at is None:
        mark_received(order, now)
    order.status = (Status.contested if order.instrument == Instrument.order
                    else Status.declined).value
    order.contested_at, order.contest_reason = now, reason
    audit.record(session, actor=who, action=f"watch.{order.instrument}_contest",
                 object_type="watch_order", object_id=order_id, reason=reason)
    add_event(session, events.ORDER_CONTESTED, events.OrderContested(id=order_id).model_dump())
    session.flush()
    return order


def is_overdue(order: WatchOrder, now: dt.datetime) -> bool:
    """True when the hour from receipt has passed without removal (removed late counts too)."""
    if order.deadline_at is None or order.status == Status.contested:
        return False
    done = order.removed_at or now
    return done > order.deadline_at


def list_orders(session: Session, *, status: str | None = None,
                instrument: str | None = None) -> Sequence[WatchOrder]:
    """Return orders and notices, newest first."""
    query = select(WatchOrder).order_by(WatchOrder.id.desc()).limit(500)
    if status:
        query = query.where(WatchOrder.status == status)
    if instrument:
        query = query.where(WatchOrder.instrument == instrument)
    return list(session.scalars(query))


def platform_name(session: Session, platform_id: int) -> str:
    platform = session.get(WatchPlatform, platform_id)
    return platform.name if platform else "?"



def transparency(session: Session, *, now: dt.datetime | None = None) -> dict[str, object]:
    """Return the counts a transparency report needs (TCO Art. 7-8 for orders, DSA notices
    beside them): by outcome, removals within the hour, overdue and contested, items by status."""
    now = now or utcnow()
    everything = list(session.scalars(select(WatchOrder)))
    all_orders = [o for o in everything if o.instrument == Instrument.order]
    notices = [o for o in everything if o.instrument == Instrument.notice]

    def by_status(rows: list[WatchOrder]) -> dict[str, int]:
        counted: dict[str, int] = {}
        for row in rows:
            counted[row.status] = counted.get(row.status, 0) + 1
        return counted

    removed = [o for o in all_orders if o.status == Status.removed]
    return {
        "orders": len(all_orders),
        "orders_by_status": by_status(all_orders),
        "removed_within_hour": sum(1 for o in removed if not is_overdue(o, now)),
        "removed_late": sum(1 for o in removed if is_overdue(o, now)),
        "overdue_open": sum(1 for o in all_orders
                            if o.status == Status.received and is_overdue(o, now)),
        "notices": len(notices),
        "notices_by_status": by_status(notices),
        "notices_trusted_flagger": sum(1 for o in notices if o.trusted_flagger),
        "items_by_status": service_counts(session),
    }
