"""Permission dependencies: every route declares ``allow(...)`` roles or ``public()``.

The role-matrix test walks every route's dependencies looking for an ``Allow`` or ``Public``
instance; a route with neither fails the suite, so no endpoint is reachable by accident.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer

from tocsin.core.auth import service, sessions, totp
from tocsin.core.auth.roles import Role
from tocsin.core.db import utcnow
from tocsin.core.runtime import DbSession

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass(frozen=True)
class Principal:
    """Who is acting: an account (``role`` set) or an anonymous citizen (``role`` None)."""

    user_id: int | None
    username: str
    role: Role | None
    # The public id of the session (token) acting, for "this session" in the sessions list.
    session_id: str | None = None
    # True when the token may only enrol 2FA (the role requires it, the login did not use it).
    limited: bool = False

    @property
    def is_citizen(self) -> bool:
        return self.role is None


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


class Allow:
    """Admit only accounts whose role is listed; 401 without a valid token, 403 otherwise.

    Where an administrator requires 2FA for the caller's role and the token was not issued by a
    login with a second factor, only routes declared with ``enrolment=True`` (enrol, status,
    sessions, logout) admit it; every other route answers 403 saying what to do.
    """

    def __init__(self, *roles: Role, enrolment: bool = False) -> None:
        if not roles:
            raise ValueError("Allow() needs at least one role; use public() for open routes")
        self.roles = frozenset(roles)
        self.enrolment = enrolment

    def __call__(
        self,
        request: Request,
        db: DbSession,
        token: Annotated[str | None, Depends(oauth2_scheme)],
    ) -> Principal:
        if not token:
            raise _unauthorized("authentication required")
        now = utcnow()
        resolved = service.resolve_session(db, token, now=now)
        if resolved is None:
            raise _unauthorized("invalid or expired token")
        user = resolved.user
        role = Role(user.role)
        if role not in self.roles:
            allowed = ", ".join(sorted(r.value for r in self.roles))
            raise HTTPException(403, f"role {role.value!r} may not do this (allowed: {allowed})")
        if resolved.limited and not self.enrolment:
            if totp.active_totp(db, user.id) is None:
                raise HTTPException(
                    403, f"two-factor authentication is required for role {role.value!r}: "
                    "enrol it (POST /api/v1/auth/mfa/totp) before doing anything else"
                )
            raise HTTPException(
                403, f"two-factor authentication is required for role {role.value!r}: "
                "log in again with your code"
            )
        sessions.touch(request.app.state.runtime.sessions, resolved.access, now)
        principal = Principal(
            user_id=user.id,
            username=user.username,
            role=role,
            session_id=service.session_id(resolved.access.token_hash),
            limited=resolved.limited,
        )
        request.state.principal = principal
        return principal


class Public:
    """Admit anyone, including anonymous citizens; names them by a hashed device token if sent."""

    roles: frozenset[Role] | None = None

    def __call__(
        self,
        request: Request,
        device_token: Annotated[str | None, Header(alias="X-Device-Token", max_length=128)] = None,
    ) -> Principal:
        # Only a hash of the device token is ever kept, in audit entries and rate-limit keys.
        name = "citizen"
        if device_token:
            name = "citizen:" + hashlib.sha256(device_token.encode()).hexdigest()[:16]
        principal = Principal(user_id=None, username=name, role=None)
        request.state.principal = principal
        return principal


def allow(*roles: Role, enrolment: bool = False) -> Allow:
    """Return the dependency admitting ``roles`` (``enrolment``: also 2FA-pending tokens)."""
    return Allow(*roles, enrolment=enrolment)


def public() -> Public:
    """Return the dependency admitting everyone."""
    return Public()


ALL_ACCOUNT_ROLES = tuple(Role)
CurrentUser = Annotated[Principal, Depends(Allow(*ALL_ACCOUNT_ROLES))]
# Any account, including a token limited to 2FA enrolment (me, logout, own sessions).
SignedIn = Annotated[Principal, Depends(Allow(*ALL_ACCOUNT_ROLES, enrolment=True))]
OptionalDevice = Annotated[Principal, Depends(Public())]
