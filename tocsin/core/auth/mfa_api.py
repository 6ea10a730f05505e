"""Two-factor enrolment, the per-role requirement, and sessions (own and, for admins, others').

Every change here is written to the audit log; codes and secrets never are. A wrong code
(2FA or activation) counts in the sign-in throttle as a wrong password does, under the
account's name and the caller's address.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select, update

from tocsin.core import audit
from tocsin.core.auth import codes, mfa, service, sessions
from tocsin.core.auth.models import AccessToken, UserAccount
from tocsin.core.auth.permissions import Principal, SignedIn, allow
from tocsin.core.auth.roles import Role
from tocsin.core.auth.schemas import (
    ActivationCodeOut,
    CodeIn,
    ConfirmIn,
    EnrolIn,
    MfaPolicyIn,
    MfaPolicyOut,
    MfaStatusOut,
    RecoveryCodesOut,
    RevokedOut,
    SessionOut,
    TotpEnrolmentOut,
)
from tocsin.core.auth.throttle import Guard
from tocsin.core.errors import NotFound
from tocsin.core.runtime import DbSession

router = APIRouter(prefix="/api/v1", tags=["auth"])
T = TypeVar("T")
AdminUser = Annotated[Principal, Depends(allow(Role.admin))]
# Enrolment must stay reachable with a token limited to it (2FA required, not yet set up).
Enrolling = Annotated[Principal, Depends(allow(*sorted(mfa.MFA_ROLES), enrolment=True))]


def _account(db: DbSession, who: Principal) -> UserAccount:
    user = db.get(UserAccount, who.user_id)
    assert user is not None  # the token was just resolved to this account
    return user


@router.get("/auth/mfa", response_model=MfaStatusOut)
def mfa_status(db: DbSession, who: Enrolling) -> MfaStatusOut:
    """Say whether your account has 2FA and whether your role requires it."""
    return MfaStatusOut.model_validate(mfa.status(db, user=_account(db, who)))


def _guarded(db: DbSession, request: Request, who: Principal, step: Callable[[], T]) -> T:
    """Run a step that checks a code, inside the sign-in throttle (a wrong code counts)."""
    guard = Guard(request)
    guard.check(who.username)
    try:
        result = step()
    except (service.AuthFailed, codes.InvalidCode):
        db.rollback()
        guard.failed(who.username)
        raise
    guard.succeeded(who.username)
    return result


@router.post("/auth/mfa/totp", response_model=TotpEnrolmentOut)
def mfa_enrol(db: DbSession, who: Enrolling, body: EnrolIn, request: Request) -> TotpEnrolmentOut:
    """Start TOTP enrolment with the activation code an administrator gave you: a new secret,
    its otpauth:// URI and QR code (not yet active). 403 ``invalid_activation_code`` for a
    wrong, spent or expired code."""
    user = _account(db, who)
    secret, uri = _guarded(db, request, who, lambda: mfa.start_enrolment(
        db, user=user, activation_code=body.activation_code))
    audit.record(db, actor=who, action="mfa_enrol_start", object_type="account",
                 object_id=who.user_id or "")
    db.commit()
    return TotpEnrolmentOut(secret=secret, otpauth_uri=uri, qr_svg=mfa.qr_svg_data_uri(uri))


@router.post("/auth/mfa/totp/confirm", response_model=RecoveryCodesOut)
def mfa_confirm(
    db: DbSession, who: Enrolling, body: ConfirmIn, request: Request
) -> RecoveryCodesOut:
    """Activate 2FA with a first valid code and the activation code (spent here); answer the
    recovery codes (shown this once).

    The session that confirms counts from then on as one opened with a second factor.
    """
    user = _account(db, who)
    recovery = _guarded(db, request, who, lambda: mfa.confirm(
        db, user=user, code=body.code, activation_code=body.activation_code))
    _mark_current_session(db, who)
    audit.record(db, actor=who, action="mfa_enabled", object_type="account", object_id=user.id)
    db.commit()
    return RecoveryCodesOut(recovery_codes=recovery)


def _mark_current_session(db: DbSession, who: Principal) -> None:
    db.execute(
        update(AccessToken)
        .where(AccessToken.user_id == who.user_id,
               AccessToken.token_hash.startswith(who.session_id or "-"))
        .values(mfa=True)
        .execution_options(synchronize_session=False)
    )


@router.post("/auth/mfa/recovery-codes", response_model=RecoveryCodesOut)
def mfa_recovery_codes(
    db: DbSession, who: Enrolling, body: CodeIn, request: Request
) -> RecoveryCodesOut:
    """Replace your recovery codes (proven by a current code); the old ones stop working."""
    user = _account(db, who)
    recovery = _guarded(db, request, who, lambda: mfa.regenerate_recovery_codes(
        db, user=user, code=body.code))
    audit.record(db, actor=who, action="mfa_recovery_codes", object_type="account",
                 object_id=user.id)
    db.commit()
    return RecoveryCodesOut(recovery_codes=recovery)


@router.post("/auth/mfa/disable", status_code=204)
def mfa_disable(db: DbSession, who: Enrolling, body: CodeIn, request: Request) -> Response:
    """Turn off your 2FA (proven by a code); refused where your role requires it. Enrolling
    again then needs a new activation code."""
    user = _account(db, who)
    _guarded(db, request, who, lambda: mfa.disable(db, user=user, code=body.code))
    audit.record(db, actor=who, action="mfa_disabled", object_type="account", object_id=user.id)
    db.commit()
    return Response(status_code=204)


@router.get("/auth/mfa/policy", response_model=MfaPolicyOut)
def mfa_policy(db: DbSession, admin: AdminUser) -> MfaPolicyOut:
    """List, per role, whether 2FA is required (admin)."""
    return MfaPolicyOut(required=mfa.policy(db))


@router.put("/auth/mfa/policy/{role}", response_model=MfaPolicyOut)
def mfa_set_policy(db: DbSession, admin: AdminUser, role: str, body: MfaPolicyIn) -> MfaPolicyOut:
    """Require (or stop requiring) 2FA for a role (admin).

    Accounts of that role without 2FA then get tokens that can only enrol it.
    """
    mfa.set_required(db, role=role, required=body.required, by=_account(db, admin))
    audit.record(db, actor=admin, action="mfa_policy", object_type="role", object_id=role,
                 reason="2FA required" if body.required else "2FA optional")
    db.commit()
    return MfaPolicyOut(required=mfa.policy(db))


@router.post("/users/{username}/mfa/reset", status_code=204)
def mfa_reset(db: DbSession, admin: AdminUser, username: str) -> Response:
    """Remove an account's 2FA, e.g. after a lost phone (admin); its sessions are revoked."""
    user = mfa.reset(db, username=username)
    service.revoke_all_tokens(db, user_id=user.id)
    audit.record(db, actor=admin, action="mfa_reset", object_type="account", object_id=username)
    db.commit()
    return Response(status_code=204)


@router.post("/users/{username}/mfa/activation", response_model=ActivationCodeOut)
def mfa_activation(db: DbSession, admin: AdminUser, username: str) -> ActivationCodeOut:
    """Issue the one-time code with which an account may enrol 2FA (admin); valid 72 h, it
    replaces any earlier one. Hand it to the person yourself: it proves the phone is theirs."""
    user, code, expires = mfa.issue_activation(db, username=username, by=admin.username)
    audit.record(db, actor=admin, action="mfa_activation_issued", object_type="account",
                 object_id=username)
    db.commit()
    return ActivationCodeOut(username=user.username, activation_code=code, expires_at=expires)


@router.get("/auth/sessions", response_model=list[SessionOut])
def list_sessions(db: DbSession, who: SignedIn) -> list[SessionOut]:
    """List your live sessions (tokens), newest first; ``current`` marks this one."""
    assert who.user_id is not None
    return [
        SessionOut(
            id=service.session_id(t.token_hash), issued_at=t.issued_at,
            last_used_at=t.last_used_at, expires_at=t.expires_at, user_agent=t.user_agent,
            ip=t.ip, mfa=t.mfa, current=service.session_id(t.token_hash) == who.session_id,
        )
        for t in sessions.live_sessions(db, user_id=who.user_id)
    ]


@router.delete("/auth/sessions/{session_id}", status_code=204)
def revoke_session(db: DbSession, who: SignedIn, session_id: str) -> Response:
    """Revoke one of your sessions (this one included: that is a logout)."""
    assert who.user_id is not None
    sessions.revoke_session(db, user_id=who.user_id, sid=session_id[:16])
    audit.record(db, actor=who, action="revoke_session", object_type="session",
                 object_id=session_id[:16])
    db.commit()
    return Response(status_code=204)


@router.post("/users/{username}/sessions/revoke", response_model=RevokedOut)
def revoke_account_sessions(db: DbSession, admin: AdminUser, username: str) -> RevokedOut:
    """Revoke every session of an account (admin), e.g. a stolen laptop or a leaving agent."""
    user_id = db.scalar(select(UserAccount.id).where(UserAccount.username == username))
    if user_id is None:
        raise NotFound(f"no user {username!r}")
    count = service.revoke_all_tokens(db, user_id=user_id)
    audit.record(db, actor=admin, action="revoke_all_sessions", object_type="account",
                 object_id=username, reason=f"{count} sessions")
    db.commit()
    return RevokedOut(revoked=count)
