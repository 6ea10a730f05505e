"""The dispatcher console's live stream (Server-Sent Events) and its short-lived ticket.

Why a ticket: the browser's ``EventSource`` cannot send an ``Authorization`` header, and putting
the dispatcher's 12-hour bearer token in a URL would leave it in proxy and server logs. The page
therefore asks ``POST /stream/ticket`` (bearer header) for a ticket valid 60 seconds and usable
once, and opens ``GET /stream?ticket=...``; a reconnect fetches a new ticket. A cookie would also
work but would make every dispatch route cookie-authenticated and so open to CSRF. Tools that
can send headers (curl, tests) may use the bearer header directly.

A plain request that does not accept ``text/event-stream`` gets 406 instead of an endless
response, so no client holds a connection by mistake.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy import select

from tocsin.core.auth import Principal, Role, allow
from tocsin.core.auth import service as auth_service
from tocsin.core.auth.models import AccessToken, UserAccount
from tocsin.core.auth.permissions import Allow, oauth2_scheme
from tocsin.core.db import utcnow
from tocsin.core.live import live_events
from tocsin.core.runtime import AppRuntime, DbSession
from tocsin.dispatch import events
from tocsin.dispatch.schemas import TicketOut

TICKET_TTL = dt.timedelta(seconds=60)

router = APIRouter()


class StreamAllow(Allow):
    """``allow(...)`` that also takes a one-time ticket in the query (see the module docstring)."""

    def __call__(  # type: ignore[override]
        self,
        request: Request,
        db: DbSession,
        token: Annotated[str | None, Depends(oauth2_scheme)],
        ticket: Annotated[str | None, Query(max_length=128)] = None,
    ) -> Principal:
        if token or not ticket:
            principal = super().__call__(request, db, token)
        else:
            principal = self._redeem(request, db, ticket)
        db.commit()  # release the connection: the stream holds no database session open
        if "text/event-stream" not in request.headers.get("accept", ""):
            raise HTTPException(406, "this is an event stream: send Accept: text/event-stream")
        return principal

    def _redeem(self, request: Request, db: DbSession, ticket: str) -> Principal:
        digest = hashlib.sha256(ticket.encode()).hexdigest()
        row = db.execute(
            select(AccessToken, UserAccount)
            .join(UserAccount, UserAccount.id == AccessToken.user_id)
            .where(AccessToken.token_hash == digest)
        ).first()
        now = utcnow()
        # Only a ticket (a token minted for at most TICKET_TTL) is accepted in a URL; a full
        # bearer token pasted there is refused, never consumed.
        if (
            row is None or row[0].revoked_at is not None or row[0].expires_at <= now
            or row[0].expires_at - row[0].issued_at > TICKET_TTL or not row[1].is_active
        ):
            raise HTTPException(401, "invalid or expired stream ticket",
                                headers={"WWW-Authenticate": "Bearer"})
        access, user = row
        role = Role(user.role)
        if role not in self.roles:
            raise HTTPException(403, f"role {role.value!r} may not do this")
        access.revoked_at = now  # single use
        principal = Principal(user_id=user.id, username=user.username, role=role)
        request.state.principal = principal
        return principal


@router.post("/stream/ticket", response_model=TicketOut)
def stream_ticket(
    db: DbSession, who: Annotated[Principal, Depends(allow(Role.dispatcher))]
) -> TicketOut:
    """Mint a one-time ticket, valid 60 s, to open the event stream (dispatcher)."""
    user = db.get(UserAccount, who.user_id)
    assert user is not None
    ticket = auth_service.issue_token(db, user=user, ttl=TICKET_TTL)
    db.commit()
    return TicketOut(ticket=ticket, expires_in=int(TICKET_TTL.total_seconds()))


@router.get("/stream", response_class=EventSourceResponse)
async def stream(
    runtime: AppRuntime,
    who: Annotated[Principal, Depends(StreamAllow(Role.dispatcher))],
) -> AsyncIterator[ServerSentEvent]:
    """Live SOS, incidents, assignments and units for the console (dispatcher, SSE)."""
    async for item in live_events(runtime, events.CONSOLE_PATTERNS):
        yield item
