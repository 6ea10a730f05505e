"""Second-factor checks: TOTP codes (RFC 6238, 30 s steps, 6 digits) and recovery codes.

Kept apart from ``service`` so that ``service.authenticate`` can check the second factor itself:
every password check in Tocsin (the login form, HTTP Basic for TAXII clients) then also asks
for the code of an account that has one, and no entry point can skip it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re

import pyotp
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from tocsin.core.auth.models import MfaRecoveryCode, MfaRolePolicy, MfaTotp

STEP_SECONDS = 30
DIGITS = 6
# One step either side absorbs clock drift between the phone and the server (RFC 6238 §5.2).
DRIFT_STEPS = 1
TOTP_RE = re.compile(r"^[0-9]{6}$")


def active_totp(session: Session, user_id: int) -> MfaTotp | None:
    """Return the account's confirmed TOTP enrolment, if any."""
    row = session.get(MfaTotp, user_id)
    return row if row is not None and row.confirmed_at is not None else None


def role_requires_mfa(session: Session, role: str) -> bool:
    """Say whether an administrator requires two-factor authentication for ``role``."""
    return bool(session.scalar(select(MfaRolePolicy.required).where(MfaRolePolicy.role == role)))


def normalise(code: str) -> str:
    """Strip the spaces and dashes people type inside codes; lower-case recovery codes."""
    return re.sub(r"[\s-]", "", code).lower()


def _step(now: dt.datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def verify_totp(session: Session, row: MfaTotp, code: str, now: dt.datetime) -> bool:
    """Accept a code of the current step (or one step off) that was never accepted before.

    The step is recorded with a conditional UPDATE, so two workers handed the same code at the
    same moment cannot both accept it: the second finds the step already taken.
    """
    code = normalise(code)
    if not TOTP_RE.match(code):
        return False
    totp = pyotp.TOTP(row.secret, digits=DIGITS, interval=STEP_SECONDS)
    current = _step(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if not hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            continue
        taken = session.execute(
            update(MfaTotp)
            .where(
                MfaTotp.user_id == row.user_id,
                or_(MfaTotp.last_step.is_(None), MfaTotp.last_step < step),
            )
            .values(last_step=step)
            .execution_options(synchronize_session=False)
        )
        if not taken.rowcount:  # type: ignore[attr-defined]
            return False  # replayed (or an older code after a newer one was used)
        row.last_step = step
        return True
    return False


def recovery_digest(code: str) -> str:
    """Return the stored form of a recovery code."""
    return hashlib.sha256(b"tocsin-recovery:" + normalise(code).encode()).hexdigest()


def use_recovery_code(session: Session, user_id: int, code: str, now: dt.datetime) -> bool:
    """Spend one unused recovery code; a code is good once (conditional UPDATE)."""
    if not 8 <= len(normalise(code)) <= 40:
        return False
    spent = session.execute(
        update(MfaRecoveryCode)
        .where(
            MfaRecoveryCode.user_id == user_id,
            MfaRecoveryCode.code_hash == recovery_digest(code),
            MfaRecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(spent.rowcount)  # type: ignore[attr-defined]


def check(session: Session, user_id: int, code: str, now: dt.datetime) -> str | None:
    """Check a second factor; return ``"totp"`` or ``"recovery"`` if it is good, else None."""
    row = active_totp(session, user_id)
    if row is None:
        return None
    if TOTP_RE.match(normalise(code)):
        return "totp" if verify_totp(session, row, code, now) else None
    return "recovery" if use_recovery_code(session, user_id, code, now) else None
