"""HTTP routes of the safety check. Authorities activate and count; anyone marks and looks up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from tocsin.core.auth import Principal, Role, allow, public
from tocsin.core.db import utcnow
from tocsin.core.ratelimit import RateLimit
from tocsin.core.runtime import DbSession
from tocsin.safety import service
from tocsin.safety.models import SafetyCheck
from tocsin.safety.schemas import (
    CheckIn,
    CheckOut,
    CodeLookupOut,
    ContactLookupIn,
    ContactLookupOut,
    ContactMatch,
    CountsOut,
    MarkIn,
    MarkOut,
)

router = APIRouter(prefix="/api/v1/safety", tags=["safety"])

Authority = Annotated[Principal, Depends(allow(Role.authority, Role.admin))]
Counter = Annotated[Principal, Depends(allow(Role.authority, Role.dispatcher, Role.admin))]


def _out(check: SafetyCheck) -> CheckOut:
    return CheckOut(id=check.id, name=check.name, area=check.area, starts_at=check.starts_at,
                    ends_at=check.ends_at, active=service.is_active(check, utcnow()),
                    approved=check.approved_by is not None)


@router.post("/checks", status_code=201, response_model=CheckOut)
def propose(body: CheckIn, who: Authority, db: DbSession) -> CheckOut:
    """Propose a safety check over an area and a time window; another authority approves it."""
    check = service.create_check(db, data=body, actor=who)
    db.commit()
    return _out(check)


@router.get("/checks/pending", response_model=list[CheckOut])
def list_pending(who: Authority, db: DbSession) -> list[CheckOut]:
    """List the safety checks awaiting a second authority."""
    return [_out(c) for c in service.pending_checks(db)]


@router.post("/checks/{check_id}/approve", response_model=CheckOut)
def approve(check_id: int, who: Authority, db: DbSession) -> CheckOut:
    """Approve a proposed safety check (not its author): it is listed and takes marks."""
    check = service.approve_check(db, check_id=check_id, actor=who)
    db.commit()
    return _out(check)


@router.get("/checks", response_model=list[CheckOut], dependencies=[Depends(public())])
def list_active(db: DbSession) -> list[CheckOut]:
    """List the safety checks open now."""
    return [_out(c) for c in service.active_checks(db)]


@router.post("/checks/{check_id}/end", response_model=CheckOut)
def end(check_id: int, who: Authority, db: DbSession) -> CheckOut:
    """Close a safety check now."""
    check = service.end_check(db, check_id=check_id, actor=who)
    db.commit()
    return _out(check)


@router.get("/checks/{check_id}/counts", response_model=CountsOut)
def counts(check_id: int, who: Counter, db: DbSession) -> CountsOut:
    """Live counts of safe / need-help marks, overall and per map cell."""
    return CountsOut(**service.counts(db, check_id=check_id, actor=who))


@router.post("/marks", status_code=201, response_model=MarkOut,
             dependencies=[Depends(public()), Depends(RateLimit("safety.mark", 30, devices=20))])
def post_mark(
    body: MarkIn,
    db: DbSession,
    device_token: Annotated[str | None, Header(alias="X-Device-Token", max_length=128)] = None,
) -> MarkOut:
    """Mark yourself safe, or in need of help; answers the code to give your relatives."""
    record = service.mark(db, data=body, device_token=device_token)
    db.commit()
    return MarkOut(code=record.code, status=record.status, marked_at=record.marked_at,
                   expires_at=record.expires_at)


@router.get("/lookup", response_model=CodeLookupOut,
            dependencies=[Depends(public()), Depends(RateLimit("safety.lookup", 30))])
def lookup(
    db: DbSession,
    code: Annotated[str, Query(min_length=4, max_length=20, pattern=r"^[A-Za-z0-9 -]+$")],
) -> CodeLookupOut:
    """Look a mark up by the code its author shared: status, time, message to relatives."""
    record = service.lookup_code(db, code=code)
    return CodeLookupOut(status=record.status, marked_at=record.marked_at, message=record.message)


@router.post("/lookup", response_model=ContactLookupOut,
             dependencies=[Depends(public()), Depends(RateLimit("safety.lookup", 30))])
def lookup_by_contact(body: ContactLookupIn, db: DbSession) -> ContactLookupOut:
    """Look someone up by a name and a phone number you already know: status and time only."""
    marks = service.lookup_contact(db, name=body.name, phone=body.phone, check_id=body.check_id)
    return ContactLookupOut(
        results=[ContactMatch(status=m.status, marked_at=m.marked_at) for m in marks]
    )
