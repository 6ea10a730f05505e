"""HTTP routes of the cyber desk: reports, indicators, advisories, subscriptions, STIX, feeds.

The TAXII 2.1 server lives in ``taxii_api`` (its own error shape); both are mounted by the
``router`` below. Analysts work the desk; organisations report (or anyone, anonymously, with a
contact) and subscribe; the public reads TLP:CLEAR advisories and their Atom feed.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tocsin.core import audit
from tocsin.core.auth import Principal, Role, allow, public
from tocsin.core.auth import service as auth_service
from tocsin.core.db import utcnow
from tocsin.core.errors import Invalid
from tocsin.core.ratelimit import RateLimit
from tocsin.core.runtime import AppRuntime, DbSession
from tocsin.cyber import advisories, delivery, exchange, feed, intel, reports, stix, taxii_api
from tocsin.cyber import evidence as ev
from tocsin.cyber.lifecycle import CyberState
from tocsin.cyber.models import CyberTaxiiStatus
from tocsin.cyber.schemas import (
    AdvisoryIn,
    AdvisoryOut,
    AdvisoryVersionOut,
    ImportResult,
    IncidentCreated,
    IncidentDetail,
    IncidentIn,
    IncidentOut,
    IncidentPatch,
    IndicatorIn,
    IndicatorOut,
    IndicatorPatch,
    PublicAdvisoryOut,
    ReviewIn,
    SubscriptionIn,
    SubscriptionOut,
)

desk = APIRouter(prefix="/api/v1/cyber", tags=["cyber"])
Analyst = Annotated[Principal, Depends(allow(Role.analyst))]
Organisation = Annotated[Principal, Depends(allow(Role.organisation))]
Reason = Annotated[str, Query(min_length=3, max_length=300,
                              description="why this sensitive read is needed (audited)")]


def _invalid(exc: ValidationError) -> Invalid:
    details = [{"location": "report." + ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
               for e in exc.errors()]
    first = details[0]
    return Invalid(f"invalid input at {first['location']}: {first['message']}", details=details)


async def incident_input(request: Request) -> tuple[IncidentIn, list[ev.CheckedFile]]:
    """Read a report as JSON, or as multipart (``report`` JSON field + ``evidence`` files)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    files: list[ev.CheckedFile] = []
    if ctype == "application/json":
        text = (await request.body()).decode("utf-8", errors="replace")
    elif ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        async with request.form(max_files=ev.MAX_FILES + 1, max_fields=10) as form:
            report = form.get("report")
            if not isinstance(report, str):
                raise Invalid("multipart report needs a 'report' field holding the JSON report")
            text = report
            uploads = [f for f in form.getlist("evidence") if not isinstance(f, str)]
            if len(uploads) > ev.MAX_FILES:
                raise Invalid(f"at most {ev.MAX_FILES} evidence files")
            for upload in uploads:
                data = await upload.read(ev.MAX_FILE_BYTES + 1)
                files.append(ev.check(upload.filename or "file", upload.content_type, data))
    else:
        raise HTTPException(415, "send the report as application/json or multipart/form-data")
    try:
        return IncidentIn.model_validate_json(text), files
    except ValidationError as exc:
        raise _invalid(exc) from None


def _reporter(request: Request, db: DbSession) -> str | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    user = auth_service.resolve_token(db, header[7:].strip())
    if user is None:
        raise HTTPException(401, "invalid or expired token", headers={"WWW-Authenticate": "Bearer"})
    if user.role != Role.organisation.value:
        raise HTTPException(403, "only organisation accounts report under their name; "
                                 "report without a token to stay anonymous")
    return user.username


@desk.post("/incidents", status_code=201, response_model=IncidentCreated,
           dependencies=[Depends(public()), Depends(RateLimit("cyber_report", 20))])
def report_incident(
    request: Request, db: DbSession,
    body: Annotated[tuple[IncidentIn, list[ev.CheckedFile]], Depends(incident_input)],
) -> IncidentCreated:
    """Report an incident (organisation token, or anonymous with a contact); evidence files
    are checked against their magic bytes and sealed; indicators are extracted."""
    data, files = body
    reporter = _reporter(request, db)
    incident = reports.create(db, data=data, reporter=reporter, files=files)
    db.commit()
    sightings = reports.indicator_count(db, incident.id)
    return IncidentCreated(id=incident.id, received_at=incident.created_at,
                           indicators=sightings, evidence=len(files))


@desk.get("/incidents", response_model=list[IncidentOut])
def list_incidents(
    db: DbSession, who: Analyst,
    status: Annotated[str | None, Query(pattern="^(new|triaged|closed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[IncidentOut]:
    """List reports, newest first (no sealed field)."""
    return [reports.summary(db, r) for r in reports.listing(db, status=status, limit=limit,
                                                            offset=offset)]


@desk.get("/incidents/mine", response_model=list[IncidentOut])
def my_incidents(db: DbSession, who: Organisation) -> list[IncidentOut]:
    """The reports this organisation made."""
    return [reports.summary(db, r) for r in reports.listing(db, reporter=who.username)]


@desk.get("/incidents/{incident_id}", response_model=IncidentDetail)
def incident_detail(incident_id: str, reason: Reason, db: DbSession,
                    who: Analyst) -> IncidentDetail:
    """Open one report, its text and contact (audited, with the reason)."""
    out = reports.detail(db, who=who, incident_id=incident_id[:32], reason=reason)
    db.commit()
    return out


@desk.patch("/incidents/{incident_id}", response_model=IncidentOut)
def patch_incident(incident_id: str, body: IncidentPatch, db: DbSession,
                   who: Analyst) -> IncidentOut:
    """Triage or close a report."""
    row = reports.set_status(db, who=who, incident_id=incident_id[:32], status=body.status)
    db.commit()
    return reports.summary(db, row)


@desk.get("/incidents/{incident_id}/evidence/{evidence_id}",
          responses={200: {"content": {"application/octet-stream": {}}}})
def evidence_file(incident_id: str, evidence_id: int, reason: Reason, db: DbSession,
                  who: Analyst) -> Response:
    """Download one evidence file (audited); always as an attachment, never rendered."""
    row = reports.read_evidence(db, who=who, incident_id=incident_id[:32],
                                evidence_id=evidence_id, reason=reason)
    data, media_type, name = row.data, row.media_type, row.filename
    db.commit()
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store"})


@desk.get("/indicators", response_model=list[IndicatorOut])
def list_indicators(
    db: DbSession, who: Analyst,
    kind: Annotated[str | None, Query(max_length=10)] = None,
    status: Annotated[str | None, Query(pattern="^(new|confirmed|false_positive)$")] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[IndicatorOut]:
    """Indicators, most seen first; ``q`` accepts defanged text."""
    rows = intel.listing(db, kind=kind, status=status, q=q, limit=limit, offset=offset)
    return [intel.out(r) for r in rows]


@desk.post("/indicators", status_code=201, response_model=IndicatorOut)
def add_indicator(body: IndicatorIn, db: DbSession, who: Analyst) -> IndicatorOut:
    """Enter an indicator (defanged accepted, invalid refused); a known one is counted again."""
    row = intel.add(db, who=who, data=body)
    db.commit()
    return intel.out(row)


@desk.patch("/indicators/{indicator_id}", response_model=IndicatorOut)
def review_indicator(indicator_id: int, body: IndicatorPatch, db: DbSession,
                     who: Analyst) -> IndicatorOut:
    """Confirm, mark false positive, or change TLP and named partners."""
    row = intel.review(db, who=who, indicator_id=indicator_id, data=body)
    db.commit()
    return intel.out(row)


@desk.post("/advisories", status_code=201, response_model=AdvisoryOut)
def draft_advisory(body: AdvisoryIn, db: DbSession, who: Analyst) -> AdvisoryOut:
    """Start a draft advisory."""
    row = advisories.create(db, who=who, data=body)
    db.commit()
    return advisories.out(db, row, with_draft=True)


@desk.get("/advisories", response_model=list[AdvisoryOut])
def staff_advisories(db: DbSession, who: Analyst) -> list[AdvisoryOut]:
    """Every advisory, drafts included."""
    return [advisories.out(db, a, with_draft=True)
            for a, _ in advisories.listing(db, published_only=False)]


@desk.get("/advisories/{advisory_id}", response_model=AdvisoryOut)
def staff_advisory(advisory_id: str, db: DbSession, who: Analyst) -> AdvisoryOut:
    return advisories.out(db, advisories.get(db, advisory_id[:32]), with_draft=True)


@desk.put("/advisories/{advisory_id}", response_model=AdvisoryOut)
def edit_advisory(advisory_id: str, body: AdvisoryIn, db: DbSession, who: Analyst) -> AdvisoryOut:
    """Edit the draft; on a published advisory, start a revision (a new version)."""
    row = advisories.edit(db, who=who, advisory_id=advisory_id[:32], data=body)
    db.commit()
    return advisories.out(db, row, with_draft=True)


@desk.post("/advisories/{advisory_id}/submit", response_model=AdvisoryOut)
def submit_advisory(advisory_id: str, db: DbSession, who: Analyst) -> AdvisoryOut:
    """Send the draft to review by a second analyst."""
    row = advisories.submit(db, who=who, advisory_id=advisory_id[:32])
    db.commit()
    return advisories.out(db, row, with_draft=True)


@desk.post("/advisories/{advisory_id}/approve", response_model=AdvisoryOut)
def approve_advisory(advisory_id: str, body: ReviewIn, db: DbSession,
                     who: Analyst) -> AdvisoryOut:
    """Approve and publish (not by the version's author)."""
    row = advisories.approve(db, who=who, advisory_id=advisory_id[:32], note=body.note)
    db.commit()
    return advisories.out(db, row, with_draft=True)


@desk.post("/advisories/{advisory_id}/send-back", response_model=AdvisoryOut)
def send_back_advisory(advisory_id: str, body: ReviewIn, db: DbSession,
                       who: Analyst) -> AdvisoryOut:
    """Return the version in review to its author, with a note."""
    row = advisories.send_back(db, who=who, advisory_id=advisory_id[:32], note=body.note)
    db.commit()
    return advisories.out(db, row, with_draft=True)


@desk.get("/advisories/{advisory_id}/versions", response_model=list[AdvisoryVersionOut])
def advisory_versions(advisory_id: str, db: DbSession, who: Analyst) -> list[AdvisoryVersionOut]:
    """Every version of an advisory, oldest first."""
    return [advisories.version_out(v) for v in advisories.versions(db, advisory_id[:32])]


@desk.get("/public/advisories", response_model=list[PublicAdvisoryOut],
          dependencies=[Depends(public())])
def public_advisories(db: DbSession) -> list[PublicAdvisoryOut]:
    """Published TLP:CLEAR advisories, latest version of each (no staff names)."""
    return [PublicAdvisoryOut(
        id=a.id, state=a.state, version=v.version, title=v.title, summary=v.summary,
        exposed=v.exposed, actions=v.actions, severity=v.severity, sectors=v.sectors,
        regions=v.regions, published_at=v.published_at, first_published_at=a.first_published_at)
        for a, v in advisories.listing(db, published_only=True, public_only=True)]


@desk.post("/subscriptions", status_code=201, response_model=SubscriptionOut)
def subscribe(
    body: SubscriptionIn, db: DbSession, who: Organisation, runtime: AppRuntime
) -> SubscriptionOut:
    """Receive advisories for these sectors and regions (empty: all) by e-mail and/or push."""
    push_hosts = runtime.state(CyberState).sender.settings.push_hosts
    row = delivery.subscribe(db, who=who, data=body, push_hosts=push_hosts)
    db.commit()
    return delivery.out(row)


@desk.get("/subscriptions", response_model=list[SubscriptionOut])
def my_subscriptions(db: DbSession, who: Organisation) -> list[SubscriptionOut]:
    return [delivery.out(r) for r in delivery.mine(db, who.username)]


@desk.delete("/subscriptions/{subscription_id}", status_code=204)
def unsubscribe(subscription_id: str, db: DbSession, who: Organisation) -> Response:
    delivery.unsubscribe(db, who=who, subscription_id=subscription_id[:32])
    db.commit()
    return Response(status_code=204)


@desk.get("/stix/export", responses={200: {"content": {"application/stix+json": {}}}})
def stix_export(
    db: DbSession, who: Analyst,
    partner: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """A STIX 2.1 bundle of what ``partner`` may receive (no partner: every partner's share);
    TLP:RED is never in it."""
    bundle = stix.export_bundle(db, partner=partner or "")
    audit.record(db, actor=who, action="cyber.stix_export", object_type="stix_bundle",
                 object_id=bundle["id"], reason=f"for {partner or 'all partners'}")
    db.commit()
    # ASCII with escapes: a string no UTF-8 can carry (a lone surrogate) cannot break it.
    return Response(json.dumps(bundle), media_type="application/stix+json;version=2.1")


async def _raw(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit():
        exchange.check_size(int(declared))
    raw = await request.body()
    exchange.check_size(len(raw))
    return raw


@desk.post("/stix/import", response_model=ImportResult)
async def stix_import(
    db: DbSession, who: Analyst, runtime: AppRuntime, raw: Annotated[bytes, Depends(_raw)],
    source: Annotated[str, Query(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")],
) -> ImportResult:
    """Import a partner's bundle received out of band; invalid STIX is refused whole.

    Validation in the process pool, storage in short transactions (as TAXII add-objects)."""
    requested_at = utcnow()
    checked = await runtime.offload.run(exchange.STIX_LANE, exchange.check_bundle, raw, source)

    def audited(session: Session, status: CyberTaxiiStatus) -> None:
        audit.record(session, actor=who, action="cyber.stix_import", object_type="stix_bundle",
                     object_id=status.id, reason=f"from {source}")

    status = await run_in_threadpool(
        taxii_api.store_bundle, db, checked, source=source, collection=stix.EXCHANGE,
        requested_at=requested_at, finish=audited)
    # Refused (another source's id) is final and listed as skipped; "not stored" is a stop.
    stopped = [f for f in status["failures"] if not f["message"].startswith("refused")]
    if stopped:
        raise exchange.ImportInterrupted(
            f"{len(stopped)} of {status['total_count']} objects not stored "
            f"({stopped[0]['message']})", details=status["failures"][:50])
    stored = [s for s in status["successes"] if s["message"] == "stored"]
    return ImportResult(stored=len(stored), indicators=sum(
        1 for s in stored if str(s["id"]).startswith("indicator--")), skipped=[
        str(s["id"]) for s in status["successes"] if s["message"] != "stored"] + [
        str(f["id"]) for f in status["failures"]])


feeds = APIRouter(tags=["cyber"])


@feeds.get("/cyber/advisories.atom", dependencies=[Depends(public())],
           responses={200: {"content": {"application/atom+xml": {}}}})
def advisories_atom(db: DbSession, runtime: AppRuntime) -> Response:
    """Atom feed of the public advisories."""
    rows = advisories.listing(db, published_only=True, public_only=True, limit=50)
    body = feed.atom(rows, base_url=runtime.settings.base_url, now=utcnow())
    return Response(body, media_type="application/atom+xml",
                    headers={"Cache-Control": "public, max-age=60"})


router = APIRouter()
router.include_router(desk)
router.include_router(feeds)
router.include_router(taxii_api.router)
