"""STIX 2.1 objects of the desk, the store TAXII serves, export and import of bundles.

Tocsin's own objects are written to the store when they become shareable (an indicator confirmed,
an advisory published) and written again, as a new version, when they change; RED ones are never
written, and an object turned RED later has all its stored versions re-marked RED, so no answer
carries it again. Ids are UUIDv5 of stable keys, so the same indicator keeps the same STIX id.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import stix2
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tocsin.core.db import utcnow
from tocsin.cyber import indicators as ioc
from tocsin.cyber import tlp
from tocsin.cyber.models import CyberAdvisoryVersion, CyberIndicator, CyberStixObject

NAMESPACE = uuid.UUID("6f0d3b7e-8f44-4c55-9b8e-1c2b6b0e7a11")
OWN = "tocsin-indicators"  # Tocsin's objects (read-only to partners)
EXCHANGE = "partner-exchange"  # partners' submissions (read and write)
IDENTITY_CREATED = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def stix_id(kind: str, key: str) -> str:
    """Return a stable STIX id for ``kind`` and a key unique within it."""
    return f"{kind}--{uuid.uuid5(NAMESPACE, f'{kind}:{key}')}"


IDENTITY_ID = stix_id("identity", "tocsin")


def identity() -> dict[str, Any]:
    """Tocsin's own identity, the ``created_by_ref`` of everything it writes."""
    return _json(stix2.Identity(
        id=IDENTITY_ID, name="Tocsin - cellule cyber", identity_class="organization",
        description="Cyber-threat desk of the Tocsin platform.",
        sectors=["government-national"], created=IDENTITY_CREATED, modified=IDENTITY_CREATED))


def _json(obj: Any) -> dict[str, Any]:
    return dict(json.loads(obj.serialize()))


def version_of(obj: dict[str, Any], date_added: dt.datetime) -> str:
    """TAXII 2.1 §3.6: an object's version is ``modified``, else ``created``, else date added."""
    return str(obj.get("modified") or obj.get("created") or format_time(date_added))


def format_time(value: dt.datetime) -> str:
    """Format a timestamp as TAXII and STIX write them (UTC, microseconds, Z)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_SCO: dict[str, tuple[type[Any], str]] = {
    "url": (stix2.URL, "value"), "domain": (stix2.DomainName, "value"),
    "ipv4": (stix2.IPv4Address, "value"), "ipv6": (stix2.IPv6Address, "value"),
    "email": (stix2.EmailAddress, "value"), "md5": (stix2.File, "MD5"),
    "sha1": (stix2.File, "SHA-1"), "sha256": (stix2.File, "SHA-256"),
}


def _observable(kind: str, value: str, marking: list[str]) -> Any:
    cls, field = _SCO[kind]
    if cls is stix2.File:
        return cls(hashes={field: value}, object_marking_refs=marking)
    return cls(value=value, object_marking_refs=marking)


def indicator_objects(row: CyberIndicator, now: dt.datetime) -> list[dict[str, Any]]:
    """Return the indicator, its observable and the observed-data of one indicator row."""
    level = row.tlp
    marking = [tlp.marking_id(level)]
    key = f"{row.kind}:{row.value}"
    created = min(row.created_at, now)
    modified = max(now, created)
    revoked = row.status == "false_positive"
    indicator = stix2.Indicator(
        id=stix_id("indicator", key), created=created, modified=modified,
        name=f"{row.kind} {row.value}"[:250],
        description=f"Seen in {row.count} report(s) to Tocsin between "
                    f"{format_time(row.first_seen_at)} and {format_time(row.last_seen_at)}.",
        indicator_types=["malicious-activity"], pattern_type="stix",
        pattern=ioc.stix_pattern(ioc.Indicator(row.kind, row.value)),
        valid_from=row.first_seen_at, created_by_ref=IDENTITY_ID, revoked=revoked,
        object_marking_refs=marking)
    observable = _observable(row.kind, row.value, marking)
    observed = stix2.ObservedData(
        id=stix_id("observed-data", key), created=created, modified=modified,
        first_observed=row.first_seen_at, last_observed=max(row.last_seen_at, row.first_seen_at),
        number_observed=max(1, min(row.count, 999_999_999)), object_refs=[observable.id],
        created_by_ref=IDENTITY_ID, object_marking_refs=marking)
    return [_json(indicator), _json(observable), _json(observed)]


def report_object(advisory_id: str, version: CyberAdvisoryVersion,
                  refs: list[str]) -> dict[str, Any]:
    """Return the STIX report of a published advisory version."""
    assert version.published_at is not None
    created = version.published_at
    text = (f"{version.summary}\n\nExposed: {version.exposed}\n\nWhat to do: {version.actions}")
    report = stix2.Report(
        id=stix_id("report", advisory_id), created=created, modified=created,
        name=version.title, description=text[:20000], published=version.published_at,
        report_types=["threat-report"], object_refs=refs or [IDENTITY_ID],
        created_by_ref=IDENTITY_ID, object_marking_refs=[tlp.marking_id(version.tlp)],
        labels=[f"severity-{version.severity}"])
    return _json(report)


def put(session: Session, *, collection: str, obj: dict[str, Any], level: str, share_with: str,
        source: str, now: dt.datetime | None = None) -> bool:
    """Store one object version; return False if that exact version was already stored."""
    now = now or utcnow()
    version = version_of(obj, now)
    exists = session.scalar(select(CyberStixObject.id).where(
        CyberStixObject.collection == collection, CyberStixObject.stix_id == obj["id"],
        CyberStixObject.version == version))
    if exists is not None:
        return False
    older = session.scalars(select(CyberStixObject).where(
        CyberStixObject.collection == collection, CyberStixObject.stix_id == obj["id"],
        CyberStixObject.is_latest.is_(True))).all()
    latest = True
    for row in older:
        if row.version > version:  # ISO timestamps of one format compare as strings
            latest = False
        else:
            row.is_latest = False
    session.add(CyberStixObject(
        collection=collection, stix_id=obj["id"], stix_type=obj["type"], version=version,
        is_latest=latest, tlp=level, share_with=share_with, source=source, date_added=now,
        body=obj))
    session.flush()
    return True


def remark(session: Session, *, stix_ids: list[str], level: str, share_with: str) -> None:
    """Give every stored version of these objects a new TLP (RED withdraws them from answers)."""
    session.execute(update(CyberStixObject).where(CyberStixObject.stix_id.in_(stix_ids))
                    .values(tlp=level, share_with=share_with))


def publish_indicator(session: Session, row: CyberIndicator,
                      now: dt.datetime | None = None) -> None:
    """Write the current state of a reviewed indicator to Tocsin's collection (never RED)."""
    now = now or utcnow()
    objects = indicator_objects(row, now)
    remark(session, stix_ids=[o["id"] for o in objects], level=row.tlp, share_with=row.share_with)
    if row.tlp == "red":
        return
    ensure_static(session, now)
    for obj in objects:
        put(session, collection=OWN, obj=obj, level=row.tlp, share_with=row.share_with,
            source="tocsin", now=now)


def ensure_static(session: Session, now: dt.datetime) -> None:
    """Make sure the identity and the shareable TLP marking-definitions are in the store."""
    put(session, collection=OWN, obj=identity(), level="clear", share_with="", source="tocsin",
        now=now)
    for level in ("clear", "green", "amber"):
        put(session, collection=OWN, obj=tlp.marking_object(level), level="clear", share_with="",
            source="tocsin", now=now)


def export_bundle(session: Session, *, partner: str | None) -> dict[str, Any]:
    """Return a bundle of the latest objects of Tocsin's collection ``partner`` may receive."""
    rows = session.scalars(
        select(CyberStixObject)
        .where(CyberStixObject.collection == OWN, CyberStixObject.is_latest.is_(True),
               tlp.visible_to(CyberStixObject.tlp, CyberStixObject.share_with, partner))
        .order_by(CyberStixObject.id)).all()
    objects = [row.body for row in rows]
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
