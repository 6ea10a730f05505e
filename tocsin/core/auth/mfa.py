"""Two-factor enrolment and the per-role requirement (the checks themselves are in ``totp``).

Enrolment: ``start_enrolment`` makes a fresh secret (sealed at rest) and its otpauth:// URI;
``confirm`` activates it on a first valid code and returns recovery codes, shown once and stored
hashed. Both steps need a one-time activation code an administrator (or the CLI) issued for
the account (issue 19, finding 11): the password alone would let whoever stole it tie the
account to their own phone. A wrong code here counts in the sign-in throttle (``mfa_api``).
"""

from __future__ import annotations

import datetime as dt
import secrets

import pyotp
import segno
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tocsin.core.auth import codes, totp
from tocsin.core.auth.models import (
    MfaRecoveryCode,
    MfaRolePolicy,
    MfaTotp,
    UserAccount,
)
from tocsin.core.auth.roles import Role
from tocsin.core.auth.service import AuthFailed, parse_role
from tocsin.core.db import utcnow
from tocsin.core.errors import Conflict, Invalid

ISSUER = "Tocsin"
RECOVERY_CODES = 10
# Organisations report incidents; they are not staff of the deployment (issue 12).
MFA_ROLES = frozenset(Role) - {Role.organisation}
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or copied by hand


def _ensure_role(user: UserAccount) -> None:
    if Role(user.role) not in MFA_ROLES:
        raise Invalid(f"two-factor authentication is not offered to role {user.role!r}")


def start_enrolment(
    session: Session, *, user: UserAccount, activation_code: str
) -> tuple[str, str]:
    """Make a new pending TOTP secret; return it and its otpauth:// URI (for the QR code).

    The activation code is checked, not spent: a page closed before the confirmation can start
    again with the same code; ``confirm`` spends it.
    """
    _ensure_role(user)
    row = session.get(MfaTotp, user.id)
    if row is not None and row.confirmed_at is not None:
        raise Conflict("two-factor authentication is already active; disable it first")
    codes.check(session, user_id=user.id, purpose=codes.MFA_ACTIVATION, code=activation_code)
    secret = pyotp.random_base32()  # 160 bits, RFC 4226's recommended length
    if row is None:
        session.add(MfaTotp(user_id=user.id, secret=secret, created_at=utcnow()))
    else:
        row.secret, row.created_at, row.last_step = secret, utcnow(), None
    uri = pyotp.TOTP(secret, digits=totp.DIGITS, interval=totp.STEP_SECONDS).provisioning_uri(
        name=user.username, issuer_name=ISSUER
    )
    return secret, uri


def qr_svg_data_uri(uri: str) -> str:
    """Draw ``uri`` as a QR code, here on the server: the secret never goes to a third party."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def _check_code(session: Session, user: UserAccount, code: str, now: dt.datetime) -> str:
    kind = totp.check(session, user.id, code, now)
    if kind is None:
        raise AuthFailed("wrong or already used two-factor code")
    return kind


def confirm(
    session: Session, *, user: UserAccount, code: str, activation_code: str,
    now: dt.datetime | None = None,
) -> list[str]:
    """Activate the pending secret with a first valid code; spend the activation code;
    return fresh recovery codes."""
    now = now or utcnow()
    row = session.get(MfaTotp, user.id)
    if row is None:
        raise Conflict("no enrolment in progress: start one first")
    if row.confirmed_at is not None:
        raise Conflict("two-factor authentication is already active")
    codes.check(session, user_id=user.id, purpose=codes.MFA_ACTIVATION, code=activation_code,
                now=now)
    if not totp.verify_totp(session, row, code, now):
        raise AuthFailed("wrong or already used two-factor code")
    codes.spend(session, user_id=user.id, purpose=codes.MFA_ACTIVATION, code=activation_code,
                now=now)
    row.confirmed_at = now
    return new_recovery_codes(session, user_id=user.id)


def new_recovery_codes(session: Session, *, user_id: int) -> list[str]:
    """Replace the account's recovery codes; return the new ones (the only time they are seen)."""
    session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))  # about 79 bits
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}-{raw[12:]}")
        session.add(MfaRecoveryCode(user_id=user_id, code_hash=totp.recovery_digest(raw)))
    return codes


def regenerate_recovery_codes(
    session: Session, *, user: UserAccount, code: str, now: dt.datetime | None = None
) -> list[str]:
    """Issue new recovery codes once the current second factor is proven."""
    _check_code(session, user, code, now or utcnow())
    return new_recovery_codes(session, user_id=user.id)


def disable(
    session: Session, *, user: UserAccount, code: str, now: dt.datetime | None = None
) -> None:
    """Turn off the account's own 2FA, proven by a code; refused where the role requires it."""
    if totp.active_totp(session, user.id) is None:
        raise Conflict("two-factor authentication is not active")
    if totp.role_requires_mfa(session, user.role):
        raise Conflict(f"two-factor authentication is required for role {user.role!r}")
    _check_code(session, user, code, now or utcnow())
    _remove(session, user.id)


def reset(session: Session, *, username: str) -> UserAccount:
    """Remove an account's 2FA (an admin, for a lost phone); it enrols again only with a
    new activation code (``issue_activation``)."""
    user = codes.find_user(session, username)
    _remove(session, user.id)
    return user


def issue_activation(
    session: Session, *, username: str, by: str, now: dt.datetime | None = None
) -> tuple[UserAccount, str, dt.datetime]:
    """Issue the one-time code with which ``username`` may enrol 2FA (admin or CLI)."""
    user = codes.find_user(session, username)
    _ensure_role(user)
    code, expires = codes.issue(session, user=user, purpose=codes.MFA_ACTIVATION, by=by, now=now)
    return user, code, expires


def _remove(session: Session, user_id: int) -> None:
    session.execute(delete(MfaTotp).where(MfaTotp.user_id == user_id))
    session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user_id))


def status(session: Session, *, user: UserAccount) -> dict[str, object]:
    """Say whether the account has 2FA, whether its role requires it, and codes left."""
    row = session.get(MfaTotp, user.id)
    left = session.scalar(
        select(func.count())
        .select_from(MfaRecoveryCode)
        .where(MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None))
    )
    return {
        "available": Role(user.role) in MFA_ROLES,
        "enabled": row is not None and row.confirmed_at is not None,
        "pending": row is not None and row.confirmed_at is None,
        "confirmed_at": row.confirmed_at if row else None,
        "required": totp.role_requires_mfa(session, user.role),
        "recovery_codes_left": int(left or 0),
    }


def policy(session: Session) -> dict[str, bool]:
    """Return, for every role that can enrol, whether 2FA is required."""
    rows = session.execute(select(MfaRolePolicy.role, MfaRolePolicy.required))
    required = {role: bool(flag) for role, flag in rows}
    return {role.value: bool(required.get(role.value)) for role in Role if role in MFA_ROLES}


def set_required(
    session: Session, *, role: str, required: bool, by: UserAccount
) -> None:
    """Require (or stop requiring) 2FA for ``role``.

    Requiring it for administrators is refused while the acting administrator has none:
    their own token would drop to enrolment-only in the middle of the change.
    """
    parsed = parse_role(role)
    if parsed not in MFA_ROLES:
        raise Invalid(f"two-factor authentication is not offered to role {role!r}")
    if (
        required and parsed == Role.admin and by.role == Role.admin.value
        and totp.active_totp(session, by.id) is None
    ):
        raise Conflict("enrol two-factor authentication yourself before requiring it for admins")
    row = session.get(MfaRolePolicy, parsed.value)
    if row is None:
        session.add(MfaRolePolicy(role=parsed.value, required=required, updated_at=utcnow(),
                                  updated_by=by.username))
    else:
        row.required, row.updated_at, row.updated_by = required, utcnow(), by.username
