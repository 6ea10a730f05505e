"""Advisories: drafts, review by a second analyst, publication, revisions (every version kept).

Two-person rule: the analyst who wrote a version (its last editor) cannot approve it; a second
analyst must. A published advisory is revised by writing a new draft version, which goes through
review again while the published version stays visible. Publication queues
``cyber.advisory_published``; deliveries to subscribers happen after commit (``delivery``).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core import audit, outbox
from tocsin.core.auth import Principal
from tocsin.core.db import utcnow
from tocsin.core.errors import Conflict, Forbidden, Invalid, NotFound
from tocsin.cyber import events, stix
from tocsin.cyber.models import (
    CyberAdvisory,
    CyberAdvisoryVersion,
    CyberIncident,
    CyberIndicator,
)
from tocsin.cyber.schemas import AdvisoryIn, AdvisoryOut, AdvisoryVersionOut
from tocsin.cyber.statuses import IndicatorStatus


def _version(session: Session, advisory_id: str, number: int) -> CyberAdvisoryVersion:
    row = session.scalar(select(CyberAdvisoryVersion).where(
        CyberAdvisoryVersion.advisory_id == advisory_id, CyberAdvisoryVersion.version == number))
    assert row is not None
    return row


def _check_links(session: Session, data: AdvisoryIn) -> None:
    if data.incident_ids:
        known = set(session.scalars(select(CyberIncident.id)
                                    .where(CyberIncident.id.in_(data.incident_ids))))
        missing = sorted(set(data.incident_ids) - known)
        if missing:
            raise Invalid(f"unknown incidents: {', '.join(missing[:5])}")
    if data.indicator_ids:
        known_ids = set(session.scalars(select(CyberIndicator.id)
                                        .where(CyberIndicator.id.in_(data.indicator_ids))))
        gone = sorted(set(data.indicator_ids) - known_ids)
        if gone:
            raise Invalid(f"unknown indicators: {', '.join(map(str, gone[:5]))}")


def _fill(row: CyberAdvisoryVersion, data: AdvisoryIn, who: Principal) -> None:
    row.title, row.summary, row.exposed, row.actions = (
        data.title, data.summary, data.exposed, data.actions)
    row.severity, row.tlp = data.severity, data.tlp
    row.sectors, row.regions = sorted(set(data.sectors)), sorted(set(data.regions))
    row.incident_ids, row.indicator_ids = list(data.incident_ids), list(data.indicator_ids)
    row.author = who.username
    row.review_note = None


def get(session: Session, advisory_id: str) -> CyberAdvisory:
    row = session.get(CyberAdvisory, advisory_id)
    if row is None:
        raise NotFound(f"no advisory {advisory_id}")
    return row


def create(session: Session, *, who: Principal, data: AdvisoryIn,
           now: dt.datetime | None = None) -> CyberAdvisory:
    """Start a draft advisory (version 1)."""
    now = now or utcnow()
    _check_links(session, data)
    advisory = CyberAdvisory(id=uuid.uuid4().hex, state="draft", published_version=None,
                             draft_version=1, in_review=False, author=who.username,
                             created_at=now, updated_at=now)
    session.add(advisory)
    version = CyberAdvisoryVersion(advisory_id=advisory.id, version=1, created_at=now)
    _fill(version, data, who)
    session.add(version)
    session.flush()
    audit.record(session, actor=who, action="cyber.advisory_draft", object_type="cyber_advisory",
                 object_id=advisory.id)
    return advisory


def edit(session: Session, *, who: Principal, advisory_id: str, data: AdvisoryIn,
         now: dt.datetime | None = None) -> CyberAdvisory:
    """Edit the draft, or start a revision of a published advisory (a new version)."""
    now = now or utcnow()
    advisory = get(session, advisory_id)
    if advisory.in_review:
        raise Conflict("this version is in review; it must be approved or sent back first")
    _check_links(session, data)
    if advisory.draft_version is None:
        number = (advisory.published_version or 0) + 1
        version = CyberAdvisoryVersion(advisory_id=advisory.id, version=number, created_at=now)
        session.add(version)
        advisory.draft_version = number
    else:
        version = _version(session, advisory.id, advisory.draft_version)
    _fill(version, data, who)
    advisory.updated_at = now
    session.flush()
    audit.record(session, actor=who, action="cyber.advisory_edit", object_type="cyber_advisory",
                 object_id=advisory.id, reason=f"version {version.version}")
    return advisory


def submit(session: Session, *, who: Principal, advisory_id: str) -> CyberAdvisory:
    """Ask a second analyst to review the draft."""
    advisory = get(session, advisory_id)
    if advisory.draft_version is None:
        raise Conflict("nothing to review: no draft version")
    if advisory.in_review:
        raise Conflict("already in review")
    advisory.in_review = True
    advisory.updated_at = utcnow()
    audit.record(session, actor=who, action="cyber.advisory_submit", object_type="cyber_advisory",
                 object_id=advisory.id, reason=f"version {advisory.draft_version}")
    return advisory


def approve(session: Session, *, who: Principal, advisory_id: str, note: str | None = None,
            now: dt.datetime | None = None) -> CyberAdvisory:
    """Publish the version in review; its author may not be the one approving."""
    now = now or utcnow()
    advisory = get(session, advisory_id)
    if not advisory.in_review or advisory.draft_version is None:
        raise Conflict("no version is waiting for review")
    version = _version(session, advisory.id, advisory.draft_version)
    if version.author == who.username:
        raise Forbidden("the author of a version cannot approve it: a second analyst must")
    version.reviewer, version.review_note, version.published_at = who.username, note, now
    advisory.published_version, advisory.draft_version = version.version, None
    advisory.in_review, advisory.state, advisory.updated_at = False, "published", now
    advisory.first_published_at = advisory.first_published_at or now
    session.flush()
    _share(session, advisory.id, version)
    outbox.add_event(session, events.ADVISORY_PUBLISHED, events.AdvisoryPublished(
        id=advisory.id, version=version.version).model_dump())
    audit.record(session, actor=who, action="cyber.advisory_publish",
                 object_type="cyber_advisory", object_id=advisory.id,
                 reason=f"version {version.version}")
    return advisory


def _share(session: Session, advisory_id: str, version: CyberAdvisoryVersion) -> None:
    """Put the published version in Tocsin's TAXII collection as a STIX report."""
    refs: list[str] = []
    if version.indicator_ids:
        rows = session.scalars(select(CyberIndicator).where(
            CyberIndicator.id.in_(version.indicator_ids),
            CyberIndicator.status == IndicatorStatus.confirmed,
            CyberIndicator.tlp.in_(("clear", "green")))).all()
        refs = [stix.stix_id("indicator", f"{r.kind}:{r.value}") for r in rows]
    stix.ensure_static(session, version.published_at or utcnow())
    stix.put(session, collection=stix.OWN, obj=stix.report_object(advisory_id, version, refs),
             level=version.tlp, share_with="", source="tocsin")


def send_back(session: Session, *, who: Principal, advisory_id: str,
              note: str | None = None) -> CyberAdvisory:
    """Return the version in review to its author with a note."""
    advisory = get(session, advisory_id)
    if not advisory.in_review or advisory.draft_version is None:
        raise Conflict("no version is waiting for review")
    version = _version(session, advisory.id, advisory.draft_version)
    version.review_note = note
    advisory.in_review = False
    advisory.updated_at = utcnow()
    audit.record(session, actor=who, action="cyber.advisory_send_back",
                 object_type="cyber_advisory", object_id=advisory.id, reason=(note or "")[:200])
    return advisory


def version_out(row: CyberAdvisoryVersion) -> AdvisoryVersionOut:
    return AdvisoryVersionOut(
        version=row.version, title=row.title, summary=row.summary, exposed=row.exposed,
        actions=row.actions, severity=row.severity, tlp=row.tlp, sectors=row.sectors,
        regions=row.regions, incident_ids=row.incident_ids, indicator_ids=row.indicator_ids,
        author=row.author, reviewer=row.reviewer, review_note=row.review_note,
        created_at=row.created_at, published_at=row.published_at)


def out(session: Session, advisory: CyberAdvisory, *, with_draft: bool) -> AdvisoryOut:
    """Describe an advisory: its published version (else the draft) and, for staff, the draft."""
    current_no = advisory.published_version or advisory.draft_version
    assert current_no is not None
    draft = None
    if with_draft and advisory.draft_version is not None:
        draft = version_out(_version(session, advisory.id, advisory.draft_version))
    return AdvisoryOut(
        id=advisory.id, state=advisory.state, in_review=advisory.in_review,
        author=advisory.author, published_version=advisory.published_version,
        draft_version=advisory.draft_version, first_published_at=advisory.first_published_at,
        updated_at=advisory.updated_at,
        current=version_out(_version(session, advisory.id, current_no)), draft=draft)


def versions(session: Session, advisory_id: str) -> list[CyberAdvisoryVersion]:
    get(session, advisory_id)
    return list(session.scalars(select(CyberAdvisoryVersion)
                                .where(CyberAdvisoryVersion.advisory_id == advisory_id)
                                .order_by(CyberAdvisoryVersion.version)))


def listing(session: Session, *, published_only: bool, public_only: bool = False,
            limit: int = 100) -> list[tuple[CyberAdvisory, CyberAdvisoryVersion]]:
    """Return advisories with their current version, most recently updated first."""
    query = select(CyberAdvisory, CyberAdvisoryVersion).join(
        CyberAdvisoryVersion, CyberAdvisoryVersion.advisory_id == CyberAdvisory.id)
    if published_only:
        query = query.where(CyberAdvisoryVersion.version == CyberAdvisory.published_version)
    if public_only:
        query = query.where(CyberAdvisoryVersion.tlp == "clear")
    rows = session.execute(query.order_by(CyberAdvisory.updated_at.desc())).all()
    seen: dict[str, tuple[CyberAdvisory, CyberAdvisoryVersion]] = {}
    for advisory, version in rows:
        wanted = advisory.published_version or advisory.draft_version
        if version.version == wanted:
            seen.setdefault(advisory.id, (advisory, version))
    return list(seen.values())[:limit]
