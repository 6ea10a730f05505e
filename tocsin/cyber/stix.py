"""STIX 2.1 objects of the desk, the store TAXII serves, export and import of bundles.

Tocsin's own objects are written to the store when they become shareable (an indicator confirmed,
an advisory published) and written again, as a new version, when they change; RED ones are never
written, and an object turned RED later has all its stored versions re-marked RED, so no answer
carries it again. Ids are UUIDv5 of stable keys, so the same indicator keeps the same STIX id.

Objects belong to their source (issue 19). A versioned object (an SDO, SRO, marking-definition:
it has ``created``) is owned by the source that first stored its id, in any collection: another
source's version of it is refused (``ForeignObject``), so no partner can revoke or rewrite what
another partner, or Tocsin, published. An unversioned object (an SCO: its id is derived from its
value, so two partners reporting the same domain share it) is stored per source, each with its
own versions, marking and audience; one source's copy never changes another's. Re-marking
(``remark``) touches only Tocsin's own objects in Tocsin's collection.
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


class ForeignObject(Exception):
    """A versioned object whose id another source already stored (objects belong to their
    source): the version is not stored."""

    MESSAGE = ("refused: this id belongs to another source (objects belong to the source that "
               "first stored them); give your object its own id")


def versioned(obj: dict[str, Any]) -> bool:
    """SDOs, SROs and marking-definitions carry ``created``; SCOs have no version of their own."""
    return "created" in obj or "modified" in obj


def owned_elsewhere(session: Session, stix_id: str, source: str) -> bool:
    """True if a source other than ``source`` stored ``stix_id`` in any collection."""
    return session.scalar(select(CyberStixObject.id).where(
        CyberStixObject.collection.in_((OWN, EXCHANGE)), CyberStixObject.stix_id == stix_id,
        CyberStixObject.source != source).limit(1)) is not None


def put(session: Session, *, collection: str, obj: dict[str, Any], level: str, share_with: str,
        source: str, now: dt.datetime | None = None) -> bool:
    """Store one object version; return False if that exact version was already stored.

    Raise ``ForeignObject`` for a versioned object whose id another source owns. The TLP 1.0
    marking-definitions predefined by STIX are everybody's: stored as the standard text.
    """
    now = now or utcnow()
    if obj.get("id") in tlp.BY_ID:
        obj = tlp.marking_object(tlp.BY_ID[obj["id"]])  # never a partner's variant of it
    elif versioned(obj) and owned_elsewhere(session, obj["id"], source):
        raise ForeignObject(obj["id"])
    version = version_of(obj, now)
    exists = session.scalar(select(CyberStixObject.id).where(
        CyberStixObject.collection == collection, CyberStixObject.stix_id == obj["id"],
        CyberStixObject.version == version))
    if exists is not None:
        return False
    older = session.scalars(select(CyberStixObject).where(  # this source's versions only
        CyberStixObject.collection == collection, CyberStixObject.stix_id == obj["id"],
        CyberStixObject.source == source, CyberStixObject.is_latest.is_(True))).all()
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
    """Give every stored version of these objects of Tocsin's a new TLP (RED withdraws them).

    Only Tocsin's own rows in Tocsin's collection: a partner's object with the same id (an SCO
    of the same value) keeps the partner's marking and audience (issue 19).
    """
    session.execute(update(CyberStixObject).where(
        CyberStixObject.collection == OWN, CyberStixObject.source == "tocsin",
        CyberStixObject.stix_id.in_(stix_ids)).values(tlp=level, share_with=share_with))


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
