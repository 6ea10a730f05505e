"""HTTP API of platforms, removal orders (TCO Regulation 2021/784, Art. 3, 6 and 9) and DSA
notices (Regulation 2022/2065, Art. 16 and 22).

Moderators issue orders (terrorist content) or notices (other illegal content); where
``tocsin.watch.instruments`` asks for it, a second moderator approves before anything leaves.
The platform's account fetches them (for an order, its first fetch is the receipt that starts
the one-hour clock of Art. 3(3)) and confirms removal or contests (Art. 9) — for a notice,
confirms it acted or declines with its reasons (DSA Art. 17).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tocsin.core.auth import Principal, Role, allow, public
from tocsin.core.db import utcnow
from tocsin.core.ratelimit import RateLimit
from tocsin.core.runtime import AppRuntime, DbSession
from tocsin.watch import orders
from tocsin.watch.instruments import Instrument, Status
from tocsin.watch.lifecycle import WatchState
from tocsin.watch.models import WatchItem, WatchOrder, WatchPlatform
from tocsin.watch.schemas import (
    ContestIn,
    OrderIn,
    OrderOut,
    PlatformIn,
    PlatformOut,
    WithdrawIn,
)
from tocsin.watch.service import platform_names

router = APIRouter()
STATUS_PATTERN = "^(" + "|".join(s.value for s in Status) + ")$"

Staff = Annotated[Principal, Depends(allow(Role.moderator, Role.analyst))]
Moderator = Annotated[Principal, Depends(allow(Role.moderator))]
Registrar = Annotated[Principal, Depends(allow(Role.moderator, Role.admin))]
PlatformAccount = Annotated[Principal, Depends(allow(Role.platform))]


def platform_out(platform: WatchPlatform) -> PlatformOut:
    return PlatformOut(name=platform.name, display_name=platform.display_name,
                       has_account=platform.account is not None, notice_at=platform.notice_at,
                       has_webhook=platform.webhook_url is not None)


def order_out(db: DbSession, order: WatchOrder) -> OrderOut:
    """Build the API view of an order, with its overdue flag at this instant."""
    item = db.get(WatchItem, order.item_id)
    return OrderOut(
        id=order.id, instrument=order.instrument,
        platform=orders.platform_name(db, order.platform_id), item_id=order.item_id,
        url=item.url if item else "", content_category=order.content_category,
        trusted_flagger=order.trusted_flagger, legal_basis=order.legal_basis,
        reason=order.reason, emergency=order.emergency, issued_by=order.issued_by,
        proposed_at=order.proposed_at, approved_by=order.approved_by,
        issued_at=order.issued_at, received_at=order.received_at,
        deadline_at=order.deadline_at, status=order.status,
        overdue=orders.is_overdue(order, utcnow()), removed_at=order.removed_at,
        contested_at=order.contested_at, contest_reason=order.contest_reason)


@router.get("/platforms", response_model=list[str],
            dependencies=[Depends(public()), Depends(RateLimit("watch.platforms", 60))])
def list_platforms(db: DbSession) -> list[str]:
    """Name the platforms a report may be about."""
    return platform_names(db)


@router.post("/platforms", status_code=201, response_model=PlatformOut)
def add_platform(body: PlatformIn, who: Registrar, db: DbSession,
                 runtime: AppRuntime) -> PlatformOut:
    """Register a platform, optionally with its account (needed to receive orders)."""
    platform = orders.add_platform(db, name=body.name, display_name=body.display_name,
                                   account=body.account, who=who, webhook_url=body.webhook_url,
                                   settings=runtime.state(WatchState).settings)
    db.commit()
    return platform_out(platform).model_copy(update={"webhook_secret": platform.webhook_secret})


@router.post("/platforms/{name}/notice", response_model=PlatformOut)
def send_notice(name: str, who: Moderator, db: DbSession) -> PlatformOut:
    """Record the TCO Art. 3(2) information sent 12 hours before a first order."""
    platform = orders.send_notice(db, name=name, who=who)
    db.commit()
    return platform_out(platform)


@router.post("/orders", status_code=201, response_model=OrderOut)
def issue_order(body: OrderIn, who: Moderator, db: DbSession, runtime: AppRuntime) -> OrderOut:
    """Issue a removal order or a notice for an item to the platform hosting it.

    It answers ``proposed`` when a second moderator must approve it first.
    """
    order = orders.issue(db, item_id=body.item_id, legal_basis=body.legal_basis,
                         reason=body.reason, emergency=body.emergency, who=who,
                         instrument=body.instrument, content_category=body.content_category,
                         settings=runtime.state(WatchState).settings)
    db.commit()
    return order_out(db, order)


@router.post("/orders/{order_id}/approve", response_model=OrderOut)
def approve_order(order_id: int, who: Moderator, db: DbSession) -> OrderOut:
    """Approve a proposed order or notice (another moderator than its author): it leaves."""
    order = orders.approve(db, order_id=order_id, who=who)
    db.commit()
    return order_out(db, order)


@router.post("/orders/{order_id}/withdraw", response_model=OrderOut)
def withdraw_order(order_id: int, body: WithdrawIn, who: Moderator, db: DbSession) -> OrderOut:
    """Withdraw a proposed order or notice, with the reason (nothing reaches the platform)."""
    order = orders.withdraw(db, order_id=order_id, who=who, reason=body.reason)
    db.commit()
    return order_out(db, order)


@router.get("/orders", response_model=list[OrderOut])
def list_orders(
    who: Staff, db: DbSession,
    status: Annotated[str | None, Query(pattern=STATUS_PATTERN)] = None,
    instrument: Instrument | None = None,
) -> list[OrderOut]:
    """List orders and notices, newest first, each with its deadline and overdue flag."""
    return [order_out(db, o) for o in orders.list_orders(
        db, status=status, instrument=instrument.value if instrument else None)]


@router.get("/platform/orders", response_model=list[OrderOut])
def platform_orders(who: PlatformAccount, db: DbSession) -> list[OrderOut]:
    """Fetch this platform's orders; the first fetch of each is its receipt (Art. 3(3))."""
    found = orders.receive(db, who=who)
    db.commit()
    return [order_out(db, o) for o in found]


@router.post("/platform/orders/{order_id}/confirm", response_model=OrderOut)
def confirm_order(order_id: int, who: PlatformAccount, db: DbSession) -> OrderOut:
    """Confirm that the content of an order is removed or disabled."""
    order = orders.confirm(db, order_id=order_id, who=who)
    db.commit()
    return order_out(db, order)


@router.post("/platform/orders/{order_id}/contest", response_model=OrderOut)
def contest_order(order_id: int, body: ContestIn, who: PlatformAccount,
                  db: DbSession) -> OrderOut:
    """Contest an order (TCO Art. 9) with a reason."""
    order = orders.contest(db, order_id=order_id, who=who, reason=body.reason)
    db.commit()
    return order_out(db, order)


@router.get("/stats")
def stats(who: Staff, db: DbSession) -> dict[str, object]:
    """Return the counts of the transparency report (orders, removals in the hour, items)."""
    return orders.transparency(db)
