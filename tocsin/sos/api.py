"""HTTP routes of the SOS domain: citizen intake and follow-up, dispatcher detail and replies.

The intake route is ``async``: a request waiting for its group commit holds no thread. The other
routes are plain functions (run in the thread pool) that commit before they answer.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from sqlalchemy.orm import Session

from tocsin.core.auth import Principal, Public, Role, allow
from tocsin.core.ratelimit import client_address
from tocsin.core.runtime import DbSession, Runtime
from tocsin.sos import service
from tocsin.sos.lifecycle import SosState
from tocsin.sos.limits import SosLimiter
from tocsin.sos.schemas import (
    FollowUpOut,
    MessageIn,
    MessageOut,
    Position,
    SosAck,
    SosDetail,
    SosIn,
    SosSummary,
)

router = APIRouter(prefix="/api/v1/sos", tags=["sos"])

Dispatcher = Annotated[Principal, Depends(allow(Role.dispatcher))]
FollowUpToken = Annotated[str | None, Header(alias="X-Follow-Up-Token", max_length=128)]


class Citizen(Public):
    """``public()`` as a coroutine: the intake path must not hop to a thread for it."""

    async def __call__(  # type: ignore[override]
        self,
        request: Request,
        device_token: Annotated[str | None, Header(alias="X-Device-Token", max_length=128)] = None,
    ) -> Principal:
        return super().__call__(request, device_token)


def _limiter(request: Request) -> SosLimiter:
    runtime: Runtime = request.app.state.runtime
    return runtime.state(SosState).limiter


def unavailable() -> HTTPException:
    """The 503 of an SOS not recorded: the phone retries with the same ``client_id``."""
    return HTTPException(
        503, "the SOS could not be recorded; retry now", headers={"Retry-After": "1"}
    )


@router.post(
    "",
    status_code=201,
    response_model=SosAck,
    dependencies=[Depends(Citizen())],
    responses={
        200: {"description": "A retry: the SOS with this client_id, already recorded"},
        429: {"description": "Too many requests from this device"},
        503: {"description": "Not recorded; retry with the same client_id"},
    },
)
async def post_sos(
    body: SosIn,
    request: Request,
    response: Response,
    device_token: Annotated[str | None, Header(alias="X-Device-Token", max_length=128)] = None,
) -> SosAck:
    """Record a silent SOS; answer only once it is durably committed (idempotent on client_id)."""
    address = client_address(request)
    ack, created = await accept(
        request.app.state.runtime, body, address=address, device_token=device_token
    )
    if not created:
        response.status_code = 200
    return ack


async def accept(
    runtime: Runtime, body: SosIn, *, address: str, device_token: str | None
) -> tuple[SosAck, bool]:
    """Limits, then the durable commit: the intake of ``post_sos`` and of ``tocsin.sos.fastpath``.

    Returns the acknowledgement and whether this request created the SOS (False: a retry);
    raises ``HTTPException`` 429 (limits) or 503 (not recorded).
    """
    state = runtime.state(SosState)
    state.limiter.check_intake(address=address, device_token=device_token,
                               client_id=body.client_id)
    batcher = state.batcher
    if batcher is None:  # the worker is stopping
        raise unavailable()
    try:
        with runtime.foreground.busy():
            ack = await batcher.submit(service.prepare(body))
    except Exception as exc:
        raise unavailable() from exc
    out = SosAck(id=ack.id, follow_up_token=ack.follow_up_token, received_at=ack.received_at)
    return out, ack.created


def _follow_up(request: Request, db: Session, sos_id: str, token: str | None) -> Any:
    """The SOS if ``token`` is its follow-up token, within the limits (see ``tocsin.sos.limits``).

    The token is checked before any budget is drawn: a wrong one counts against the client's
    address (403, then 429), a right one against its SOS, so an id alone cuts nobody off.
    """
    limiter = _limiter(request)
    try:
        sos = service.authorize_follow_up(db, sos_id=sos_id, token=token)
    except service.FollowUpDenied:
        limiter.count_wrong_token(address=client_address(request))
        raise
    limiter.check_follow_up(sos_id=sos.id)
    return sos


@router.get("/{sos_id}/follow-up", response_model=FollowUpOut, dependencies=[Depends(Public())])
def follow_up(
    sos_id: str, request: Request, db: DbSession, token: FollowUpToken = None
) -> FollowUpOut:
    """The citizen's view (follow-up token only): status and the chat with the dispatcher."""
    sos = _follow_up(request, db, sos_id, token)
    messages = service.list_messages(db, sos_id=sos.id)
    return FollowUpOut(id=sos.id, status=sos.status, messages=messages)


@router.post(
    "/{sos_id}/messages",
    status_code=201,
    response_model=MessageOut,
    dependencies=[Depends(Public())],
)
def citizen_message(
    sos_id: str, body: MessageIn, request: Request, db: DbSession, token: FollowUpToken = None
) -> MessageOut:
    """Send a short text to the dispatcher (follow-up token only)."""
    sos = _follow_up(request, db, sos_id, token)
    message = service.add_citizen_message(db, sos=sos, body=body.text)
    db.commit()
    return MessageOut(id=message.id, sender="citizen", text=message.body, at=message.at)


@router.post("/{sos_id}/positions", status_code=204, dependencies=[Depends(Public())])
def citizen_position(
    sos_id: str, body: Position, request: Request, db: DbSession, token: FollowUpToken = None
) -> Response:
    """Add a point to the trail (follow-up token only)."""
    sos = _follow_up(request, db, sos_id, token)
    service.add_position(db, sos=sos, lat=body.lat, lon=body.lon, accuracy_m=body.accuracy_m)
    db.commit()
    return Response(status_code=204)


@router.get("/{sos_id}", response_model=SosDetail)
def sos_detail(
    sos_id: str,
    db: DbSession,
    who: Dispatcher,
    reason: Annotated[str, Query(min_length=3, max_length=200)] = "handling the SOS",
) -> SosDetail:
    """Read an SOS with its text, trail and chat (dispatcher); the read is audited with a reason."""
    detail = service.read_sos_detail(db, sos_id=sos_id, actor=who, reason=reason)
    db.commit()
    return detail


@router.post("/{sos_id}/reply", status_code=201, response_model=MessageOut)
def dispatcher_reply(sos_id: str, body: MessageIn, db: DbSession, who: Dispatcher) -> MessageOut:
    """Send a silent reply to the citizen (dispatcher)."""
    message = service.post_dispatcher_message(db, sos_id=sos_id, actor=who, body=body.text)
    db.commit()
    return MessageOut(id=message.id, sender="dispatcher", text=message.body, at=message.at)


@router.post("/{sos_id}/close", response_model=SosSummary)
def close(sos_id: str, db: DbSession, who: Dispatcher) -> SosSummary:
    """Close the SOS (dispatcher): the chat stops and retention starts."""
    sos = service.close_sos(db, sos_id=sos_id, actor=who)
    db.commit()
    return service.summary(sos)
