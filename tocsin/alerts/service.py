"""Official alerts: compose, two-person approval, publication, Update / Cancel chains, import.

Two-person rule: every message, whatever its CAP 1.2 §3.2.1 status, composed or imported, an
Alert, an Update or a Cancel, is published only when a second authority approves it; its author
never can. Why every status: an ``Exercise`` is shown to citizens and every status goes to the
platforms' webhooks, so one authority alone could reach the public (issue 19, finding 4). Every
step is written to the audit log in the same transaction.

Every message, composed or imported, goes through :func:`tocsin.alerts.validate.check` before
it is stored, so what is published always validates against the OASIS schema; a refusal lists
every problem (422) and stores nothing. Publication freezes the CAP XML (``sent`` is the time of
publication) and queues ``alerts.published``; the fan-out runs later, from that event.
"""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tocsin.alerts import cap, events, geo, validate
from tocsin.alerts.models import Alert
from tocsin.alerts.schemas import AlertIn, CancelIn
from tocsin.core import audit
from tocsin.core.auth import Principal
from tocsin.core.db import utcnow
from tocsin.core.errors import Conflict, Forbidden, Invalid, NotFound
from tocsin.core.outbox import add_event

LIVE_TYPES = ("Alert", "Update")


def default_sender(base_url: str) -> str:
    """Return the CAP sender for this deployment: ``tocsin@<host>`` (no spaces or commas)."""
    host = urlsplit(base_url).hostname or "localhost"
    return f"tocsin@{host}"


def _problems_error(problems: list[validate.Problem], message: str) -> Invalid:
    return Invalid(
        f"{message}: " + "; ".join(str(p) for p in problems[:3]),
        details=[{"location": p.location, "message": p.message} for p in problems],
    )


def _checked(alert: cap.CapAlert, *, now: dt.datetime) -> cap.CapAlert:
    """Validate the XML of ``alert`` and refuse expired infos; return the re-read message."""
    problems: list[validate.Problem] = []
    for index, info in enumerate(alert.infos, start=1):
        if info.expires is not None and info.expires <= now:
            problems.append(
                validate.Problem(f"/alert/info[{index}]/expires", "the expiry is in the past")
            )
    report = validate.check(cap.to_xml(alert))
    problems.extend(report.problems)
    if problems or report.alert is None:
        raise _problems_error(problems, "the alert is not valid CAP 1.2")
    return report.alert


def _build(data: AlertIn, *, identifier: str, sender: str, sender_name: str,
           now: dt.datetime) -> cap.CapAlert:
    area = cap.CapArea(desc=data.area.desc)
    if data.area.polygon:
        area.polygons.append(geo.format_polygon(list(data.area.polygon)))
    if data.area.circle:
        c = data.area.circle
        area.circles.append(geo.format_circle(geo.Circle(c.lat, c.lon, c.radius_km)))
    if not area.polygons and not area.circles:
        raise Invalid(
            "the area needs a polygon or a circle",
            details=[{"location": "area", "message": "draw a polygon or a circle"}],
        )
    infos = [
        cap.CapInfo(
            language=info.language,
            categories=list(data.categories),
            event=info.event,
            response_types=list(data.response_types),
            urgency=data.urgency,
            severity=data.severity,
            certainty=data.certainty,
            onset=data.onset,
            expires=data.expires,
            sender_name=sender_name,
            headline=info.headline,
            description=info.description,
            instruction=info.instruction,
            web=info.web,
            contact=info.contact,
            areas=[area],
        )
        for info in data.infos
    ]
    return cap.CapAlert(
        identifier=identifier, sender=sender, sent=now.replace(microsecond=0),
        status=data.status, msg_type="Alert", scope="Public", note=data.note, infos=infos,
    )


def _bbox(message: cap.CapAlert) -> tuple[float, float, float, float] | None:
    shapes = []
    for info in message.infos:
        for area in info.areas:
            shape = geo.area_shape(area.polygons, area.circles)
            if shape is not None:
                shapes.append(shape.bounds)
    if not shapes:
        return None
    return (min(s[1] for s in shapes), min(s[0] for s in shapes),
            max(s[3] for s in shapes), max(s[2] for s in shapes))


def _store(session: Session, message: cap.CapAlert, *, alert_id: str, who: Principal,
           origin: str, parent: Alert | None, now: dt.datetime) -> Alert:
    row = Alert(
        id=alert_id, identifier=message.identifier, sender=message.sender,
        status=message.status, msg_type=message.msg_type, state="pending", origin=origin,
        content=cap.to_json(message), parent_id=parent.id if parent else None,
        author=who.username, created_at=now, expires_at=message.expires,
    )
    box = _bbox(message)
    if box is not None:
        row.min_lat, row.min_lon, row.max_lat, row.max_lon = box
    session.add(row)
    session.flush()
    audit.record(session, actor=who, action=f"alert.{origin}", object_type="alert",
                 object_id=row.id, reason=f"{message.status} {message.msg_type}")
    add_event(session, events.SUBMITTED, _payload(row))
    return row


def _payload(row: Alert) -> dict[str, object]:
    infos = row.content.get("infos") or [{}]
    return events.AlertEvent(
        id=row.id, msg_type=row.msg_type, status=row.status, state=row.state,
        parent_id=row.parent_id, headline=infos[0].get("headline"),
    ).model_dump()


def _publish(session: Session, row: Alert, *, now: dt.datetime, by: Principal) -> None:
    message = cap.from_json(row.content)
    if row.origin == "composed":
        message.sent = now.replace(microsecond=0)
    message = _checked(message, now=now) if row.origin == "composed" else message
    row.content = cap.to_json(message)
    row.cap_xml = cap.to_xml(message).decode("utf-8")
    row.state = "published"
    row.published_at = now
    if row.parent_id is not None:
        parent = session.get(Alert, row.parent_id)
        if parent is not None and parent.state == "published":
            parent.state = "cancelled" if row.msg_type == "Cancel" else "superseded"
            parent.ended_at = now
    session.flush()
    audit.record(session, actor=by, action="alert.publish", object_type="alert",
                 object_id=row.id, reason=f"{row.status} {row.msg_type} {row.identifier}"[:300])
    add_event(session, events.PUBLISHED, _payload(row))


def get(session: Session, *, alert_id: str) -> Alert:
    """Return the alert ``alert_id`` or raise NotFound."""
    row = session.get(Alert, alert_id)
    if row is None:
        raise NotFound(f"no alert {alert_id!r}")
    return row


def compose(session: Session, *, who: Principal, data: AlertIn, sender: str,
            sender_name: str, now: dt.datetime | None = None) -> Alert:
    """Record a new alert, pending until a second authority approves it."""
    now = now or utcnow()
    alert_id = uuid.uuid4().hex
    message = _build(data, identifier=f"tocsin-{alert_id}", sender=sender,
                     sender_name=sender_name, now=now)
    message = _checked(message, now=now)
    return _store(session, message, alert_id=alert_id, who=who, origin="composed",
                  parent=None, now=now)


def approve(session: Session, *, who: Principal, alert_id: str,
            now: dt.datetime | None = None) -> Alert:
    """Publish a pending message as its second authority; its author may not."""
    now = now or utcnow()
    row = get(session, alert_id=alert_id)
    if row.state != "pending":
        raise Conflict(f"alert {alert_id} is {row.state}, not waiting for approval")
    if row.author == who.username:
        audit.record(session, actor=who, action="alert.approve_refused", object_type="alert",
                     object_id=row.id, reason="two-person rule: author may not approve")
        raise Forbidden("two-person rule: a second authority must approve this alert")
    if row.parent_id is not None:
        parent = session.get(Alert, row.parent_id)
        if parent is None or parent.state != "published":
            raise Conflict("the alert this message updates or cancels is no longer live")
    row.approver = who.username
    audit.record(session, actor=who, action="alert.approve", object_type="alert",
                 object_id=row.id, reason=f"approved {row.author}'s {row.msg_type}")
    _publish(session, row, now=now, by=who)
    return row


def reject(session: Session, *, who: Principal, alert_id: str, reason: str) -> Alert:
    """Turn down a pending message (anyone of the role, the author included, may withdraw)."""
    row = get(session, alert_id=alert_id)
    if row.state != "pending":
        raise Conflict(f"alert {alert_id} is {row.state}, not waiting for approval")
    row.state = "rejected"
    audit.record(session, actor=who, action="alert.reject", object_type="alert",
                 object_id=row.id, reason=reason)
    add_event(session, events.REJECTED, _payload(row))
    return row


def _live_parent(session: Session, alert_id: str) -> Alert:
    parent = get(session, alert_id=alert_id)
    if parent.state != "published" or parent.msg_type not in LIVE_TYPES:
        raise Conflict(f"alert {alert_id} is {parent.state} {parent.msg_type}; only a live "
                       "Alert or Update can be updated or cancelled")
    waiting = session.scalar(
        select(Alert.id).where(Alert.parent_id == parent.id, Alert.state == "pending")
    )
    if waiting is not None:
        raise Conflict(f"message {waiting} about this alert is already waiting for approval")
    return parent


def _references(parent: Alert) -> str:
    earlier = cap.from_json(parent.content)
    chain = (earlier.references or "").split()
    return " ".join([*chain, cap.reference_of(earlier)])


def update(session: Session, *, who: Principal, alert_id: str, data: AlertIn, sender: str,
           sender_name: str, now: dt.datetime | None = None) -> Alert:
    """Record an Update that supersedes the live alert ``alert_id`` (CAP 1.2 §3.2.1 msgType)."""
    now = now or utcnow()
    parent = _live_parent(session, alert_id)
    new_id = uuid.uuid4().hex
    message = _build(data, identifier=f"tocsin-{new_id}", sender=sender,
                     sender_name=sender_name, now=now)
    message.msg_type, message.status = "Update", parent.status
    message.references = _references(parent)
    message = _checked(message, now=now)
    return _store(session, message, alert_id=new_id, who=who, origin="composed",
                  parent=parent, now=now)


def cancel(session: Session, *, who: Principal, alert_id: str, data: CancelIn,
           now: dt.datetime | None = None) -> Alert:
    """Record a Cancel of the live alert ``alert_id``, aimed at the same area."""
    now = now or utcnow()
    parent = _live_parent(session, alert_id)
    earlier = cap.from_json(parent.content)
    new_id = uuid.uuid4().hex
    message = cap.CapAlert(
        identifier=f"tocsin-{new_id}", sender=parent.sender, sent=now.replace(microsecond=0),
        status=parent.status, msg_type="Cancel", scope=earlier.scope, note=data.note,
        references=_references(parent), infos=earlier.infos,
    )
    for info in message.infos:
        if info.expires is not None and info.expires <= now:
            info.expires = None
    message = _checked(message, now=now)
    return _store(session, message, alert_id=new_id, who=who, origin="composed",
                  parent=parent, now=now)


def import_cap(session: Session, *, who: Principal, report: validate.CapReport,
               now: dt.datetime | None = None) -> Alert:
    """Store a CAP message received from another system; it follows the same rules.

    ``report`` is the verdict of :func:`tocsin.alerts.validate.examine` on the document, which
    the route runs in the process pool (XML and schema work off the event loop).
    """
    now = now or utcnow()
    if not report.ok or report.alert is None:
        raise _problems_error(report.problems, "the CAP message is not valid")
    message = report.alert
    problems: list[validate.Problem] = []
    if message.msg_type not in ("Alert", "Update", "Cancel"):
        problems.append(validate.Problem("/alert/msgType",
                                         f"{message.msg_type} messages are not accepted here"))
    if message.status not in ("Actual", "Exercise", "Test"):
        problems.append(validate.Problem("/alert/status",
                                         f"{message.status} messages are not accepted here"))
    for index, info in enumerate(message.infos, start=1):
        if info.expires is not None and info.expires <= now:
            problems.append(validate.Problem(f"/alert/info[{index}]/expires",
                                             f"expired at {cap.format_time(info.expires)}, past"))
    parent: Alert | None = None
    if message.references:
        for sender, identifier, _sent in validate.parse_references(message.references):
            found = session.scalar(
                select(Alert).where(Alert.sender == sender, Alert.identifier == identifier)
            )
            if found is None:
                problems.append(validate.Problem(
                    "/alert/references", f"unknown alert {sender},{identifier}"))
            elif found.state == "published" and found.msg_type in LIVE_TYPES:
                parent = found
        if message.msg_type in ("Update", "Cancel") and parent is None and not problems:
            problems.append(validate.Problem("/alert/references",
                                             "none of the referenced alerts is live"))
    if problems:
        raise _problems_error(problems, "the CAP message cannot be accepted")
    exists = session.scalar(select(Alert.id).where(
        Alert.sender == message.sender, Alert.identifier == message.identifier))
    if exists is not None:
        raise Conflict(f"message {message.sender},{message.identifier} is already known "
                       f"(alert {exists})")
    return _store(session, message, alert_id=uuid.uuid4().hex, who=who, origin="imported",
                  parent=parent, now=now)


def active(session: Session, *, now: dt.datetime | None = None,
           public_only: bool = True, limit: int = 500) -> list[Alert]:
    """Return published Alerts and Updates neither ended nor expired, newest first."""
    now = now or utcnow()
    query = select(Alert).where(
        Alert.state == "published",
        Alert.msg_type.in_(LIVE_TYPES),
        or_(Alert.expires_at.is_(None), Alert.expires_at > now),
    )
    if public_only:
        query = query.where(Alert.status.in_(("Actual", "Exercise")))
    return list(session.scalars(query.order_by(Alert.published_at.desc()).limit(limit)))


def pending(session: Session) -> list[Alert]:
    """Return the messages waiting for a second authority, oldest first."""
    query = select(Alert).where(Alert.state == "pending").order_by(Alert.created_at)
    return list(session.scalars(query.limit(500)))
