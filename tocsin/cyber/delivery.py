"""Advisories reach subscribed organisations: an e-mail outbox table and Web Push.

Planning runs after commit, from the ``cyber.advisory_published`` event (``lifecycle``), and is
idempotent (unique rows per subscription and version). Mails wait in ``cyber_mail_outbox`` for the
deployment's mail relay, which sends and marks them (``tocsin`` holds no SMTP password). Pushes are
sent with the core's Web Push sender and VAPID key (:mod:`tocsin.core.webpush`, the same key and
settings as the alerts' fan-out), to the push hosts the operator allows: sending is asynchronous
(``send_pushes``), recording the outcomes a short transaction (``record_pushes``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core import audit
from tocsin.core.auth import Principal
from tocsin.core.db import utcnow
from tocsin.core.errors import Invalid, NotFound
from tocsin.core.outbound import url_problem
from tocsin.core.push import Outcome
from tocsin.core.webpush import PushSender
from tocsin.cyber.models import (
    CyberAdvisory,
    CyberAdvisoryVersion,
    CyberMailOutbox,
    CyberPushDelivery,
    CyberSubscription,
)
from tocsin.cyber.schemas import SubscriptionIn, SubscriptionOut
from tocsin.cyber.statuses import PushStatus

log = logging.getLogger("tocsin.cyber.delivery")
SUBSCRIPTION_DAYS = 365
MAX_PUSH_ATTEMPTS = 3
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def subscribe(session: Session, *, who: Principal, data: SubscriptionIn,
              push_hosts: str, now: dt.datetime | None = None) -> CyberSubscription:
    """Record an organisation's subscription (push endpoint checked against ``push_hosts``,
    the worker's settings read once at start)."""
    now = now or utcnow()
    if data.push is not None:
        problem = url_problem(data.push.endpoint, push_hosts)
        if problem is not None:
            raise Invalid(f"push.endpoint: {problem}",
                          details=[{"location": "body.push.endpoint", "message": problem}])
    row = CyberSubscription(
        id=uuid.uuid4().hex, owner=who.username, sectors=sorted(set(data.sectors)),
        regions=sorted(set(data.regions)), email=data.email,
        push_endpoint=data.push.endpoint if data.push else None,
        push_keys=data.push.keys.model_dump() if data.push else None, created_at=now,
        expires_at=now + dt.timedelta(days=SUBSCRIPTION_DAYS))
    session.add(row)
    session.flush()
    audit.record(session, actor=who, action="cyber.subscribe", object_type="cyber_subscription",
                 object_id=row.id)
    return row


def mine(session: Session, owner: str) -> list[CyberSubscription]:
    return list(session.scalars(select(CyberSubscription).where(CyberSubscription.owner == owner)
                                .order_by(CyberSubscription.created_at)))


def unsubscribe(session: Session, *, who: Principal, subscription_id: str) -> None:
    row = session.get(CyberSubscription, subscription_id)
    if row is None or row.owner != who.username:
        raise NotFound(f"no subscription {subscription_id} of yours")
    session.delete(row)
    session.flush()


def out(row: CyberSubscription) -> SubscriptionOut:
    return SubscriptionOut(id=row.id, sectors=row.sectors, regions=row.regions,
                           email=row.email is not None, push=row.push_endpoint is not None,
                           created_at=row.created_at, expires_at=row.expires_at)


def _matches(sub: CyberSubscription, version: CyberAdvisoryVersion) -> bool:
    # An empty list means "all", on either side.
    def meet(mine: list[str], theirs: list[str]) -> bool:
        return not mine or not theirs or bool(set(mine) & set(theirs))

    return meet(sub.sectors, version.sectors) and meet(sub.regions, version.regions)


def _one_line(text: str) -> str:
    """A mail subject on one line: a control character (a line break above all: header
    injection in the relay's mail) in a stored title becomes a space (issue 19)."""
    return _CONTROLS.sub(" ", text)


def plan(session: Session, *, advisory_id: str, version_no: int, base_url: str,
         now: dt.datetime | None = None) -> tuple[int, int]:
    """Queue a mail and a push for every matching live subscription; return (mails, pushes)."""
    now = now or utcnow()
    advisory = session.get(CyberAdvisory, advisory_id)
    version = session.scalar(select(CyberAdvisoryVersion).where(
        CyberAdvisoryVersion.advisory_id == advisory_id,
        CyberAdvisoryVersion.version == version_no))
    if advisory is None or version is None or version.published_at is None:
        return 0, 0
    mails = pushes = 0
    subs = session.scalars(select(CyberSubscription)
                           .where(CyberSubscription.expires_at > now)).all()
    link = f"{base_url.rstrip('/')}/cyber/advisories#advisory-{advisory_id}"
    for sub in subs:
        if not _matches(sub, version):
            continue
        key = (CyberMailOutbox.subscription_id == sub.id, CyberMailOutbox.advisory_id ==
               advisory_id, CyberMailOutbox.version == version_no)
        if sub.email and session.scalar(select(CyberMailOutbox.id).where(*key)) is None:
            revised = " (mise à jour)" if version_no > 1 else ""
            session.add(CyberMailOutbox(
                subscription_id=sub.id, advisory_id=advisory_id, version=version_no,
                recipient=sub.email, subject=_one_line(f"[Tocsin] Avis de sécurité{revised} : "
                                                       f"{version.title}")[:250],
                body=f"{version.summary}\n\nQui est exposé : {version.exposed}\n\n"
                     f"Que faire : {version.actions}\n\n{link}\n",
                created_at=now))
            mails += 1
        pkey = (CyberPushDelivery.subscription_id == sub.id,
                CyberPushDelivery.advisory_id == advisory_id,
                CyberPushDelivery.version == version_no)
        if sub.push_endpoint and session.scalar(select(CyberPushDelivery.id).where(*pkey)) is None:
            session.add(CyberPushDelivery(subscription_id=sub.id, advisory_id=advisory_id,
                                          version=version_no, status=PushStatus.pending, attempts=0,
                                          created_at=now))
            pushes += 1
    session.flush()
    return mails, pushes


@dataclass(frozen=True)
class PushJob:
    """One push to attempt and what sending it needs."""

    id: int
    advisory_id: str
    endpoint: str
    keys: dict[str, str]
    payload: dict[str, Any]


def pending_pushes(session: Session) -> list[PushJob]:
    """Return the pushes to attempt, with what sending them needs."""
    rows = session.execute(
        select(CyberPushDelivery, CyberSubscription, CyberAdvisoryVersion)
        .join(CyberSubscription, CyberSubscription.id == CyberPushDelivery.subscription_id)
        .join(CyberAdvisoryVersion,
              (CyberAdvisoryVersion.advisory_id == CyberPushDelivery.advisory_id)
              & (CyberAdvisoryVersion.version == CyberPushDelivery.version))
        .where(CyberPushDelivery.status == PushStatus.pending).limit(200)).all()
    return [PushJob(id=d.id, advisory_id=d.advisory_id, endpoint=s.push_endpoint or "",
                    keys={k: str(v) for k, v in (s.push_keys or {}).items()},
                    payload={"advisory_id": d.advisory_id, "version": d.version,
                             "title": v.title, "severity": v.severity,
                             "url": f"/cyber/advisories#advisory-{d.advisory_id}"})
            for d, s, v in rows]


async def send_pushes(sender: PushSender, jobs: list[PushJob]) -> list[tuple[int, Outcome]]:
    """Send the pushes at once (each push service bounds its own); never raises for one."""
    async def one(job: PushJob) -> tuple[int, Outcome]:
        try:
            # The advisory as topic: a revision replaces an undelivered earlier version.
            return job.id, await sender.send(job.endpoint, job.keys, job.payload,
                                             topic=job.advisory_id)
        except Exception as exc:  # a bug in one send must not lose the others' outcomes
            log.exception("cyber push %s crashed", job.id)
            return job.id, Outcome(ok=False, error=type(exc).__name__)

    return list(await asyncio.gather(*(one(job) for job in jobs)))


def record_pushes(session: Session, outcomes: list[tuple[int, Outcome]], *,
                  now: dt.datetime | None = None) -> int:
    """Record each push's outcome (a failure is retried up to ``MAX_PUSH_ATTEMPTS`` times, a
    permanent one is not); return how many were sent."""
    now = now or utcnow()
    sent = 0
    for delivery_id, outcome in outcomes:
        row = session.get(CyberPushDelivery, delivery_id)
        if row is None or row.status != PushStatus.pending:
            continue
        row.attempts += 1
        if not outcome.ok:
            row.last_error = outcome.error[:300]
            if outcome.permanent or row.attempts >= MAX_PUSH_ATTEMPTS:
                row.status = PushStatus.dead
            continue
        row.status, row.sent_at, row.last_error = PushStatus.sent, now, None
        sent += 1
    session.flush()
    return sent
