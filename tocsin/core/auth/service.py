"""Accounts and tokens: Argon2 passwords, second factor, opaque expiring tokens.

Failed attempts are throttled by the HTTP layer (``throttle``), never by locking the account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tocsin.core.auth import totp
from tocsin.core.auth.models import AccessToken, MfaRolePolicy, UserAccount
from tocsin.core.auth.roles import Role
from tocsin.core.db import utcnow
from tocsin.core.errors import Conflict, DomainError, Invalid, NotFound

_hasher = PasswordHasher()
# Verified when the username is unknown, so a login takes as long either way (no user probing).
_DUMMY_HASH = _hasher.hash("tocsin-dummy-password-for-timing")

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 12
_COMMON = frozenset(
    {"password1234", "motdepasse123", "azertyuiop12", "123456789012", "qwertyuiop12",
     "administrator", "tocsintocsin", "changeme1234", "iloveyou1234", "soleil123456"}
)


class AuthFailed(DomainError):
    status = 401
    code = "unauthorized"


class MfaRequired(AuthFailed):
    """The password was right but the account has two-factor authentication: send the code.

    An ``AuthFailed``, so a caller that cannot ask for a code (HTTP Basic) simply refuses.
    """

    code = "mfa_required"


def parse_role(text: str) -> Role:
    """Return the role named ``text`` or raise ``Invalid`` listing the known roles."""
    try:
        return Role(text)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise Invalid(f"unknown role {text!r}; known roles: {known}") from None


def check_password_strength(password: str, username: str) -> None:
    """Refuse passwords that are short, common, one character class, or contain the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 256:
        raise Invalid("password must have at most 256 characters")
    if password.lower() in _COMMON or len(set(password)) < 5:
        raise Invalid("password is too common or too repetitive")
    if username.lower() in password.lower():
        raise Invalid("password must not contain the username")
    classes = sum(
        bool(re.search(pattern, password))
        for pattern in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")
    )
    if classes < 2 and len(password) < 20:
        raise Invalid("password needs two kinds of characters (or at least 20 characters)")


def create_user(session: Session, *, username: str, password: str, role: str) -> UserAccount:
    """Create an account; raise ``Invalid`` or ``Conflict`` and store nothing on bad input."""
    if not USERNAME_RE.match(username):
        raise Invalid("username must be 3-64 characters: letters, digits, '.', '_' or '-'")
    parsed = parse_role(role)
    check_password_strength(password, username)
    if session.scalar(select(UserAccount.id).where(UserAccount.username == username)):
        raise Conflict(f"user {username!r} already exists")
    user = UserAccount(
        username=username,
        password_hash=_hasher.hash(password),
        role=parsed.value,
        is_active=True,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    otp: str | None = None,
    now: dt.datetime | None = None,
    allow_enrolment: bool = False,
) -> UserAccount:
    """Return the account if the password (and, when it has 2FA, the code) is right.

    An account whose role requires 2FA but has none is refused (``MfaRequired``) unless
    ``allow_enrolment``: only the login route, which then issues a token that can do nothing but
    enrol, passes it. Other password checks (HTTP Basic for TAXII) thus never let such an
    account in on its password alone.

    An unknown name, a wrong password and a deactivated account raise the same ``AuthFailed``
    after the same Argon2 work: nothing tells which names exist. The caller counts every
    ``AuthFailed`` in the sign-in throttle, except ``MfaRequired`` (the right password, no code).
    """
    now = now or utcnow()
    user = session.scalar(select(UserAccount).where(UserAccount.username == username))
    if user is None:
        _verify(_DUMMY_HASH, password)
        raise AuthFailed("wrong username or password")
    if not _verify(user.password_hash, password) or not user.is_active:
        raise AuthFailed("wrong username or password")
    if totp.active_totp(session, user.id) is not None:
        if not otp:
            raise MfaRequired(
                "this account uses two-factor authentication: send the 6-digit code of your "
                "authenticator app (or a recovery code) in the form field 'otp'"
            )
        if totp.check(session, user.id, otp, now) is None:
            raise AuthFailed("wrong or already used two-factor code")
    elif not allow_enrolment and totp.role_requires_mfa(session, user.role):
        raise MfaRequired(
            f"two-factor authentication is required for role {user.role!r}: enrol it on a "
            "staff page first; this way of signing in cannot carry a code"
        )
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def verify_password(user: UserAccount, password: str) -> bool:
    """Whether ``password`` is the account's (Argon2: slow on purpose)."""
    return _verify(user.password_hash, password)


def set_password(user: UserAccount, password: str) -> None:
    """Store a new password after the policy check; raise ``Invalid`` and change nothing."""
    check_password_strength(password, user.username)
    if _verify(user.password_hash, password):
        raise Invalid("the new password must differ from the current one")
    user.password_hash = _hasher.hash(password)


def disable_password(user: UserAccount) -> None:
    """Replace the password by one nobody knows (an administrator's reset: the old one may
    have leaked, so it must stop working before the owner chooses a new one)."""
    user.password_hash = _hasher.hash(secrets.token_urlsafe(32))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_id(token_hash: str) -> str:
    """Return a token's public session id (a prefix of its hash: it cannot log anyone in)."""
    return token_hash[:16]


def issue_token(
    session: Session,
    *,
    user: UserAccount,
    ttl: dt.timedelta,
    now: dt.datetime | None = None,
    mfa: bool = False,
    user_agent: str | None = None,
    ip: str | None = None,
) -> str:
    """Create a bearer token for ``user`` valid for ``ttl``; return it (stored only hashed)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        AccessToken(
            token_hash=_digest(token),
            user_id=user.id,
            issued_at=now,
            expires_at=now + ttl,
            mfa=mfa,
            user_agent=user_agent[:120] if user_agent else None,
            ip=ip[:45] if ip else None,
        )
    )
    return token


@dataclass(frozen=True)
class Resolved:
    """A live token, its account, and whether the account's role requires 2FA."""

    user: UserAccount
    access: AccessToken
    mfa_required: bool

    @property
    def limited(self) -> bool:
        """True when the token may only enrol 2FA: required for the role, not used to log in."""
        return self.mfa_required and not self.access.mfa


def resolve_session(
    session: Session, token: str, *, now: dt.datetime | None = None
) -> Resolved | None:
    """Return the live token behind ``token`` with its account and role policy, else None."""
    if not token or len(token) > 128:
        return None
    now = now or utcnow()
    row = session.execute(
        select(AccessToken, UserAccount, MfaRolePolicy.required)
        .join(UserAccount, UserAccount.id == AccessToken.user_id)
        .outerjoin(MfaRolePolicy, MfaRolePolicy.role == UserAccount.role)
        .where(AccessToken.token_hash == _digest(token))
    ).first()
    if row is None:
        return None
    access, user, required = row
    if access.revoked_at is not None or access.expires_at <= now or not user.is_active:
        return None
    return Resolved(user=user, access=access, mfa_required=bool(required))


def resolve_token(
    session: Session, token: str, *, now: dt.datetime | None = None
) -> UserAccount | None:
    """Return the active account behind a live token with full access, else None.

    A token limited to 2FA enrolment gives None: it opens nothing but the enrolment routes.
    """
    resolved = resolve_session(session, token, now=now)
    return resolved.user if resolved and not resolved.limited else None


def revoke_token(session: Session, token: str) -> bool:
    """Revoke one token; return whether it existed and was live."""
    result = session.execute(
        update(AccessToken)
        .where(AccessToken.token_hash == _digest(token), AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_all_tokens(session: Session, *, user_id: int, keep: str | None = None) -> int:
    """Revoke every live token of an account (password change, deactivation).

    ``keep``: the public session id of one token to spare (the session changing its password).
    """
    query = (
        update(AccessToken)
        .where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if keep:
        query = query.where(func.substr(AccessToken.token_hash, 1, 16) != keep)
    result = session.execute(query)
    return int(result.rowcount)  # type: ignore[attr-defined]


def list_users(session: Session) -> list[UserAccount]:
    """Return every account, oldest first."""
    return list(session.scalars(select(UserAccount).order_by(UserAccount.id)))


def set_active(
    session: Session, *, username: str, active: bool, acting_user_id: int | None = None
) -> UserAccount:
    """Activate or deactivate an account; deactivation revokes its tokens.

    An admin cannot deactivate their own account, nor the last active admin: either would
    leave the deployment with no one able to manage accounts (and no hidden way back in).
    """
    user = session.scalar(select(UserAccount).where(UserAccount.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    if not active and user.id == acting_user_id:
        raise Conflict("an administrator cannot deactivate their own account")
    if not active and user.role == Role.admin.value and user.is_active:
        admins = session.scalar(
            select(func.count())
            .select_from(UserAccount)
            .where(UserAccount.role == Role.admin.value, UserAccount.is_active.is_(True))
        )
        if (admins or 0) <= 1:
            raise Conflict("cannot deactivate the last active administrator")
    user.is_active = active
    if not active:
        revoke_all_tokens(session, user_id=user.id)
    return user
