"""Auth and account API contract."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tocsin.core.auth.roles import Role


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: dt.datetime
    role: Role
    # "mfa_enrolment": 2FA is required for the role and not set up; the token only enrols it.
    scope: Literal["full", "mfa_enrolment"] = "full"


class MeOut(BaseModel):
    username: str
    role: Role


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    role: str = Field(max_length=20)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_active: bool


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    role: Role
    is_active: bool
    created_at: dt.datetime


class CodeIn(BaseModel):
    """A second-factor code: 6 digits from the app, or a recovery code."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=6, max_length=64)


class EnrolIn(BaseModel):
    """Starting 2FA enrolment needs the one-time code an administrator issued."""

    model_config = ConfigDict(extra="forbid")

    activation_code: str = Field(min_length=1, max_length=64)


class ConfirmIn(CodeIn):
    """The first code of the app, and the activation code again (spent by this step)."""

    activation_code: str = Field(min_length=1, max_length=64)


class ActivationCodeOut(BaseModel):
    username: str
    activation_code: str = Field(description="shown once; give it to the person, not by email")
    expires_at: dt.datetime


class ResetCodeOut(BaseModel):
    username: str
    reset_code: str = Field(description="shown once; the person chooses a new password with it")
    expires_at: dt.datetime


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)
    otp: str | None = Field(default=None, min_length=6, max_length=64,
                            description="the 2FA code, where the account has 2FA")


class PasswordResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64)
    new_password: str = Field(min_length=1, max_length=256)


class TotpEnrolmentOut(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str = Field(description="the otpauth URI as a QR code, an SVG data: URI")


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(description="shown once; each works once")


class MfaStatusOut(BaseModel):
    available: bool
    enabled: bool
    pending: bool
    required: bool
    confirmed_at: dt.datetime | None
    recovery_codes_left: int


class MfaPolicyOut(BaseModel):
    required: dict[str, bool] = Field(description="role -> whether 2FA is required")


class MfaPolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    required: bool


class SessionOut(BaseModel):
    id: str
    issued_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime
    user_agent: str | None
    ip: str | None
    mfa: bool
    current: bool


class RevokedOut(BaseModel):
    revoked: int
