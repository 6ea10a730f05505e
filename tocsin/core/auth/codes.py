"""One-time account codes: 2FA activation (finding 11) and password reset (finding 13).

An administrator (API, admin page) or the shell (``tocsin users``) issues a code for one
account; its owner redeems it once before it expires. The code reaches the owner out of band
(in person, by phone): that is what makes it proof that the owner, not just someone holding
the password, is enrolling a phone or choosing a password.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tocsin.core.auth.models import AccountCode, UserAccount
from tocsin.core.db import utcnow
from tocsin.core.errors import DomainError, NotFound

MFA_ACTIVATION = "mfa_activation"
PASSWORD_RESET = "password_reset"
# Long enough to reach someone off shift; short enough that a code left on a desk dies.
LIFETIME = {MFA_ACTIVATION: dt.timedelta(hours=72), PASSWORD_RESET: dt.timedelta(hours=24)}
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or copied by hand


class InvalidCode(DomainError):
    """Wrong, spent, expired or someone else's: one answer for all, naming none."""

    status = 403

    def __init__(self, purpose: str) -> None:
        what = "activation" if purpose == MFA_ACTIVATION else "reset"
        super().__init__(f"invalid or expired {what} code: ask an administrator for a new one")
        self.code = "invalid_activation_code" if purpose == MFA_ACTIVATION else "invalid_code"


def _digest(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def normalise(code: str) -> str:
    """Codes are read aloud and typed by hand: case, spaces and dashes do not matter."""
    return "".join(c for c in code.lower() if c.isalnum())[:64]


def find_user(session: Session, username: str) -> UserAccount:
    user = session.scalar(select(UserAccount).where(UserAccount.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def issue(
    session: Session, *, user: UserAccount, purpose: str, by: str, now: dt.datetime | None = None
) -> tuple[str, dt.datetime]:
    """Make a new code for ``user`` (replacing any of the same purpose); return it and its
    expiry. The code is shown this once; only its digest is kept."""
    now = now or utcnow()
    session.execute(
        delete(AccountCode).where(AccountCode.user_id == user.id, AccountCode.purpose == purpose)
    )
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))  # about 79 bits
    expires = now + LIFETIME[purpose]
    session.add(AccountCode(user_id=user.id, purpose=purpose, code_hash=_digest(raw),
                            issued_at=now, issued_by=by[:64], expires_at=expires))
    session.flush()
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}-{raw[12:]}", expires


def check(
    session: Session, *, user_id: int, purpose: str, code: str, now: dt.datetime | None = None
) -> AccountCode:
    """Return the live code ``code`` of this account and purpose, else raise ``InvalidCode``."""
    now = now or utcnow()
    wanted = _digest(code)
    rows = session.scalars(
        select(AccountCode).where(
            AccountCode.user_id == user_id, AccountCode.purpose == purpose,
            AccountCode.used_at.is_(None), AccountCode.expires_at > now,
        )
    )
    for row in rows:
        if hmac.compare_digest(row.code_hash, wanted):
            return row
    raise InvalidCode(purpose)


def spend(
    session: Session, *, user_id: int, purpose: str, code: str, now: dt.datetime | None = None
) -> None:
    """Check the code and mark it used (the caller commits with the change it allows)."""
    now = now or utcnow()
    row = check(session, user_id=user_id, purpose=purpose, code=code, now=now)
    # Conditional, so two requests racing with the same code cannot both spend it.
    spent = session.execute(
        update(AccountCode).where(AccountCode.id == row.id, AccountCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    )
    if not spent.rowcount:  # type: ignore[attr-defined]
        raise InvalidCode(purpose)
    session.refresh(row)
