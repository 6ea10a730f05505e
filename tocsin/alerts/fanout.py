"""Fan-out of published alerts: plan the deliveries, then send them with retries, off the hot path.

Publication only commits the message and queues ``alerts.published``. A durable bus consumer
(see ``lifecycle``) turns that event into ``alert_delivery`` rows — every platform webhook, and
the Web Push subscribers inside the area (``targeting``) — idempotently, so a redelivered event
adds nothing. A :class:`Deliverer` per worker claims due rows with a lease (several workers share
the work; a dead worker's lease runs out), sends each in its own task under a concurrency bound
with a timeout, so a slow or failing endpoint never holds up the others. Failures are retried
with exponential backoff; after the last attempt a delivery is *dead* (the dead-letter list).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tocsin.alerts import cap, geo, senders, targeting
from tocsin.alerts.config import AlertSettings, url_problem
from tocsin.alerts.models import Alert, AlertDelivery, AlertSubscription
from tocsin.core.db import utcnow

log = logging.getLogger("tocsin.alerts.fanout")

LEASE = dt.timedelta(seconds=90)
BATCH = 200


def plan(session: Session, alert_id: str, *, now: dt.datetime | None = None) -> int:
    """Create the pending deliveries of a published message; return how many were added."""
    now = now or utcnow()
    row = session.get(Alert, alert_id)
    if row is None or row.state == "pending" or row.cap_xml is None:
        return 0
    done = set(session.scalars(
        select(AlertDelivery.subscription_id).where(AlertDelivery.alert_id == alert_id)))
    live = AlertSubscription.expires_at > now
    targets: list[tuple[str, str]] = [
        (sub_id, kind) for sub_id, kind in session.execute(
            select(AlertSubscription.id, AlertSubscription.kind)
            .where(live, AlertSubscription.all_areas.is_(True)))
    ]
    # Citizens get Actual and Exercise messages only (CAP 1.2 §3.2.1: Test is to be ignored).
    if row.status in ("Actual", "Exercise") and row.min_lat is not None:
        targets += [(s, "push") for s in _push_targets(session, row, now)]
    added = 0
    for sub_id, kind in targets:
        if sub_id in done:
            continue
        done.add(sub_id)
        session.add(AlertDelivery(
            alert_id=alert_id, subscription_id=sub_id, kind=kind, status="pending",
            attempts=0, next_attempt_at=now, created_at=now))
        added += 1
    session.flush()
    return added


ZONE_MARGIN_DEG = 0.75  # > 50 km (the largest followed zone) in latitude and, at 48°, longitude


def _push_targets(session: Session, row: Alert, now: dt.datetime) -> list[str]:
    """Return the push subscriptions whose point lies in, or whose zone meets, the area."""
    assert row.min_lat is not None and row.max_lat is not None
    assert row.min_lon is not None and row.max_lon is not None
    message = cap.from_json(row.content)
    shapes = [shape for info in message.infos for area in info.areas
              if (shape := geo.area_shape(area.polygons, area.circles)) is not None]
    live = (AlertSubscription.kind == "push", AlertSubscription.expires_at > now)
    points = session.execute(
        select(AlertSubscription.id, AlertSubscription.lat, AlertSubscription.lon,
               AlertSubscription.h3_cell)
        .where(*live, AlertSubscription.radius_km == 0,
               AlertSubscription.lat.between(row.min_lat, row.max_lat),
               AlertSubscription.lon.between(row.min_lon, row.max_lon))
    ).all()
    hits: set[str] = set()
    if points:
        import h3

        index = targeting.SubscriberIndex(
            [c.lat for c in points], [c.lon for c in points],
            [h3.str_to_int(c.h3_cell) for c in points])
        for shape in shapes:
            hits.update(points[int(i)].id for i in index.within(shape))
    zones = session.execute(
        select(AlertSubscription.id, AlertSubscription.lat, AlertSubscription.lon,
               AlertSubscription.radius_km)
        .where(*live, AlertSubscription.radius_km > 0,
               AlertSubscription.lat.between(row.min_lat - ZONE_MARGIN_DEG,
                                             row.max_lat + ZONE_MARGIN_DEG),
               AlertSubscription.lon.between(row.min_lon - ZONE_MARGIN_DEG,
                                             row.max_lon + ZONE_MARGIN_DEG))
    ).all()
    for zone in zones:  # few, and each needs a shape-to-shape test
        circle = geo.circle_shape(geo.Circle(zone.lat, zone.lon, zone.radius_km))
        if any(shape.intersects(circle) for shape in shapes):
            hits.add(zone.id)
    return sorted(hits)


def _payload(row: Alert, base_url: str) -> dict[str, Any]:
    message = cap.from_json(row.content)
    info = message.infos[0] if message.infos else None
    base = base_url.rstrip("/")
    return {
        "alert_id": row.id, "identifier": row.identifier, "sender": row.sender,
        "sent": cap.format_time(message.sent), "status": row.status, "msg_type": row.msg_type,
        "references": message.references, "headline": info.headline if info else message.note,
        "event": info.event if info else None, "url": f"{base}/alerts#alert-{row.id}",
        "cap_url": f"{base}/api/v1/alerts/{row.id}.cap",
    }


@dataclass
class _Job:
    delivery_id: int
    attempts: int
    kind: str
    endpoint: str
    keys: dict[str, Any]
    payload: dict[str, Any]
    cap_xml: str


class Deliverer:
    """One worker's sender loop; see the module docstring."""

    def __init__(self, factory: sessionmaker[Session], config: AlertSettings, *,
                 base_url: str, vapid: senders.VapidKey) -> None:
        self.factory = factory
        self.config = config
        self.base_url = base_url
        self.vapid = vapid
        self.worker = uuid.uuid4().hex
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._limit = asyncio.Semaphore(config.concurrency)
        self._client: httpx.AsyncClient | None = None
        self._stopping = False
        self._outcomes: list[tuple[_Job, senders.DeliveryError | None]] = []
        self._outcome_ready = asyncio.Event()
        self._recorder: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the loop in the running event loop."""
        # Keep as many connections alive as sends may run at once: a platform gets its
        # deliveries over reused connections instead of one TCP handshake each.
        limits = httpx.Limits(max_connections=self.config.concurrency,
                              max_keepalive_connections=self.config.concurrency)
        self._client = httpx.AsyncClient(
            timeout=self.config.timeout_seconds, follow_redirects=False, trust_env=False,
            limits=limits)
        self._task = asyncio.create_task(self._run(), name="alerts-deliverer")
        self._recorder = asyncio.create_task(self._record_loop(), name="alerts-recorder")

    def wake(self) -> None:
        """Look for due deliveries now."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop claiming; wait briefly for sends in flight (their lease covers a crash)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, timeout=5)
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=self.config.timeout_seconds + 1)
        for task in self._inflight:
            task.cancel()
        if self._recorder is not None:
            self._outcome_ready.set()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._recorder, timeout=5)
        if self._client is not None:
            await self._client.aclose()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                jobs = await run_in_threadpool(self._claim)
            except Exception as exc:  # database briefly away: try again shortly
                log.warning("alert deliveries paused: %s", exc)
                jobs = []
            for job in jobs:
                await self._limit.acquire()
                task = asyncio.create_task(self._send(job))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
            if jobs:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    def _claim(self) -> list[_Job]:
        now = utcnow()
        with self.factory() as session:
            due = (
                select(AlertDelivery.id)
                .where(AlertDelivery.status == "pending", AlertDelivery.next_attempt_at <= now,
                       or_(AlertDelivery.claimed_until.is_(None),
                           AlertDelivery.claimed_until < now))
                .order_by(AlertDelivery.next_attempt_at).limit(BATCH)
            )
            if session.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            ids = list(session.scalars(due))
            if not ids:
                session.rollback()
                return []
            session.execute(update(AlertDelivery).where(AlertDelivery.id.in_(ids))
                            .values(claimed_until=now + LEASE))
            session.commit()
            rows = session.execute(
                select(AlertDelivery, AlertSubscription, Alert)
                .join(AlertSubscription, AlertSubscription.id == AlertDelivery.subscription_id)
                .join(Alert, Alert.id == AlertDelivery.alert_id)
                .where(AlertDelivery.id.in_(ids))
            ).all()
            return [
                _Job(d.id, d.attempts, s.kind, s.endpoint, dict(s.keys or {}),
                     _payload(a, self.base_url), a.cap_xml or "")
                for d, s, a in rows
            ]

    async def _send(self, job: _Job) -> None:
        error: senders.DeliveryError | None = None
        try:
            await self._deliver(job)
        except senders.DeliveryError as exc:
            error = exc
        except Exception as exc:  # a bug in one send must not stop the others
            log.exception("delivery %s crashed", job.delivery_id)
            error = senders.DeliveryError(type(exc).__name__)
        finally:
            self._limit.release()
        # Outcomes are written in batches: one commit per delivery would cap the rate at the
        # disk's fsync rate (SQLite synchronous=FULL), far below what the network allows.
        self._outcomes.append((job, error))
        self._outcome_ready.set()

    async def _record_loop(self) -> None:
        while True:
            await self._outcome_ready.wait()
            await asyncio.sleep(0.02)  # let a few more outcomes join the batch
            self._outcome_ready.clear()
            batch, self._outcomes = self._outcomes, []
            if batch:
                await self._record_batch(batch)
            if self._stopping and not self._outcomes:
                return

    async def _record_batch(self, batch: list[tuple[_Job, senders.DeliveryError | None]]) -> None:
        try:
            delays = await run_in_threadpool(self._record, batch)
        except Exception:
            log.exception("could not record %d deliveries (their lease will expire)", len(batch))
            return
        loop = asyncio.get_running_loop()
        for delay in delays:
            loop.call_later(delay, self._wake.set)

    async def _deliver(self, job: _Job) -> None:
        allowed = self.config.webhook_hosts if job.kind == "webhook" else self.config.push_hosts
        problem = url_problem(job.endpoint, allowed)
        if problem is not None:
            raise senders.DeliveryError(f"refused: {problem}", permanent=True)
        if job.kind == "webhook":
            assert self._client is not None
            await senders.send_webhook(
                self._client, url=job.endpoint, secret=str(job.keys.get("secret", "")),
                payload={**job.payload, "cap": job.cap_xml}, delivery_id=job.delivery_id)
        else:
            push = {k: job.payload[k] for k in ("alert_id", "msg_type", "status", "headline",
                                                  "event", "url")}
            await run_in_threadpool(
                senders.send_push, key=self.vapid, subject=self.config.vapid_subject,
                endpoint=job.endpoint, keys={k: str(v) for k, v in job.keys.items()},
                payload=push, timeout=self.config.timeout_seconds)

    def _record(self, batch: list[tuple[_Job, senders.DeliveryError | None]]) -> list[float]:
        """Store a batch of outcomes in one transaction; return the delays of due retries."""
        now = utcnow()
        delays: list[float] = []
        with self.factory() as session:
            for job, error in batch:
                attempts = job.attempts + 1
                values: dict[str, Any] = {"attempts": attempts, "claimed_until": None}
                if error is None:
                    values.update(status="sent", sent_at=now, last_error=None)
                elif error.permanent or attempts >= self.config.max_attempts:
                    values.update(status="dead", last_error=str(error)[:300])
                else:
                    delay = min(self.config.retry_base_seconds * 2 ** (attempts - 1), 3600.0)
                    values.update(last_error=str(error)[:300],
                                  next_attempt_at=now + dt.timedelta(seconds=delay))
                    delays.append(delay)
                session.execute(update(AlertDelivery)
                                .where(AlertDelivery.id == job.delivery_id).values(**values))
            session.commit()
        return delays


def purge_dead_subscriptions(session: Session, now: dt.datetime) -> int:
    """Delete expired subscriptions (and with them their deliveries)."""
    gone = list(session.scalars(select(AlertSubscription.id)
                                .where(AlertSubscription.expires_at <= now)))
    if not gone:
        return 0
    session.execute(delete(AlertDelivery).where(AlertDelivery.subscription_id.in_(gone)))
    session.execute(delete(AlertSubscription).where(
        and_(AlertSubscription.id.in_(gone), AlertSubscription.expires_at <= now)))
    return len(gone)
