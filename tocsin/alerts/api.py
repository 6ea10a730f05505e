"""HTTP routes of official alerts: thin translations to ``service`` (each route commits once).

Authorities compose, approve, update, cancel and import; anyone reads published messages, their
CAP documents, the Atom feed and the live stream; browsers subscribe to Web Push, platforms
register webhooks. Pending messages are never shown on public routes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from tocsin.alerts import events, service, subscriptions, validate, views
from tocsin.alerts.lifecycle import state
from tocsin.alerts.models import Alert
from tocsin.alerts.schemas import (
    AlertIn,
    AlertList,
    AlertOut,
    CancelIn,
    DeadLetter,
    DeadLetterList,
    DeliveryCounts,
    ProblemOut,
    PushSubscriptionIn,
    RejectIn,
    SubscriptionOut,
    ValidationOut,
    VapidKey,
    WebhookIn,
)
from tocsin.core.auth import Principal, Role, allow, public
from tocsin.core.db import utcnow
from tocsin.core.errors import DomainError, Forbidden, NotFound
from tocsin.core.live import live_events, live_slot
from tocsin.core.offload import Lane
from tocsin.core.ratelimit import RateLimit
from tocsin.core.runtime import AppRuntime, DbSession

api = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
feed = APIRouter(tags=["alerts"])

Authority = Annotated[Principal, Depends(allow(Role.authority))]
AlertId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
CAP_TYPES = ("application/xml", "text/xml", "application/cap+xml", "application/octet-stream")
PUBLIC_LIMIT = Depends(RateLimit("alerts", "public_rate_per_minute"))
# Reading and validating CAP XML runs in the worker's process pool, never on the event loop
# (which also answers the silent SOS). Two lanes: anonymous validations queued behind each other
# can never hold up an authority's import.
VALIDATE_LANE = Lane("alerts.validate", concurrency=1, waiting=4, timeout_s=10, retry_after_s=5)
IMPORT_LANE = Lane("alerts.import", concurrency=1, waiting=4, timeout_s=10, retry_after_s=2)


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


async def _cap_body(request: Request, max_bytes: int = validate.MAX_BYTES) -> bytes:
    """Read a CAP body, refusing it (413, naming the limit) as soon as it passes ``max_bytes``."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in CAP_TYPES:
        raise UnsupportedMediaType(
            f"send the CAP message as XML (Content-Type one of {', '.join(CAP_TYPES[:3])})")
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > max_bytes:
        raise validate.too_large(max_bytes)
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > max_bytes:
            raise validate.too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _published(db: DbSession, alert_id: str) -> Alert:
    row = service.get(db, alert_id=alert_id)
    if row.cap_xml is None:
        raise NotFound(f"no published alert {alert_id!r}")
    return row


@api.post("", status_code=201, response_model=AlertOut)
def compose(data: AlertIn, db: DbSession, runtime: AppRuntime, who: Authority) -> AlertOut:
    """Compose an alert; whatever its status it waits for a second authority."""
    current = state(runtime)
    row = service.compose(db, who=who, data=data, sender=current.sender,
                          sender_name=current.config.sender_name)
    db.commit()
    return views.to_out(row)


@api.get("", response_model=AlertList, dependencies=[Depends(public())])
def active(db: DbSession) -> AlertList:
    """List the active public alerts (Actual and Exercise), newest first."""
    return AlertList(alerts=[views.to_out(r) for r in service.active(db)])


@api.get("/queue", response_model=AlertList)
def queue(db: DbSession, who: Authority) -> AlertList:
    """List the messages waiting for a second authority (authority)."""
    return AlertList(alerts=[views.to_out(r) for r in service.pending(db)])


@api.get("/live", response_model=AlertList)
def live(db: DbSession, who: Authority) -> AlertList:
    """List every live message, Test included, for the authority's update/cancel list."""
    return AlertList(alerts=[views.to_out(r) for r in service.active(db, public_only=False)])


@api.get("/stream", response_class=EventSourceResponse,
         dependencies=[Depends(public()), Depends(live_slot)],
         responses={429: {"description": "Too many live connections from this address"},
                    503: {"description": "Too many live connections on this worker"}})
async def stream(runtime: AppRuntime) -> AsyncIterator[ServerSentEvent]:
    """Live notices of published messages (SSE), within the bounds of ``live_slot``."""
    async for item in live_events(runtime, [events.PUBLISHED]):
        yield item


@api.post("/import", status_code=201, response_model=AlertOut)
async def import_cap(request: Request, db: DbSession, runtime: AppRuntime,
                     who: Authority) -> AlertOut:
    """Import a CAP 1.2 (or 1.1) message; the two-person rule applies as for composed ones."""
    data = await _cap_body(request)
    report = await runtime.offload.run(IMPORT_LANE, validate.examine, data)

    def work() -> AlertOut:
        row = service.import_cap(db, who=who, report=report)
        db.commit()
        return views.to_out(row)

    return await run_in_threadpool(work)


@api.post("/validate", response_model=ValidationOut, dependencies=[Depends(public()), PUBLIC_LIMIT])
async def validate_cap(request: Request, runtime: AppRuntime) -> ValidationOut:
    """Validate a CAP message (schema and CAP rules) without storing anything."""
    data = await _cap_body(request)
    report = await runtime.offload.run(VALIDATE_LANE, validate.examine, data)
    return ValidationOut(
        valid=report.ok, version=report.version,
        problems=[ProblemOut(location=p.location, message=p.message) for p in report.problems],
    )


@api.get("/push/key", response_model=VapidKey, dependencies=[Depends(public())])
def push_key(runtime: AppRuntime) -> VapidKey:
    """Return the VAPID public key browsers subscribe with (applicationServerKey)."""
    return VapidKey(public_key=state(runtime).vapid.public_key)


@api.post("/subscriptions", status_code=201, response_model=SubscriptionOut,
          dependencies=[Depends(public()), PUBLIC_LIMIT])
def subscribe(data: PushSubscriptionIn, db: DbSession, runtime: AppRuntime) -> SubscriptionOut:
    """Subscribe a browser to the alerts of its (coarse) location; no account needed."""
    sub, token = subscriptions.subscribe_push(db, data=data, config=state(runtime).config)
    db.commit()
    return SubscriptionOut(id=sub.id, kind=sub.kind, token=token, expires_at=sub.expires_at)


@api.delete("/subscriptions/{subscription_id}", status_code=204,
            dependencies=[Depends(public()), PUBLIC_LIMIT])
def unsubscribe(
    subscription_id: AlertId, db: DbSession,
    token: Annotated[str, Header(alias="X-Subscription-Token", max_length=100)],
) -> Response:
    """Delete a subscription with the token given when it was made."""
    subscriptions.unsubscribe(db, subscription_id=subscription_id, token=token)
    db.commit()
    return Response(status_code=204)


@api.post("/webhooks", status_code=201, response_model=SubscriptionOut)
def register_webhook(
    data: WebhookIn, db: DbSession, runtime: AppRuntime,
    who: Annotated[Principal, Depends(allow(Role.platform, Role.admin))],
) -> SubscriptionOut:
    """Register a platform webhook (allowed hosts only); the signing secret is shown once."""
    sub, token, secret = subscriptions.register_webhook(
        db, who=who, data=data, config=state(runtime).config)
    db.commit()
    return SubscriptionOut(id=sub.id, kind=sub.kind, token=token, secret=secret,
                           expires_at=sub.expires_at)


@api.get("/dead-letters", response_model=DeadLetterList)
def dead_letters(
    db: DbSession, who: Annotated[Principal, Depends(allow(Role.authority, Role.admin))],
) -> DeadLetterList:
    """List deliveries that failed after their last retry."""
    return DeadLetterList(dead=[
        DeadLetter(delivery_id=d.id, alert_id=d.alert_id, subscription_id=d.subscription_id,
                   kind=d.kind, attempts=d.attempts, last_error=d.last_error)
        for d in subscriptions.dead_letters(db)
    ])


@api.post("/dead-letters/{delivery_id}/retry", response_model=DeadLetter)
def retry_dead_letter(
    delivery_id: int, db: DbSession, runtime: AppRuntime,
    who: Annotated[Principal, Depends(allow(Role.authority, Role.admin))],
) -> DeadLetter:
    """Queue a dead delivery again."""
    d = subscriptions.retry_dead(db, who=who, delivery_id=delivery_id)
    db.commit()
    state(runtime).deliverer.wake()
    return DeadLetter(delivery_id=d.id, alert_id=d.alert_id, subscription_id=d.subscription_id,
                      kind=d.kind, attempts=d.attempts, last_error=d.last_error)


@api.get("/{alert_id}.cap", dependencies=[Depends(public())],
         responses={200: {"content": {"application/cap+xml": {}}}})
def cap_document(alert_id: AlertId, db: DbSession) -> Response:
    """Serve the CAP 1.2 document of a published message, exactly as it was sent."""
    row = _published(db, alert_id)
    assert row.cap_xml is not None
    return Response(row.cap_xml.encode("utf-8"), media_type="application/cap+xml",
                    headers={"Cache-Control": "public, max-age=60"})


@api.get("/{alert_id}", response_model=AlertOut, dependencies=[Depends(public())])
def get_alert(alert_id: AlertId, db: DbSession) -> AlertOut:
    """Return a published message (pending ones are for authorities only)."""
    return views.to_out(_published(db, alert_id))


@api.get("/{alert_id}/deliveries", response_model=DeliveryCounts)
def deliveries(alert_id: AlertId, db: DbSession, who: Authority) -> DeliveryCounts:
    """Count the deliveries of a message: pending, sent, failed."""
    service.get(db, alert_id=alert_id)
    return views.delivery_counts(db, alert_id)


@api.post("/{alert_id}/approve", response_model=AlertOut)
def approve(alert_id: AlertId, db: DbSession, who: Authority) -> AlertOut:
    """Approve and publish a message composed by another authority (two-person rule)."""
    try:
        row = service.approve(db, who=who, alert_id=alert_id)
    except Forbidden:
        db.commit()  # nothing changed but the audit entry of the refused self-approval
        raise
    db.commit()
    return views.to_out(row)


@api.post("/{alert_id}/reject", response_model=AlertOut)
def reject(alert_id: AlertId, data: RejectIn, db: DbSession, who: Authority) -> AlertOut:
    """Turn down a waiting message."""
    row = service.reject(db, who=who, alert_id=alert_id, reason=data.reason)
    db.commit()
    return views.to_out(row)


@api.post("/{alert_id}/update", status_code=201, response_model=AlertOut)
def update(alert_id: AlertId, data: AlertIn, db: DbSession, runtime: AppRuntime,
           who: Authority) -> AlertOut:
    """Compose an Update that supersedes a live alert (its references name the chain)."""
    current = state(runtime)
    row = service.update(db, who=who, alert_id=alert_id, data=data, sender=current.sender,
                         sender_name=current.config.sender_name)
    db.commit()
    return views.to_out(row)


@api.post("/{alert_id}/cancel", status_code=201, response_model=AlertOut)
def cancel(alert_id: AlertId, data: CancelIn, db: DbSession, who: Authority) -> AlertOut:
    """Compose a Cancel of a live alert."""
    row = service.cancel(db, who=who, alert_id=alert_id, data=data)
    db.commit()
    return views.to_out(row)


@feed.get("/alerts.atom", dependencies=[Depends(public())],
          responses={200: {"content": {"application/atom+xml": {}}}})
def atom(db: DbSession, runtime: AppRuntime) -> Response:
    """Atom feed of the active alerts, each entry linking its CAP document."""
    now = utcnow()
    body = views.atom_feed(service.active(db, now=now), base_url=runtime.settings.base_url,
                           now=now)
    return Response(body, media_type="application/atom+xml",
                    headers={"Cache-Control": "public, max-age=30"})


router = APIRouter()
router.include_router(api)
router.include_router(feed)
