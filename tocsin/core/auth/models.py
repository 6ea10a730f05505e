"""Account, token and two-factor tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.core.db import Base, UTCDateTime
from tocsin.core.seal import SealedText


class UserAccount(Base):
    """A staff, platform, organisation or partner account (citizens have none)."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AccessToken(Base):
    """A bearer token; only its SHA-256 is stored, so a database leak yields no usable token.

    A token is also a *session* the account can list and revoke: its public id is the first
    16 hex digits of that hash (useless to log in with). ``user_agent`` and ``ip`` are kept, cut
    short, only so a person can recognise their own sessions; they go with the token at purge.
    """

    __tablename__ = "access_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(120), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    # True when the login that issued it passed a second factor (TOTP or a recovery code).
    mfa: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class MfaTotp(Base):
    """An account's TOTP secret (RFC 6238), sealed at rest; active once ``confirmed_at`` is set."""

    __tablename__ = "mfa_totp"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(SealedText("mfa_totp.secret"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Time step of the last code accepted: a code is good once, never replayed in its window.
    last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)


class MfaRecoveryCode(Base):
    """A one-time recovery code, stored as its SHA-256 (the code has 80 random bits)."""

    __tablename__ = "mfa_recovery_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MfaRolePolicy(Base):
    """Whether an administrator requires two-factor authentication for a role."""

    __tablename__ = "mfa_role_policy"

    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    required: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))


class AccountCode(Base):
    """A one-time code an administrator (or the CLI) issues for one account and one purpose.

    ``mfa_activation`` lets its owner enrol 2FA (the password alone does not); ``password_reset``
    lets them choose a new password. Stored as the SHA-256 of the code (about 79 random bits:
    no dictionary to run), spent by ``used_at``, dead after ``expires_at``; a new code of the
    same purpose replaces the old.
    """

    __tablename__ = "account_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    issued_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
