"""Import of STIX 2.1 bundles from partners, and the queries the TAXII API answers.

An import is all or nothing: every object is checked with ``stix2-validator`` (the OASIS
rules, STIX 2.1) before anything is stored; one invalid object refuses the whole bundle with the
validator's messages. Stored objects keep the partner's TLP (unmarked: AMBER for that partner
alone, see ``tlp``); indicators whose pattern is one simple comparison also join the desk's
indicator list as new, unreviewed sightings.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tocsin.core.db import utcnow
from tocsin.core.errors import DomainError, TooLarge
from tocsin.cyber import indicators as ioc
from tocsin.cyber import intel, stix, tlp
from tocsin.cyber.models import CyberStixObject, CyberTaxiiStatus

log = logging.getLogger("tocsin.cyber.exchange")

MAX_OBJECTS = 500
MAX_BYTES = 512_000


class BundleRefused(DomainError):
    """The bundle is not valid STIX 2.1 (400 with the reasons; nothing stored)."""

    status = 400
    code = "invalid_stix"


class BundleTooLarge(TooLarge):
    pass


def parse(raw: bytes) -> list[dict[str, Any]]:
    """Return the objects of a bundle or TAXII envelope, or raise ``BundleRefused``."""
    if len(raw) > MAX_BYTES:
        raise BundleTooLarge(f"bundle of {len(raw)} bytes; at most {MAX_BYTES} accepted")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleRefused(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("objects"), list):
        raise BundleRefused("expected a STIX bundle or a TAXII envelope with an 'objects' list")
    if data.get("type") not in (None, "bundle"):
        raise BundleRefused(f"expected type 'bundle', got {data.get('type')!r}")
    objects = data["objects"]
    if not objects:
        raise BundleRefused("the bundle holds no objects")
    if len(objects) > MAX_OBJECTS:
        raise BundleTooLarge(f"{len(objects)} objects; at most {MAX_OBJECTS} per bundle")
    return objects


def validate(objects: list[dict[str, Any]]) -> None:
    """Check every object against the STIX 2.1 rules; raise ``BundleRefused`` listing errors."""
    from stix2validator import ValidationOptions, validate_instance

    options = ValidationOptions(version="2.1")
    problems: list[dict[str, str]] = []
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict) or "type" not in obj or "id" not in obj:
            problems.append({"index": str(index), "message": "not a STIX object (type, id)"})
            continue
        try:
            result = validate_instance(obj, options)
        except Exception as exc:  # the validator raises on shapes its schemas cannot load
            problems.append({"index": str(index), "id": str(obj.get("id"))[:100],
                             "message": f"{type(exc).__name__}: {exc}"[:300]})
            continue
        if not result.is_valid:
            problems.extend({"index": str(index), "id": str(obj.get("id"))[:100],
                             "message": str(error)[:300]} for error in result.errors[:5])
    if problems:
        first = problems[0]
        raise BundleRefused(f"{len(problems)} STIX error(s); first, object {first['index']}: "
                            f"{first['message']}", details=problems[:50])


def receive(session: Session, *, raw: bytes, source: str,
            collection: str = stix.EXCHANGE, now: dt.datetime | None = None
            ) -> CyberTaxiiStatus:
    """Validate and store a partner's bundle; return the TAXII status (stored, not committed)."""
    now = now or utcnow()
    objects = parse(raw)
    validate(objects)
    defined = tlp.defined_markings(objects)
    successes: list[dict[str, Any]] = []
    for obj in objects:
        level = tlp.level_of(obj, defined) or "amber"
        share = tlp.encode_partners([source]) if level == "amber" else ""
        stored = stix.put(session, collection=collection, obj=obj, level=level,
                          share_with=share, source=f"partner:{source}", now=now)
        successes.append({"id": obj["id"], "version": stix.version_of(obj, now),
                          "message": "stored" if stored else "already present"})
        if stored and obj.get("type") == "indicator" and obj.get("pattern_type") == "stix":
            found = ioc.from_pattern(str(obj.get("pattern", "")))
            if found is not None and not obj.get("revoked"):
                intel.sight(session, found, source=f"partner:{source}", level=level,
                            share_with=share, now=now)
    status = CyberTaxiiStatus(id=str(uuid.uuid4()), owner=source, status="complete",
                              request_timestamp=now, successes=successes, failures=[],
                              created_at=now)
    session.add(status)
    session.flush()
    return status


@dataclass
class Page:
    rows: list[CyberStixObject]
    more: bool


def query(session: Session, *, collection: str, partner: str | None,
          added_after: dt.datetime | None = None, after_id: int | None = None,
          limit: int = 100, ids: list[str] | None = None, types: list[str] | None = None,
          all_versions: bool = False) -> Page:
    """Return one page of objects ``partner`` may see, in the order they were added."""
    stmt: Select[Any] = select(CyberStixObject).where(
        CyberStixObject.collection == collection,
        tlp.visible_to(CyberStixObject.tlp, CyberStixObject.share_with, partner))
    if not all_versions:
        stmt = stmt.where(CyberStixObject.is_latest.is_(True))
    if added_after is not None:
        stmt = stmt.where(CyberStixObject.date_added > added_after)
    if after_id is not None:
        stmt = stmt.where(CyberStixObject.id > after_id)
    if ids:
        stmt = stmt.where(CyberStixObject.stix_id.in_(ids))
    if types:
        stmt = stmt.where(CyberStixObject.stix_type.in_(types))
    rows = list(session.scalars(stmt.order_by(CyberStixObject.id).limit(limit + 1)))
    return Page(rows=rows[:limit], more=len(rows) > limit)


def count(session: Session, collection: str) -> int:
    return int(session.scalar(select(func.count()).select_from(CyberStixObject)
                              .where(CyberStixObject.collection == collection)) or 0)


def status_out(row: CyberTaxiiStatus) -> dict[str, Any]:
    """Return the TAXII 2.1 status resource (§4.3.1)."""
    return {
        "id": row.id, "status": row.status,
        "request_timestamp": stix.format_time(row.request_timestamp),
        "total_count": len(row.successes) + len(row.failures),
        "success_count": len(row.successes), "successes": row.successes,
        "failure_count": len(row.failures), "failures": row.failures,
        "pending_count": 0, "pendings": [],
    }
