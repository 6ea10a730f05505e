"""``GET /api/v1/audit``: admins read the log (and that reading is itself audited)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tocsin.core.audit import service
from tocsin.core.audit.schemas import AuditEntryOut, AuditPage
from tocsin.core.auth.permissions import Principal, allow
from tocsin.core.auth.roles import Role
from tocsin.core.errors import Invalid
from tocsin.core.runtime import DbSession

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
def read_audit(
    db: DbSession,
    admin: Annotated[Principal, Depends(allow(Role.admin))],
    actor: Annotated[str | None, Query(max_length=80)] = None,
    action: Annotated[str | None, Query(max_length=60)] = None,
    object_type: Annotated[str | None, Query(max_length=60)] = None,
    object_id: Annotated[str | None, Query(max_length=80)] = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    q: Annotated[str | None, Query(max_length=80, description="words to find (any case) in "
                                   "the actor, action, object or reason")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditPage:
    """List audit entries, newest first, filtered by actor, action, object and period."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise Invalid(f"{name} must carry a time zone (e.g. 2026-11-13T21:00:00Z)")
    if since and until and until <= since:
        raise Invalid("until must be after since")
    total, entries = service.search(
        db,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
        q=q,
        limit=limit,
        offset=offset,
    )
    service.record(db, actor=admin, action="read_audit", object_type="audit_log", object_id="*")
    db.commit()
    return AuditPage(total=total, entries=[AuditEntryOut.model_validate(e) for e in entries])
