"""Import of STIX 2.1 bundles from partners, and the queries the TAXII API answers.

Validation is all or nothing: every object is checked with ``stix2-validator`` (the OASIS
rules, STIX 2.1) before anything is stored; one invalid object refuses the whole bundle with the
validator's messages. Stored objects keep the partner's TLP (unmarked: AMBER for that partner
alone, see ``tlp``); indicators whose pattern is one simple comparison also join the desk's
indicator list as new, unreviewed sightings.

An import runs in two steps so the worker that also answers SOS stays responsive (issue 18):
``check_bundle`` (JSON, validation, TLP levels, indicator patterns: about 3 ms of CPU per object,
1.3-2.5 s for 500) is a plain function with picklable input and output, run in the process pool
(``tocsin.core.offload``, lane ``STIX_LANE``); ``store_batch`` then writes ``BATCH`` objects per
transaction, so the shared SQLite write lock is given back between batches. Storing is
idempotent (a version already stored answers "already present"), so a bundle cut short by a
database failure is completed by sending it again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tocsin.core.db import utcnow
from tocsin.core.errors import DomainError, TooLarge
from tocsin.core.offload import Lane
from tocsin.cyber import indicators as ioc
from tocsin.cyber import intel, stix, tlp
from tocsin.cyber.models import CyberStixObject, CyberTaxiiStatus

log = logging.getLogger("tocsin.cyber.exchange")

# A partner's feed pushes its new objects every few minutes: hundreds, not thousands. 500 objects
# (about 250 KB of indicators) validate in 1.3-2.5 s in the pool; a larger feed splits its
# bundles, as TAXII clients do from the API root's ``max_content_length``.
MAX_OBJECTS = 500
MAX_BYTES = 512_000
# Objects written per transaction: one object is 2-4 statements (a sighting a few more), so a
# batch holds SQLite's write lock for about 20-50 ms, and an SOS written meanwhile waits no longer.
BATCH = 100
# STIX checks: one at a time per worker (the pool has one process on two cores), three waiting;
# a 500-object bundle takes a few seconds when the machine is busy, 60 s is a stuck validator.
STIX_LANE = Lane("cyber.stix", concurrency=1, waiting=3, timeout_s=60.0, retry_after_s=10)


class BundleRefused(DomainError):
    """The bundle is not valid STIX 2.1 (400 with the reasons; nothing stored)."""

    status = 400
    code = "invalid_stix"


class BundleTooLarge(TooLarge):
    pass


class ImportInterrupted(DomainError):
    """Storage stopped part way (a database failure); send the bundle again to complete it."""

    status = 503
    code = "unavailable"

    def __init__(self, message: str, *, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message, details=details, headers=headers or {"Retry-After": "10"})


def check_size(size: int) -> None:
    """Refuse (413, naming the limit) a bundle over ``MAX_BYTES``, before any parsing."""
    if size > MAX_BYTES:
        raise BundleTooLarge(f"bundle of {size} bytes; at most {MAX_BYTES} bytes accepted "
                             f"(max_content_length)",
                             details={"limit": "max_bytes", "max": MAX_BYTES, "got": size})


def parse(raw: bytes) -> list[dict[str, Any]]:
    """Return the objects of a bundle or TAXII envelope, or raise ``BundleRefused``."""
    check_size(len(raw))
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleRefused(f"not JSON: {exc}") from None
    try:  # "\ud800" is JSON but no UTF-8 (nor XML, nor PostgreSQL) can carry it
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(exc.object[exc.start])
        raise BundleRefused(f"a string holds an unpaired surrogate (\\u{code:04x}); "
                            "send valid Unicode") from None
    if not isinstance(data, dict) or not isinstance(data.get("objects"), list):
        raise BundleRefused("expected a STIX bundle or a TAXII envelope with an 'objects' list")
    if data.get("type") not in (None, "bundle"):
        raise BundleRefused(f"expected type 'bundle', got {data.get('type')!r}")
    objects = data["objects"]
    if not objects:
        raise BundleRefused("the bundle holds no objects")
    if len(objects) > MAX_OBJECTS:  # counted before any validation work
        raise BundleTooLarge(f"{len(objects)} objects; at most {MAX_OBJECTS} objects per bundle",
                             details={"limit": "max_objects", "max": MAX_OBJECTS,
                                      "got": len(objects)})
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


@dataclass(frozen=True)
class Checked:
    """One validated object and what storing it needs (plain data: crosses the process pool)."""

    obj: dict[str, Any]
    level: str
    share_with: str
    sighting: tuple[str, str] | None  # (kind, value) of a simple indicator pattern


def check_bundle(raw: bytes, source: str) -> list[Checked]:
    """Parse and validate a bundle; return each object with its TLP and sighting.

    CPU only, no database: run in the process pool. Raises ``BundleRefused``/``BundleTooLarge``.
    """
    objects = parse(raw)
    validate(objects)
    defined = tlp.defined_markings(objects)
    out = []
    for obj in objects:
        level = tlp.level_of(obj, defined) or "amber"
        share = tlp.encode_partners([source]) if level == "amber" else ""
        sighting = None
        if obj.get("type") == "indicator" and obj.get("pattern_type") == "stix" and not obj.get(
                "revoked"):
            found = ioc.from_pattern(str(obj.get("pattern", "")))
            if found is not None:
                sighting = (found.kind, found.value)
        out.append(Checked(obj, level, share, sighting))
    return out


def store_batch(session: Session, items: Sequence[Checked], *, source: str,
                collection: str = stix.EXCHANGE, now: dt.datetime | None = None
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Store checked objects (not committed); return their TAXII status successes and the
    failures of objects refused because their id belongs to another source."""
    now = now or utcnow()
    successes: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for item in items:
        obj = item.obj
        try:
            stored = stix.put(session, collection=collection, obj=obj, level=item.level,
                              share_with=item.share_with, source=f"partner:{source}", now=now)
        except stix.ForeignObject:
            refused.extend(failed([item], stix.ForeignObject.MESSAGE))
            continue
        successes.append({"id": obj["id"], "version": stix.version_of(obj, now),
                          "message": "stored" if stored else "already present"})
        if stored and item.sighting is not None:
            intel.sight(session, ioc.Indicator(*item.sighting), source=f"partner:{source}",
                        level=item.level, share_with=item.share_with, now=now)
    return successes, refused


def failed(items: Sequence[Checked], message: str) -> list[dict[str, Any]]:
    """TAXII status failures for objects that were not stored."""
    return [{"id": item.obj["id"], "version": str(item.obj.get("modified")
                                                  or item.obj.get("created") or ""),
             "message": message} for item in items]


def record_status(session: Session, *, source: str, requested_at: dt.datetime,
                  successes: list[dict[str, Any]], failures: list[dict[str, Any]] | None = None
                  ) -> CyberTaxiiStatus:
    """Add the TAXII status of an import (not committed)."""
    status = CyberTaxiiStatus(id=str(uuid.uuid4()), owner=source, status="complete",
                              request_timestamp=requested_at, successes=successes,
                              failures=failures or [], created_at=utcnow())
    session.add(status)
    session.flush()
    return status


def batches(items: Sequence[Checked], size: int = 0) -> list[Sequence[Checked]]:
    """Cut ``items`` into runs of ``size`` (default ``BATCH``), one transaction each."""
    size = size or BATCH
    return [items[i:i + size] for i in range(0, len(items), size)]


def receive(session: Session, *, raw: bytes, source: str,
            collection: str = stix.EXCHANGE, now: dt.datetime | None = None
            ) -> CyberTaxiiStatus:
    """Validate and store a bundle in one transaction (the CLI); the API uses the steps."""
    now = now or utcnow()
    checked = check_bundle(raw, source)
    successes, refused = store_batch(session, checked, source=source, collection=collection,
                                     now=now)
    return record_status(session, source=source, requested_at=now, successes=successes,
                         failures=refused)


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
