"""The dispatcher console's live stream (Server-Sent Events) and its one-time ticket.

Why a ticket: the browser's ``EventSource`` cannot send an ``Authorization`` header, and putting
the dispatcher's 12-hour bearer token in a URL would leave it in proxy and server logs. The page
therefore asks ``POST /stream/ticket`` (bearer header) for a ticket and opens
``GET /stream?ticket=...``; a reconnect fetches a new ticket. A ticket (``tocsin.core.auth.
tickets``) opens this stream only, once, within 60 s, and only while the session that asked for
it is live: it is no bearer token (issue 19, finding 7). A cookie would also work but would make
every dispatch route cookie-authenticated and so open to CSRF. Tools that can send headers
(curl, tests) may use the bearer header directly.

While it runs, the stream re-checks its session every few seconds and before it sends anything
(``live_events``'s guard) and ends with a ``closed`` event once the session is revoked or
expired, the account deactivated, its role changed or a second factor newly required (issue
19, finding 6). Each stream takes a live slot of its address and its account
(``tocsin.core.live``), and its opening is audited as a sensitive read, naming the session and
what the stream carries (SOS positions and trail points): one entry per stream rather than one
per event, because an entry per event would add a write per SOS per console on the path the
SOS intake shares, during exactly the floods when consoles matter most; the entry and the SOS
table's own times say which positions the session saw. A stream ended by the check is audited
too.

A plain request that does not accept ``text/event-stream`` gets 406 instead of an endless
response (and keeps its ticket), so no client holds a connection by mistake.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent

from tocsin.core import audit
from tocsin.core.auth import Principal, Role, allow, tickets
from tocsin.core.auth.permissions import Allow, oauth2_scheme
from tocsin.core.auth.service import session_id
from tocsin.core.live import hub, live_events
from tocsin.core.ratelimit import client_address
from tocsin.core.runtime import AppRuntime, DbSession
from tocsin.dispatch import events
from tocsin.dispatch.schemas import TicketOut

log = logging.getLogger("tocsin.dispatch.stream")

# What a ticket is bound to: this stream and no other.
ROUTE = "dispatch.console"
# Seconds a stream may go on (or send) on the strength of its last session check.
RECHECK_SECONDS = 3.0
CARRIES = ("live console: SOS positions and trail points (sos.created, sos.position), chat and "
           "closing notices, incidents, assignments, unit positions")

router = APIRouter()


class StreamAllow(Allow):
    """``allow(...)`` that also takes a one-time ticket in the query (see the module docstring).

    Leaves the session's stored hash in ``request.state.stream_session`` for the stream's
    re-checks.
    """

    def __call__(  # type: ignore[override]
        self,
        request: Request,
        db: DbSession,
        token: Annotated[str | None, Depends(oauth2_scheme)],
        ticket: Annotated[str | None, Query(max_length=128)] = None,
    ) -> Principal:
        if token or not ticket:
            principal = super().__call__(request, db, token)
            session_hash = tickets.digest(token or "")
            _event_stream_only(request)
        else:
            _event_stream_only(request)  # before the ticket is spent
            principal, session_hash = self._redeem(request, db, ticket)
        db.commit()  # the ticket is spent; the stream holds no database session open
        request.state.stream_session = session_hash
        return principal

    def _redeem(self, request: Request, db: DbSession, ticket: str) -> tuple[Principal, str]:
        outcome = tickets.redeem(db, ticket, route=ROUTE, roles=self.roles)
        if isinstance(outcome, tickets.Refusal):
            db.commit()  # a ticket refused for its session's sake stays spent
            headers = {"WWW-Authenticate": "Bearer"} if outcome.status == 401 else None
            raise HTTPException(outcome.status, outcome.reason, headers=headers)
        user = outcome.user
        principal = Principal(user_id=user.id, username=user.username, role=Role(user.role),
                              session_id=session_id(outcome.session_hash))
        request.state.principal = principal
        return principal, outcome.session_hash


def _event_stream_only(request: Request) -> None:
    if "text/event-stream" not in request.headers.get("accept", ""):
        raise HTTPException(406, "this is an event stream: send Accept: text/event-stream")


ConsoleAllow = StreamAllow(Role.dispatcher)
Console = Annotated[Principal, Depends(ConsoleAllow)]


@router.post("/stream/ticket", response_model=TicketOut)
def stream_ticket(
    db: DbSession,
    who: Annotated[Principal, Depends(allow(Role.dispatcher))],
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> TicketOut:
    """Mint a one-time ticket, valid 60 s, to open the event stream (dispatcher)."""
    assert token is not None  # allow() admitted a bearer token
    ticket = tickets.issue(db, session_token=token, route=ROUTE)
    db.commit()
    return TicketOut(ticket=ticket, expires_in=int(tickets.TTL.total_seconds()))


def _audit(runtime: AppRuntime, who: Principal, action: str, reason: str) -> None:
    with runtime.sessions() as db:
        audit.record(db, actor=who, action=action, object_type="dispatch_stream",
                     object_id=who.session_id or "", reason=reason)
        db.commit()


async def _open(request: Request, runtime: AppRuntime, who: Console) -> AsyncIterator[None]:
    """Take the stream's live slot (address and account), then audit its opening."""
    account = f"user:{who.user_id}"
    with hub(runtime).admit(client_address(request), account=account):
        await run_in_threadpool(_audit, runtime, who, "read_sensitive", CARRIES)
        yield


@router.get("/stream", response_class=EventSourceResponse, dependencies=[Depends(_open)],
            responses={429: {"description": "Too many live connections (address or account)"},
                       503: {"description": "Too many live connections on this worker"}})
async def stream(
    request: Request, runtime: AppRuntime, who: Console
) -> AsyncIterator[ServerSentEvent]:
    """Live SOS, incidents, assignments and units for the console (dispatcher, SSE)."""
    session_hash: str = request.state.stream_session

    def check() -> str | None:
        if runtime.closing:  # the worker stops: the stream ends with it, no new session
            return "the server is stopping; reconnect"
        with runtime.sessions() as db:
            outcome = tickets.check_session(db, session_hash, ConsoleAllow.roles)
        if isinstance(outcome, tickets.Refusal):
            _audit(runtime, who, "stream_closed", outcome.reason)
            return outcome.reason
        return None

    async def guard() -> str | None:
        try:
            return await run_in_threadpool(check)
        except Exception:  # the database is away: a stream nobody can vouch for ends
            log.warning("could not check the session of a dispatch stream", exc_info=True)
            return "the session could not be checked; reconnect"

    async for item in live_events(runtime, events.CONSOLE_PATTERNS, guard=guard,
                                  recheck=RECHECK_SECONDS):
        yield item
