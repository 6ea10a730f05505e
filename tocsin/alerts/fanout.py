"""Fan-out of published alerts: plan the deliveries, then send them with retries, off the hot path.

Publication only commits the message and queues ``alerts.published``. A durable bus consumer
(see ``lifecycle``) turns that event into ``alert_delivery`` rows page by page (``planning``:
every platform webhook, then the Web Push subscribers inside the area), committing each page so
the senders start on the first one. A :class:`Deliverer` per worker claims due rows with a lease
(``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL: the workers split one alert's deliveries
between them; a killed worker's lease runs out and the others take its rows back), never more
than its window, so what it claimed starts at once. Pushes are encrypted in batches on a pool
(``tocsin.core.push``), signed with one VAPID JWT per push service, sent over one HTTP/2
connection per push service; webhooks are signed and sent over keep-alive connections, each host
under its own bound so a slow platform holds only its own slots. Outcomes are written in batches.

Guarantee: at least once, never twice planned. A delivery is marked sent *after* the service
answered 2xx, so a worker killed between the answer and the write gets that send redone by
another worker: the duplicate carries the same idempotency key (the ``Topic`` header, the alert
id, with which a push service replaces an undelivered copy; ``X-Tocsin-Delivery`` for
webhooks). 404/410 from a push service ends the subscription. 429 and 5xx are retried with
exponential backoff, at least the service's ``Retry-After``, which also pauses every send to that
push service in this worker; after the last attempt a delivery is *dead* (the dead-letter list).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tocsin.alerts import cap, planning, senders
from tocsin.alerts.config import AlertSettings, url_problem
from tocsin.alerts.models import Alert, AlertDelivery, AlertSubscription
from tocsin.core import push
from tocsin.core.db import utcnow
from tocsin.core.webpush import VapidKey

log = logging.getLogger("tocsin.alerts.fanout")

BATCH = 500
FIRST_BATCH = 64  # claimed when idle: the first sends need not wait for 500 encryptions
PUSH_FIELDS = ("alert_id", "msg_type", "status", "headline", "event", "url")
plan = planning.plan  # kept here: callers plan and send through this module


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
    alert_id: str
    subscription_id: str
    kind: str
    endpoint: str
    keys: dict[str, Any]
    payload: dict[str, Any]
    cap_xml: str
    push_body: bytes
    hook_body: bytes  # the JSON every platform gets: built once per alert and claim


@dataclass
class Stats:
    """What one worker sent and where its CPU went (read by the bench and the logs)."""

    sent: int = 0
    failed: int = 0
    first_sent: float | None = None  # time.time() of the first 2xx
    last_sent: float | None = None
    db_cpu: float = 0.0  # claim and record, in their threads


class Deliverer:
    """One worker's sender loop; see the module docstring."""

    def __init__(self, factory: sessionmaker[Session], config: AlertSettings, *,
                 base_url: str, vapid: VapidKey,
                 encryptor: push.Encryptor | None = None) -> None:
        self.factory = factory
        self.config = config
        self.base_url = base_url
        self.vapid = vapid
        self.worker = uuid.uuid4().hex
        self.signer = push.VapidSigner(vapid.vapid.private_key, config.vapid_subject)
        self.encryptor = encryptor or push.Encryptor(config.encrypt_pool)
        self.push_pools = push.Pools(timeout=config.timeout_seconds,
                                     per_origin=config.concurrency)
        self.hook_pools = push.Pools(timeout=config.timeout_seconds, per_origin=config.per_host)
        self.stats = Stats()
        self.window = config.concurrency * 2
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._outcomes: list[tuple[_Job, push.Outcome]] = []
        self._outcome_ready = asyncio.Event()
        self._recorder: asyncio.Task[None] | None = None
        self._alerts_seen: set[str] = set()
        # The verdict on a URL depends only on its scheme and host part: checked once each.
        self._verdicts: dict[tuple[str, str], str | None] = {}

    def start(self) -> None:
        """Start the loop in the running event loop."""
        self._task = asyncio.create_task(self._run(), name="alerts-deliverer")
        self._recorder = asyncio.create_task(self._record_loop(), name="alerts-recorder")

    def wake(self) -> None:
        """Look for due deliveries now."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop claiming; wait briefly for sends in flight (their lease covers a crash)."""
        self._stopping = True
        self._wake.set()
        self._room.set()
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
        await self.push_pools.aclose()
        await self.hook_pools.aclose()
        self.encryptor.close()

    async def _run(self) -> None:
        while not self._stopping:
            room = self.window - len(self._inflight)
            if room < min(BATCH, self.window) // 4:
                # Claim only what can start now: a claimed row waiting here would sit on a
                # lease that the other workers cannot take.
                self._room.clear()
                await self._room.wait()
                continue
            try:
                size = BATCH if self._inflight else FIRST_BATCH
                jobs = await run_in_threadpool(self._claim, min(room, size))
            except Exception as exc:  # database briefly away: try again shortly
                log.warning("alert deliveries paused: %s", exc)
                jobs = []
            if jobs:
                await self._launch(jobs)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.config.poll_seconds)

    async def _launch(self, jobs: list[_Job]) -> None:
        pushes = [job for job in jobs if job.kind == "push"]
        bodies = await self.encryptor.encrypt(
            [(str(job.keys.get("p256dh", "")), str(job.keys.get("auth", "")), job.push_body)
             for job in pushes])
        encrypted: dict[int, bytes | str] = {
            job.delivery_id: body for job, body in zip(pushes, bodies, strict=True)}
        for job in jobs:
            task = asyncio.create_task(self._send(job, encrypted.get(job.delivery_id, b"")))
            self._inflight.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._room.set()

    def _claim(self, limit: int) -> list[_Job]:
        started = time.thread_time()
        try:
            return self._claim_rows(limit)
        finally:
            self.stats.db_cpu += time.thread_time() - started

    def _claim_rows(self, limit: int) -> list[_Job]:
        now = utcnow()
        with self.factory() as session:
            due = (
                select(AlertDelivery.id)
                .where(AlertDelivery.status == "pending", AlertDelivery.next_attempt_at <= now,
                       or_(AlertDelivery.claimed_until.is_(None),
                           AlertDelivery.claimed_until < now))
                .order_by(AlertDelivery.next_attempt_at).limit(limit)
            )
            if session.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            ids = list(session.scalars(due))
            if not ids:
                session.rollback()
                return []
            lease = dt.timedelta(seconds=self.config.lease_seconds)
            session.execute(update(AlertDelivery).where(AlertDelivery.id.in_(ids))
                            .values(claimed_until=now + lease))
            session.commit()
            rows = session.execute(
                select(AlertDelivery.id, AlertDelivery.attempts, AlertDelivery.alert_id,
                       AlertDelivery.subscription_id, AlertSubscription.kind,
                       AlertSubscription.endpoint, AlertSubscription.keys)
                .join(AlertSubscription, AlertSubscription.id == AlertDelivery.subscription_id)
                .where(AlertDelivery.id.in_(ids))
            ).all()
            messages: dict[str, tuple[dict[str, Any], str, bytes, bytes]] = {}
            for alert_id in {r.alert_id for r in rows}:
                alert = session.get(Alert, alert_id)
                assert alert is not None
                payload = _payload(alert, self.base_url)
                body = push.jsonable({k: payload[k] for k in PUSH_FIELDS})
                hook = (push.jsonable({**payload, "cap": alert.cap_xml or ""})
                        if any(r.kind == "webhook" for r in rows) else b"")
                messages[alert_id] = (payload, alert.cap_xml or "", body, hook)
            return [
                _Job(r.id, r.attempts, r.alert_id, r.subscription_id, r.kind, r.endpoint,
                     dict(r.keys or {}), *messages[r.alert_id])
                for r in rows
            ]

    async def _send(self, job: _Job, encrypted: bytes | str) -> None:
        try:
            outcome = await self._deliver(job, encrypted)
        except Exception as exc:  # a bug in one send must not stop the others
            log.exception("delivery %s crashed", job.delivery_id)
            outcome = push.Outcome(ok=False, error=type(exc).__name__)
        if outcome.ok:
            self.stats.sent += 1
            self.stats.last_sent = time.time()
            if self.stats.first_sent is None:
                self.stats.first_sent = self.stats.last_sent
            if job.alert_id not in self._alerts_seen:
                self._alerts_seen.add(job.alert_id)
                log.info("alert %s: worker %s sent its first delivery", job.alert_id,
                         self.worker[:8])
        else:
            self.stats.failed += 1
        # Outcomes are written in batches: one commit per delivery would cap the rate at the
        # disk's fsync rate (SQLite synchronous=FULL), far below what the network allows.
        self._outcomes.append((job, outcome))
        self._outcome_ready.set()

    async def _deliver(self, job: _Job, encrypted: bytes | str) -> push.Outcome:
        allowed = self.config.webhook_hosts if job.kind == "webhook" else self.config.push_hosts
        key = (job.kind, "/".join(job.endpoint.split("/", 3)[:3]))
        if key not in self._verdicts:
            self._verdicts[key] = url_problem(job.endpoint, allowed)
        problem = self._verdicts[key]
        if problem is not None:
            return push.Outcome(ok=False, error=f"refused: {problem}", permanent=True)
        if job.kind == "webhook":
            body = job.hook_body
            headers = {
                "Content-Type": "application/json",
                senders.SIGNATURE_HEADER: senders.sign(str(job.keys.get("secret", "")), body),
                "X-Tocsin-Event": "alerts.published",
                "X-Tocsin-Delivery": str(job.delivery_id),
            }
            return await self.hook_pools.post(job.endpoint, body, headers)
        if isinstance(encrypted, str):  # the subscription's keys could not be used
            return push.Outcome(ok=False, error=encrypted, permanent=True)
        headers = push.push_headers(self.signer, job.endpoint, topic=job.alert_id)
        return await self.push_pools.post(job.endpoint, encrypted, headers,
                                          client_errors_final=True)

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

    async def _record_batch(self, batch: list[tuple[_Job, push.Outcome]]) -> None:
        try:
            delays = await run_in_threadpool(self._record, batch)
        except Exception:
            log.exception("could not record %d deliveries (their lease will expire)", len(batch))
            return
        loop = asyncio.get_running_loop()
        for delay in delays:
            loop.call_later(delay, self._wake.set)

    def _record(self, batch: list[tuple[_Job, push.Outcome]]) -> list[float]:
        """Store a batch of outcomes in one transaction; return the delays of due retries."""
        started = time.thread_time()
        now = utcnow()
        delays: list[float] = []
        sent = [job.delivery_id for job, outcome in batch if outcome.ok]
        gone = [job.subscription_id for job, outcome in batch
                if outcome.gone and job.kind == "push"]
        with self.factory() as session:
            if sent:
                session.execute(update(AlertDelivery).where(AlertDelivery.id.in_(sent)).values(
                    status="sent", sent_at=now, last_error=None, claimed_until=None,
                    attempts=AlertDelivery.attempts + 1))
            for job, outcome in batch:
                if outcome.ok:
                    continue
                attempts = job.attempts + 1
                values: dict[str, Any] = {"attempts": attempts, "claimed_until": None,
                                          "last_error": outcome.error[:300]}
                if outcome.permanent or attempts >= self.config.max_attempts:
                    # Dead at this attempt: the observatory counts the failure at this time
                    # (a row due long ago, behind a backlog, would land in a minute it has
                    # already counted).
                    values.update(status="dead", next_attempt_at=now)
                else:
                    delay = min(self.config.retry_base_seconds * 2 ** (attempts - 1), 3600.0)
                    delay = max(delay, outcome.retry_after or 0.0)
                    values.update(next_attempt_at=now + dt.timedelta(seconds=delay))
                    delays.append(delay)
                session.execute(update(AlertDelivery)
                                .where(AlertDelivery.id == job.delivery_id).values(**values))
            if gone:
                # RFC 8030 §7.3: the push service says this subscription is no more. Expiring
                # it now takes it out of every later alert; the retention purge deletes it.
                session.execute(update(AlertSubscription)
                                .where(AlertSubscription.id.in_(gone))
                                .values(expires_at=now))
            session.commit()
        self.stats.db_cpu += time.thread_time() - started
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
