"""Stream tickets: one live stream, opened once, within a minute, by a live session.

A browser's ``EventSource`` cannot send an ``Authorization`` header, so a page asks for a
ticket (with its bearer header) and puts the ticket in the stream's URL. A ticket used to be a
60-second bearer token (issue 19, finding 7): it opened every route of its role, could mint the
next ticket after its session had ended, and was listed nowhere. Now it is its own row:

- bound to its parent session (``session_hash``) and to one route;
- redeemable once (``used_at``), within ``TTL`` of its issue;
- dead as soon as its session is revoked or expired, its account off, its role no longer
  admitted, or a second factor required that the session's login did not pass;
- never a bearer token: ``Allow`` reads only ``access_token``, so a ticket sent as one is 401.

The stream it opens keeps the parent session's hash and re-checks it with :func:`check_session`
while it runs (``tocsin.dispatch.stream``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.core.auth.models import AccessToken, MfaRolePolicy, UserAccount
from tocsin.core.auth.roles import Role
from tocsin.core.db import Base, UTCDateTime, utcnow

TTL = dt.timedelta(seconds=60)


class StreamTicket(Base):
    """A one-time ticket to open one stream; only its SHA-256 is stored."""

    __tablename__ = "stream_ticket"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The session that asked for it: the ticket goes with it (revocation, purge).
    session_hash: Mapped[str] = mapped_column(
        ForeignKey("access_token.token_hash", ondelete="CASCADE"), index=True
    )
    route: Mapped[str] = mapped_column(String(120))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


def digest(secret: str) -> str:
    """The SHA-256 under which a token or a ticket is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Refusal:
    """Why a session no longer admits a stream: 401 (no session) or 403 (not allowed)."""

    status: int
    reason: str


@dataclass(frozen=True)
class Admitted:
    """A live session that admits the stream: its account and its hash."""

    user: UserAccount
    session_hash: str


def check_session(
    db: Session, session_hash: str, roles: frozenset[Role], *, now: dt.datetime | None = None
) -> Admitted | Refusal:
    """Whether the session ``session_hash`` may hold a stream for ``roles`` now.

    The checks of ``Allow`` on a bearer token, made on the stored hash: live (not revoked, not
    expired, not purged), account active, role among ``roles``, and the second factor passed
    at login if an administrator requires it for the role.
    """
    now = now or utcnow()
    row = db.execute(
        select(AccessToken, UserAccount, MfaRolePolicy.required)
        .join(UserAccount, UserAccount.id == AccessToken.user_id)
        .outerjoin(MfaRolePolicy, MfaRolePolicy.role == UserAccount.role)
        .where(AccessToken.token_hash == session_hash)
    ).first()
    if row is None:
        return Refusal(401, "the session has ended")
    access, user, required = row
    if access.revoked_at is not None or access.expires_at <= now:
        return Refusal(401, "the session has ended")
    if not user.is_active:
        return Refusal(401, "the account is deactivated")
    if Role(user.role) not in roles:
        return Refusal(403, f"role {user.role!r} may not open this stream")
    if required and not access.mfa:
        return Refusal(403, f"two-factor authentication is required for role {user.role!r}: "
                            "log in again with your code")
    return Admitted(user=user, session_hash=session_hash)


def issue(
    db: Session, *, session_token: str, route: str, now: dt.datetime | None = None
) -> str:
    """Mint a ticket for ``route`` on behalf of the session ``session_token``; return it.

    The caller has already admitted the session (``Allow``); the ticket is added to ``db``
    (the caller commits).
    """
    now = now or utcnow()
    ticket = secrets.token_urlsafe(32)
    db.add(StreamTicket(ticket_hash=digest(ticket), session_hash=digest(session_token),
                        route=route[:120], issued_at=now, expires_at=now + TTL))
    return ticket


def redeem(
    db: Session, ticket: str, *, route: str, roles: frozenset[Role],
    now: dt.datetime | None = None,
) -> Admitted | Refusal:
    """Spend ``ticket`` for ``route``: its session if it admits the stream, else why not.

    Spent in one conditional update, so two requests racing with one ticket get one stream.
    A ticket refused for its session's sake is spent too: it could not become good again.
    """
    now = now or utcnow()
    if not ticket or len(ticket) > 128:
        return Refusal(401, "invalid or expired stream ticket")
    hashed = digest(ticket)
    session_hash = db.scalar(
        update(StreamTicket)
        .where(StreamTicket.ticket_hash == hashed, StreamTicket.used_at.is_(None),
               StreamTicket.expires_at > now, StreamTicket.route == route)
        .values(used_at=now)
        .returning(StreamTicket.session_hash)
    )
    if session_hash is None:
        return Refusal(401, "invalid or expired stream ticket")
    return check_session(db, session_hash, roles, now=now)
