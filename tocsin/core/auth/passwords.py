"""Changing a password (its owner) and resetting one (an administrator, then its owner).

Issue 19, finding 13. A change needs the current password, and the 2FA code where the
account has one: a session left open on a shared screen must not be enough to take the account
over. A reset is what real deployments do for a forgotten or leaked password: the
administrator never learns the new password. The reset disables the old password at once and
revokes every session, then hands out a one-time code with which the owner chooses a new one.
Both end every other session of the account (stream tickets die with their sessions).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core.auth import codes, service, totp
from tocsin.core.auth.models import UserAccount
from tocsin.core.db import utcnow
from tocsin.core.errors import DomainError


class WrongCredential(DomainError):
    """The current password or code is wrong: 403, not 401, as the session itself is valid
    (a 401 would sign the page out)."""

    status = 403
    code = "wrong_password"


class CodeNeeded(WrongCredential):
    code = "mfa_required"


class ResetFailed(DomainError):
    """Unknown account, wrong or spent code: one answer, so a reset says nothing of accounts."""

    status = 401
    code = "unauthorized"


def change_password(
    session: Session, *, user: UserAccount, current: str, new: str, otp: str | None = None,
    keep_session: str | None = None, now: dt.datetime | None = None,
) -> int:
    """Set ``new`` once ``current`` (and the code where 2FA is on) is proven; revoke every
    session but ``keep_session``; return how many were revoked."""
    now = now or utcnow()
    if not service.verify_password(user, current):
        raise WrongCredential("the current password is wrong")
    if totp.active_totp(session, user.id) is not None:
        if not otp:
            raise CodeNeeded("this account uses two-factor authentication: send its code "
                             "in 'otp' as well")
        if totp.check(session, user.id, otp, now) is None:
            raise WrongCredential("wrong or already used two-factor code")
    service.set_password(user, new)
    return service.revoke_all_tokens(session, user_id=user.id, keep=keep_session)


def issue_reset(
    session: Session, *, username: str, by: str, now: dt.datetime | None = None
) -> tuple[UserAccount, str, dt.datetime]:
    """Disable the password, revoke every session, and return a one-time reset code."""
    user = codes.find_user(session, username)
    service.disable_password(user)
    service.revoke_all_tokens(session, user_id=user.id)
    code, expires = codes.issue(session, user=user, purpose=codes.PASSWORD_RESET, by=by, now=now)
    return user, code, expires


def redeem_reset(
    session: Session, *, username: str, code: str, new_password: str,
    now: dt.datetime | None = None,
) -> UserAccount:
    """Set the password chosen with a reset code; the code is spent, every session revoked.

    The new password is checked first (that tells nothing about the account), then the name
    and code together: an unknown name and a wrong code give the same ``ResetFailed``.
    """
    service.check_password_strength(new_password, username)
    user = session.scalar(select(UserAccount).where(UserAccount.username == username))
    if user is None:
        raise ResetFailed("invalid or expired reset code")
    try:
        codes.spend(session, user_id=user.id, purpose=codes.PASSWORD_RESET, code=code, now=now)
    except codes.InvalidCode:
        raise ResetFailed("invalid or expired reset code") from None
    service.set_password(user, new_password)
    service.revoke_all_tokens(session, user_id=user.id)
    return user
