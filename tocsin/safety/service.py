"""Safety-check logic: activate a check over an area, mark safe / need help, look up, count.

Relatives find a mark two ways, each giving as little as needed: the short code the person chose
to share (status, time and the message left for them), or a name plus a phone number they already
know, compared by hash (status and time only). The hash is scrypt (RFC 7914) of the folded name
and the last nine digits of the phone, so a leaked table cannot be reversed by trying every phone
number cheaply, and "06 12 34 56 78" matches "+33 6 12 34 56 78".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections import defaultdict
from typing import Any

import h3
from shapely.geometry import Point, Polygon
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from unidecode import unidecode

from tocsin.core import audit
from tocsin.core.auth.permissions import Principal
from tocsin.core.db import utcnow
from tocsin.core.errors import Conflict, DomainError, Invalid, NotFound
from tocsin.core.geo import haversine_m
from tocsin.core.outbox import add_event
from tocsin.safety.models import SafetyCheck, SafetyMark
from tocsin.safety.schemas import CheckIn, MarkIn

MAX_WINDOW = dt.timedelta(days=14)
# A mark outlives its check by a week (time for relatives to look), then is purged.
MARK_RETENTION = dt.timedelta(days=7)
CHECK_RETENTION = dt.timedelta(days=365)
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 8
CELL_RESOLUTION = 8


class CheckClosed(DomainError):
    """The safety check is not (or no longer) active."""

    status = 409
    code = "safety_check_closed"


def contains(area: dict[str, Any], lat: float, lon: float) -> bool:
    """Tell whether (lat, lon) lies in a check's area."""
    if area["type"] == "circle":
        return haversine_m(area["lat"], area["lon"], lat, lon) <= area["radius_m"]
    return bool(Polygon(area["coordinates"]).covers(Point(lon, lat)))


def create_check(session: Session, *, data: CheckIn, actor: Principal) -> SafetyCheck:
    """Propose a safety check over an area and a time window (another authority approves)."""
    now = utcnow()
    starts = data.starts_at or now
    if starts.tzinfo is None or data.ends_at.tzinfo is None:
        raise Invalid("starts_at and ends_at must carry a time zone")
    if data.ends_at <= max(starts, now):
        raise Invalid("ends_at must be after starts_at and in the future")
    if data.ends_at - starts > MAX_WINDOW:
        raise Invalid(f"a safety check lasts at most {MAX_WINDOW.days} days")
    area = data.area.model_dump()
    if area["type"] == "polygon":
        area["coordinates"] = [list(p) for p in area["coordinates"]]
        polygon = Polygon(area["coordinates"])
        if not polygon.is_valid or polygon.area == 0:
            raise Invalid("the polygon is not valid (it crosses itself or has no area)")
    check = SafetyCheck(name=data.name.strip(), area=area, starts_at=starts, ends_at=data.ends_at,
                        created_at=now, created_by=actor.username)
    session.add(check)
    session.flush()
    audit.record(session, actor=actor, action="propose", object_type="safety_check",
                 object_id=check.id)
    return check


def approve_check(session: Session, *, check_id: int, actor: Principal) -> SafetyCheck:
    """A second authority approves a proposed check: it is listed and takes marks from now."""
    check = get_check(session, check_id=check_id)
    if check.approved_by is not None:
        raise Conflict(f"safety check {check_id} is already approved")
    if check.created_by == actor.username:
        raise Conflict("a safety check is approved by another authority than the one who "
                       "proposed it")
    now = utcnow()
    if check.ends_at <= now:
        raise Conflict(f"safety check {check_id} has already ended")
    check.approved_by, check.approved_at = actor.username, now
    session.flush()
    add_event(session, "safety.check_activated", {"check_id": check.id, "name": check.name})
    audit.record(session, actor=actor, action="activate", object_type="safety_check",
                 object_id=check.id)
    return check


def is_active(check: SafetyCheck, now: dt.datetime) -> bool:
    """Tell whether marks are accepted in ``check`` now (approved, and within its window)."""
    return check.approved_by is not None and check.starts_at <= now < check.ends_at


def active_checks(session: Session) -> list[SafetyCheck]:
    """Return the checks open now."""
    now = utcnow()
    return list(session.scalars(
        select(SafetyCheck).where(SafetyCheck.approved_by.is_not(None),
                                  SafetyCheck.starts_at <= now, SafetyCheck.ends_at > now)
        .order_by(SafetyCheck.id)
    ))


def pending_checks(session: Session) -> list[SafetyCheck]:
    """Return the checks awaiting a second authority (not ended)."""
    return list(session.scalars(
        select(SafetyCheck).where(SafetyCheck.approved_by.is_(None),
                                  SafetyCheck.ends_at > utcnow())
        .order_by(SafetyCheck.id)
    ))


def get_check(session: Session, *, check_id: int) -> SafetyCheck:
    """Return a check or raise NotFound."""
    check = session.get(SafetyCheck, check_id)
    if check is None:
        raise NotFound(f"no safety check {check_id}")
    return check


def end_check(session: Session, *, check_id: int, actor: Principal) -> SafetyCheck:
    """Close a check now; its marks stay readable by relatives until they expire."""
    check = get_check(session, check_id=check_id)
    now = utcnow()
    if check.ends_at <= now:
        raise Conflict(f"safety check {check_id} has already ended")
    check.ends_at = max(now, check.starts_at)
    # Marks live a week past the (new) end of their check.
    session.execute(
        update(SafetyMark).where(SafetyMark.check_id == check.id)
        .values(expires_at=check.ends_at + MARK_RETENTION)
    )
    audit.record(session, actor=actor, action="end", object_type="safety_check",
                 object_id=check.id)
    return check


def contact_hash(name: str, phone: str) -> str:
    """Return the hash that lets a relative knowing name and phone find a mark."""
    digits = re.sub(r"\D", "", phone)[-9:]
    folded = " ".join(re.sub(r"[^a-z]+", " ", unidecode(name).lower()).split())
    material = f"{folded}|{digits}".encode()
    return hashlib.scrypt(material, salt=b"tocsin.safety.contact.v1", n=2**14, r=8, p=1,
                          dklen=32).hex()


def device_hash(token: str) -> str:
    """Return the stored form of a device token (never kept in clear)."""
    return hashlib.sha256(b"tocsin.safety.device|" + token.encode()).hexdigest()


def normalize_code(code: str) -> str:
    """Upper-case a typed code and drop separators ("abcd-2345" -> "ABCD2345")."""
    return re.sub(r"[\s-]", "", code).upper()


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def mark(session: Session, *, data: MarkIn, device_token: str | None) -> SafetyMark:
    """Record "I am safe" / "I need help" in an active check; same device, same mark."""
    check = get_check(session, check_id=data.check_id)
    now = utcnow()
    if check.approved_by is None:
        raise CheckClosed(f"safety check {check.id} is awaiting a second authority's approval")
    if not is_active(check, now):
        raise CheckClosed(f"safety check {check.id} is not active")
    cell = None
    if data.lat is not None and data.lon is not None:
        if not contains(check.area, data.lat, data.lon):
            raise Invalid(f"this position is outside the area of safety check {check.id}")
        cell = h3.latlng_to_cell(data.lat, data.lon, CELL_RESOLUTION)
    dev = device_hash(device_token) if device_token else None
    existing = None
    if dev is not None:
        existing = session.scalar(
            select(SafetyMark).where(SafetyMark.check_id == check.id, SafetyMark.device_hash == dev)
        )
    record = existing or SafetyMark(check_id=check.id, code=_new_code(), device_hash=dev)
    record.status = data.status
    record.cell = cell or record.cell
    record.position = (
        {"lat": data.lat, "lon": data.lon} if data.status == "need_help" else None
    )
    record.message = data.message.strip() if data.message and data.message.strip() else None
    if data.name and data.phone:
        record.contact_hash = contact_hash(data.name, data.phone)
    record.marked_at = now
    record.expires_at = check.ends_at + MARK_RETENTION
    if existing is None:
        session.add(record)
    session.flush()
    if data.status == "need_help":
        # An assistance request for the dispatchers' queue, below SOS in priority.
        add_event(session, "safety.help_requested", {
            "mark_id": record.id, "check_id": check.id, "lat": data.lat, "lon": data.lon,
            "at": now.isoformat(), "priority": "low",
        })
    return record


def lookup_code(session: Session, *, code: str) -> SafetyMark:
    """Return the live mark with this code, or NotFound naming the problem."""
    wanted = normalize_code(code)
    found = session.scalar(select(SafetyMark).where(SafetyMark.code == wanted))
    if found is None or found.expires_at <= utcnow():
        raise NotFound("unknown safety code (check the letters, or it has expired)")
    return found


def lookup_contact(
    session: Session, *, name: str, phone: str, check_id: int | None
) -> list[SafetyMark]:
    """Return live marks left under this name and phone (status and time are all shown)."""
    if len(re.sub(r"\D", "", phone)) < 6:
        raise Invalid("the phone number needs at least 6 digits")
    query = select(SafetyMark).where(
        SafetyMark.contact_hash == contact_hash(name, phone), SafetyMark.expires_at > utcnow()
    )
    if check_id is not None:
        query = query.where(SafetyMark.check_id == check_id)
    return list(session.scalars(query.order_by(SafetyMark.marked_at.desc()).limit(10)))


def counts(session: Session, *, check_id: int, actor: Principal) -> dict[str, Any]:
    """Return live counts of a check, overall and per map cell."""
    get_check(session, check_id=check_id)
    cells: dict[str, dict[str, int]] = defaultdict(lambda: {"safe": 0, "need_help": 0})
    totals = {"safe": 0, "need_help": 0}
    rows = session.execute(
        select(SafetyMark.cell, SafetyMark.status, func.count())
        .where(SafetyMark.check_id == check_id)
        .group_by(SafetyMark.cell, SafetyMark.status)
    ).all()
    for cell, status, count in rows:
        totals[status] = totals.get(status, 0) + int(count)
        if cell:
            cells[cell][status] += int(count)
    return {
        "check_id": check_id, "safe": totals["safe"], "need_help": totals["need_help"],
        "total": totals["safe"] + totals["need_help"],
        "cells": [{"cell": c, **v} for c, v in sorted(cells.items())],
    }
