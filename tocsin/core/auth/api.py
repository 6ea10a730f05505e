"""Login (OAuth2 password flow), logout, passwords, and account administration.

Every check of a password or code goes through the sign-in throttle (``throttle.Guard``):
failures are slowed down by address and by name, never by locking the account.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from sqlalchemy import select

from tocsin.core import audit
from tocsin.core.auth import passwords, service, totp
from tocsin.core.auth.models import AccessToken, UserAccount
from tocsin.core.auth.permissions import Principal, SignedIn, allow, oauth2_scheme, public
from tocsin.core.auth.roles import Role
from tocsin.core.auth.schemas import (
    MeOut,
    PasswordChangeIn,
    PasswordResetIn,
    ResetCodeOut,
    TokenOut,
    UserCreate,
    UserOut,
    UserPatch,
)
from tocsin.core.auth.throttle import Guard
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
    guard = Guard(request)
    guard.check(username, known=lambda: _signed_in_from(db, username, guard.address))
    try:
        user = service.authenticate(db, username=username, password=password, otp=otp or None,
                                    allow_enrolment=True)
    except service.MfaRequired:
        raise  # the right password, the code still to come: nothing failed yet
    except service.AuthFailed:
        guard.failed(username)
        raise
    guard.succeeded(username)
    used_mfa = bool(otp) and totp.active_totp(db, user.id) is not None
    ttl = dt.timedelta(minutes=runtime.settings.token_ttl_minutes)
    token = service.issue_token(
        db, user=user, ttl=ttl, mfa=used_mfa, user_agent=request.headers.get("user-agent"),
        ip=guard.address,
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


def _signed_in_from(db: DbSession, username: str, address: str) -> bool:
    """Whether a session of this account was ever opened from ``address`` (its tokens keep
    the address until they are purged): the owner's usual place stays open under a flood."""
    return db.scalar(
        select(AccessToken.token_hash).join(UserAccount, UserAccount.id == AccessToken.user_id)
        .where(UserAccount.username == username, AccessToken.ip == address[:45]).limit(1)
    ) is not None


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


@router.post("/auth/password", status_code=204)
def change_password(
    db: DbSession, who: SignedIn, body: PasswordChangeIn, request: Request
) -> Response:
    """Change your password: the current one (and your 2FA code, where enrolled) proves it is
    you; the new one meets the password rules. Every other session of yours is revoked.

    A wrong current password or code answers 403 (``wrong_password``, or ``mfa_required``
    when the code is missing) and counts in the sign-in throttle like a failed login.
    """
    user = db.get(UserAccount, who.user_id)
    assert user is not None  # the token was just resolved to this account
    guard = Guard(request)
    guard.check(who.username)
    try:
        revoked = passwords.change_password(
            db, user=user, current=body.current_password, new=body.new_password,
            otp=body.otp, keep_session=who.session_id,
        )
    except passwords.WrongCredential:
        db.rollback()
        guard.failed(who.username)
        raise
    guard.succeeded(who.username)
    audit.record(db, actor=who, action="password_changed", object_type="account",
                 object_id=user.username, reason=f"{revoked} other sessions revoked")
    db.commit()
    return Response(status_code=204)


@router.post("/users/{username}/password/reset", response_model=ResetCodeOut)
def reset_password(db: DbSession, admin: AdminUser, username: str) -> ResetCodeOut:
    """Reset an account's password (admin): the old one stops working, every session is
    revoked, and the answer carries a one-time code (24 h) with which the person chooses a new
    password (``POST /api/v1/auth/password/reset``). You never learn their password."""
    user, code, expires = passwords.issue_reset(db, username=username, by=admin.username)
    audit.record(db, actor=admin, action="password_reset_issued", object_type="account",
                 object_id=user.username)
    db.commit()
    return ResetCodeOut(username=user.username, reset_code=code, expires_at=expires)


@router.post(
    "/auth/password/reset",
    status_code=204,
    dependencies=[Depends(public()), Depends(RateLimit("login", "login_rate_per_minute"))],
)
def redeem_reset(db: DbSession, body: PasswordResetIn, request: Request) -> Response:
    """Choose a new password with the reset code an administrator gave you.

    An unknown name and a wrong, spent or expired code answer the same 401; a password that
    breaks the rules answers 422 and spends nothing.
    """
    guard = Guard(request)
    guard.check(body.username)
    try:
        user = passwords.redeem_reset(db, username=body.username, code=body.code,
                                      new_password=body.new_password)
    except passwords.ResetFailed:
        db.rollback()
        guard.failed(body.username)
        raise
    guard.succeeded(body.username)
    principal = Principal(user_id=user.id, username=user.username, role=Role(user.role))
    audit.record(db, actor=principal, action="password_reset", object_type="account",
                 object_id=user.username)
    db.commit()
    return Response(status_code=204)
