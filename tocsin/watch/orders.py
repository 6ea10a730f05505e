"""Removal orders under Regulation (EU) 2021/784 (TCO).

- Art. 3(3): the platform removes or disables the content within **one hour of receipt**. Receipt
  is the platform account's first fetch of the order; the deadline is stored then.
- Art. 3(2): before its *first* order to a platform, the authority informs it of the procedures
  and deadlines at least **12 hours** ahead, except in duly justified emergencies.
- Art. 9: the platform may contest the order; the contest and its reason are kept.
- Art. 6: removed content and its data are preserved for **six months** (see ``retention``).

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
from tocsin.watch.config import check_outbound
from tocsin.watch.models import WatchItem, WatchOrder, WatchPlatform
from tocsin.watch.service import counts as service_counts
from tocsin.watch.service import get_item, require_platform

REMOVAL_DEADLINE = dt.timedelta(hours=1)
PRIOR_NOTICE = dt.timedelta(hours=12)


class NoPriorNotice(DomainError):
    """First order to a platform without the 12-hour notice of TCO Art. 3(2)."""

    status = 409
    code = "prior_notice_required"


def add_platform(session: Session, *, name: str, display_name: str, account: str | None,
                 who: Principal, webhook_url: str | None = None) -> WatchPlatform:
    """Register a platform; ``account`` must be an existing account of role platform.

    With a ``webhook_url``, a signing secret is generated (read it once from the result).
    """
    if session.scalar(select(WatchPlatform).where(WatchPlatform.name == name)) is not None:
        raise Conflict(f"platform {name!r} already exists")
    if webhook_url is not None:
        check_outbound(webhook_url, "webhook")
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
    platform = require_platform(session, name)
    platform.notice_at = platform.notice_at or (now or utcnow())
    audit.record(session, actor=who, action="watch.prior_notice", object_type="watch_platform",
                 object_id=name, reason="TCO Art. 3(2)")
    session.flush()
    return platform


def issue(session: Session, *, item_id: int, legal_basis: str, reason: str, emergency: bool,
          who: Principal, now: dt.datetime | None = None) -> WatchOrder:
    """Issue a removal order for an item to the platform hosting it."""
    now = now or utcnow()
    item = get_item(session, item_id)
    platform = require_platform(session, item.platform)
    if not platform.account:
        raise Invalid(f"platform {platform.name!r} has no account to receive orders")
    open_order = session.scalar(select(WatchOrder).where(
        WatchOrder.item_id == item_id, WatchOrder.status.in_(("issued", "received"))))
    if open_order is not None:
        raise Conflict(f"order {open_order.id} for item {item_id} is still open")
    first = session.scalar(select(WatchOrder.id).where(
        WatchOrder.platform_id == platform.id).limit(1)) is None
    noticed = platform.notice_at is not None and now - platform.notice_at >= PRIOR_NOTICE
    if first and not emergency and not noticed:
        raise NoPriorNotice(
            f"first order to {platform.name!r}: TCO Art. 3(2) requires information 12 hours "
            "before (send the notice, or state a justified emergency)")
    order = WatchOrder(platform_id=platform.id, item_id=item_id, legal_basis=legal_basis,
                       reason=reason, emergency=emergency, issued_by=who.username, issued_at=now,
                       status="issued")
    session.add(order)
    session.flush()
    audit.record(session, actor=who, action="watch.order_issue", object_type="watch_order",
                 object_id=order.id, reason=f"{legal_basis}: {reason}")
    add_event(session, "watch.order_issued", {"id": order.id, "platform": platform.name,
                                              "item_id": item_id})
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
        WatchOrder.platform_id == platform.id).order_by(WatchOrder.id.desc()).limit(200)))
    for order in orders:
        if order.received_at is None:
            order.received_at = now
            order.deadline_at = now + REMOVAL_DEADLINE
            order.status = "received"
            audit.record(session, actor=who, action="watch.order_receive",
                         object_type="watch_order", object_id=order.id)
    session.flush()
    return orders


def _own_order(session: Session, order_id: int, who: Principal) -> WatchOrder:
    platform = platform_of(session, who)
    order = session.get(WatchOrder, order_id)
    if order is None or order.platform_id != platform.id:
        raise NotFound(f"no order {order_id} for this platform")
    return order


def confirm(session: Session, *, order_id: int, who: Principal,
            now: dt.datetime | None = None) -> WatchOrder:
    """Record the platform's confirmation that the content is removed."""
    now = now or utcnow()
    order = _own_order(session, order_id, who)
    if order.status in ("removed", "contested"):
        raise Conflict(f"order {order_id} is already {order.status}")
    if order.received_at is None:  # confirmed without fetching the list: receipt is now
        order.received_at, order.deadline_at = now, now + REMOVAL_DEADLINE
    order.status, order.removed_at = "removed", now
    item = session.get(WatchItem, order.item_id)
    if item is not None:
        item.status = "removed"
        item.decided_at = item.decided_at or now
    audit.record(session, actor=who, action="watch.order_confirm", object_type="watch_order",
                 object_id=order_id)
    add_event(session, "watch.order_removed", {"id": order_id, "late": is_overdue(order, now)})
    session.flush()
    return order


def contest(session: Session, *, order_id: int, who: Principal, reason: str,
            now: dt.datetime | None = None) -> WatchOrder:
    """Record the platform's contest of an order (TCO Art. 9), with its reason."""
    now = now or utcnow()
    order = _own_order(session, order_id, who)
    if order.status in ("removed", "contested"):
        raise Conflict(f"order {order_id} is already {order.status}")
    order.status, order.contested_at, order.contest_reason = "contested", now, reason
    audit.record(session, actor=who, action="watch.order_contest", object_type="watch_order",
                 object_id=order_id, reason=reason)
    add_event(session, "watch.order_contested", {"id": order_id})
    session.flush()
    return order


def is_overdue(order: WatchOrder, now: dt.datetime) -> bool:
    """True when the hour from receipt has passed without removal (removed late counts too)."""
    if order.deadline_at is None or order.status == "contested":
        return False
    done = order.removed_at or now
    return done > order.deadline_at


def list_orders(session: Session, *, status: str | None = None) -> Sequence[WatchOrder]:
    """Return orders, newest first."""
    query = select(WatchOrder).order_by(WatchOrder.id.desc()).limit(500)
    if status:
        query = query.where(WatchOrder.status == status)
    return list(session.scalars(query))


def platform_name(session: Session, platform_id: int) -> str:
    platform = session.get(WatchPlatform, platform_id)
    return platform.name if platform else "?"



def transparency(session: Session, *, now: dt.datetime | None = None) -> dict[str, object]:
    """Return the counts a transparency report needs (TCO Art. 7-8): orders by outcome,
    removals within the hour, overdue and contested orders, items by status."""
    now = now or utcnow()
    all_orders = list(session.scalars(select(WatchOrder)))
    by_status: dict[str, int] = {}
    for order in all_orders:
        by_status[order.status] = by_status.get(order.status, 0) + 1
    removed = [o for o in all_orders if o.status == "removed"]
    return {
        "orders": len(all_orders),
        "orders_by_status": by_status,
        "removed_within_hour": sum(1 for o in removed if not is_overdue(o, now)),
        "removed_late": sum(1 for o in removed if is_overdue(o, now)),
        "overdue_open": sum(1 for o in all_orders
                            if o.status == "received" and is_overdue(o, now)),
        "items_by_status": service_counts(session),
    }
