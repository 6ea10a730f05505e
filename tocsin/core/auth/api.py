"""Login (OAuth2 password flow), logout, and account administration."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from tocsin.core import audit
from tocsin.core.auth import service, totp
from tocsin.core.auth.permissions import Principal, SignedIn, allow, oauth2_scheme, public
from tocsin.core.auth.roles import Role
from tocsin.core.auth.schemas import MeOut, TokenOut, UserCreate, UserOut, UserPatch
from tocsin.core.ratelimit import RateLimit
from tocsin.core.runtime import AppRuntime, DbSession

router = APIRouter(prefix="/api/v1", tags=["auth"])
AdminUser = Annotated[Principal, Depends(allow(Role.admin))]


@router.post(
    "/auth/token",
    response_model=TokenOut,
    dependencies=[Depends(public()), Depends(RateLimit("login", "login_rate_per_minute"))],
)
def login(
    db: DbSession,
    runtime: AppRuntime,
    request: Request,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    otp: Annotated[str | None, Form(max_length=64)] = None,
) -> TokenOut:
    """Exchange a username and password for a bearer token (OAuth2 password flow).

    An account with two-factor authentication also sends ``otp``: the 6-digit code of its
    authenticator app, or one of its recovery codes. Without it the answer is 401 with the
    error code ``mfa_required`` (nothing issued); send the same form again with ``otp``.
    A token of ``scope`` ``mfa_enrolment`` (2FA required for the role, not yet enrolled) only
    opens the enrolment routes.
    """
    try:
        user = service.authenticate(db, username=username, password=password, otp=otp or None,
                                    allow_enrolment=True)
    except service.AuthFailed:
        db.commit()  # keep the failure count: it drives the lockout
        raise
    used_mfa = bool(otp) and totp.active_totp(db, user.id) is not None
    ttl = dt.timedelta(minutes=runtime.settings.token_ttl_minutes)
    token = service.issue_token(
        db, user=user, ttl=ttl, mfa=used_mfa, user_agent=request.headers.get("user-agent"),
        ip=request.client.host if request.client else None,
    )
    limited = not used_mfa and totp.role_requires_mfa(db, user.role)
    principal = Principal(user_id=user.id, username=user.username, role=Role(user.role))
    audit.record(db, actor=principal, action="login", object_type="account", object_id=user.id,
                 reason="with 2FA" if used_mfa else ("2FA enrolment only" if limited else ""))
    db.commit()
    return TokenOut(
        access_token=token, expires_at=dt.datetime.now(dt.UTC) + ttl, role=user.role,
        scope="mfa_enrolment" if limited else "full",
    )


@router.post("/auth/logout", status_code=204)
def logout(
    db: DbSession, user: SignedIn, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Response:
    """Revoke the token used for this request."""
    if token:
        service.revoke_token(db, token)
    db.commit()
    return Response(status_code=204)


@router.get("/auth/me", response_model=MeOut)
def me(user: SignedIn) -> MeOut:
    """Say who the token belongs to."""
    assert user.role is not None
    return MeOut(username=user.username, role=user.role)


@router.get("/users", response_model=list[UserOut])
def list_users(db: DbSession, admin: AdminUser) -> list[UserOut]:
    """List accounts (admin)."""
    return [UserOut.model_validate(u) for u in service.list_users(db)]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(db: DbSession, admin: AdminUser, body: UserCreate, request: Request) -> UserOut:
    """Create an account (admin); weak passwords, unknown roles and duplicates are refused."""
    user = service.create_user(db, username=body.username, password=body.password, role=body.role)
    audit.record(db, actor=admin, action="create_account", object_type="account",
                 object_id=user.username, reason=f"role {user.role}")
    db.commit()
    return UserOut.model_validate(user)


@router.patch("/users/{username}", response_model=UserOut)
def patch_user(db: DbSession, admin: AdminUser, username: str, body: UserPatch) -> UserOut:
    """Activate or deactivate an account (admin); deactivation revokes its tokens."""
    user = service.set_active(
        db, username=username, active=body.is_active, acting_user_id=admin.user_id
    )
    audit.record(db, actor=admin, action="activate_account" if body.is_active else
                 "deactivate_account", object_type="account", object_id=username)
    db.commit()
    return UserOut.model_validate(user)
