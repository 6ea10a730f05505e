"""Unit registry, duty status and position reports.

A unit account may only report for the unit linked to it: anything else is refused before a
row is touched. Every change is announced on the bus with the unit's full state and a stamp,
so each worker's spatial index can apply events in any order and keep the newest.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core.auth.models import UserAccount
from tocsin.core.auth.roles import Role
from tocsin.core.errors import Conflict, Forbidden, Invalid, NotFound
from tocsin.core.outbox import add_event
from tocsin.dispatch import events
from tocsin.dispatch.models import DispatchUnit

UNIT_STATUSES = ("available", "offered", "assigned", "on_scene", "off_duty")
CALLSIGN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$")


def touch(session: Session, unit_id: str) -> None:
    """Note that ``unit_id`` changed, so the worker's index re-reads it after commit."""
    session.info.setdefault("dispatch_units", set()).add(unit_id)


def unit_event_data(unit: DispatchUnit) -> dict[str, Any]:
    """Return the full public state of a unit, as every unit event carries it."""
    return {
        "unit_id": unit.id,
        "callsign": unit.callsign,
        "status": unit.status,
        "lat": unit.lat,
        "lon": unit.lon,
        "incident_id": unit.incident_id,
        "at": unit.updated_at.isoformat(),
        "stamp": unit.updated_at.timestamp(),
    }


def announce(session: Session, unit: DispatchUnit, subject: str = events.UNIT_STATUS) -> None:
    """Queue the unit's state on the bus and mark it for the local index."""
    add_event(session, subject, unit_event_data(unit))
    touch(session, unit.id)


def create_unit(
    session: Session,
    *,
    callsign: str,
    username: str | None,
    lat: float | None,
    lon: float | None,
    off_duty: bool,
    now: dt.datetime,
) -> DispatchUnit:
    """Register a unit, optionally linked to a ``unit`` account; duplicates are refused."""
    if not CALLSIGN_RE.match(callsign):
        raise Invalid("callsign must be 1-40 letters, digits, spaces, '.', '_' or '-'")
    if (lat is None) != (lon is None):
        raise Invalid("give both lat and lon, or neither")
    if session.scalar(select(DispatchUnit.id).where(DispatchUnit.callsign == callsign)):
        raise Conflict(f"unit {callsign!r} already exists")
    user_id = None
    if username is not None:
        user = session.scalar(select(UserAccount).where(UserAccount.username == username))
        if user is None:
            raise NotFound(f"no account {username!r}")
        if user.role != Role.unit.value:
            raise Invalid(f"account {username!r} is not a unit account")
        if session.scalar(select(DispatchUnit.id).where(DispatchUnit.user_id == user.id)):
            raise Conflict(f"account {username!r} is already linked to a unit")
        user_id = user.id
    unit = DispatchUnit(
        id=uuid.uuid4().hex,
        callsign=callsign,
        user_id=user_id,
        status="off_duty" if off_duty else "available",
        lat=lat,
        lon=lon,
        position_at=now if lat is not None else None,
        incident_id=None,
        created_at=now,
        updated_at=now,
    )
    session.add(unit)
    session.flush()
    announce(session, unit)
    return unit


def get_unit(session: Session, *, unit_id: str) -> DispatchUnit:
    """Return the unit or raise ``NotFound``."""
    unit = session.get(DispatchUnit, unit_id)
    if unit is None:
        raise NotFound(f"no unit {unit_id!r}")
    return unit


def own_unit(session: Session, *, unit_id: str, user_id: int | None) -> DispatchUnit:
    """Return ``unit_id`` if the account reports for it; another unit's id is ``Forbidden``."""
    unit = get_unit(session, unit_id=unit_id)
    if unit.user_id is None or unit.user_id != user_id:
        raise Forbidden("this account does not report for that unit")
    return unit


def list_units(session: Session) -> list[DispatchUnit]:
    """Return every unit, by callsign."""
    return list(session.scalars(select(DispatchUnit).order_by(DispatchUnit.callsign)))


def report_position(
    session: Session, *, unit_id: str, user_id: int | None, lat: float, lon: float,
    now: dt.datetime,
) -> DispatchUnit:
    """Store a unit's position ping (its own unit only) and announce it."""
    unit = own_unit(session, unit_id=unit_id, user_id=user_id)
    unit.lat, unit.lon = lat, lon
    unit.position_at = now
    unit.updated_at = now
    session.flush()
    announce(session, unit, events.UNIT_POSITION)
    return unit


def set_duty(
    session: Session, *, unit_id: str, user_id: int | None, on_duty: bool, now: dt.datetime
) -> DispatchUnit:
    """Put a unit on or off duty; refused while it holds an offer or an assignment."""
    unit = own_unit(session, unit_id=unit_id, user_id=user_id)
    if unit.status not in ("available", "off_duty"):
        raise Conflict(f"unit is {unit.status}: finish or decline the mission first")
    unit.status = "available" if on_duty else "off_duty"
    unit.updated_at = now
    session.flush()
    announce(session, unit)
    return unit
