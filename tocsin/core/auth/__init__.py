"""Accounts, roles, tokens and the permission dependencies every route declares."""

from __future__ import annotations

from tocsin.core.auth.permissions import (
    Allow,
    CurrentUser,
    OptionalDevice,
    Principal,
    Public,
    allow,
    public,
)
from tocsin.core.auth.roles import STAFF_ROLES, Role

__all__ = [
    "STAFF_ROLES",
    "Allow",
    "CurrentUser",
    "OptionalDevice",
    "Principal",
    "Public",
    "Role",
    "allow",
    "public",
]
