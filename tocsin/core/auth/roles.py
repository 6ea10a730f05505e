"""Roles of DESIGN.md. Citizens have no account: they act anonymously, at most with a device
token."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """An account's role; each route states the roles it admits."""

    unit = "unit"
    dispatcher = "dispatcher"
    authority = "authority"
    moderator = "moderator"
    analyst = "analyst"
    platform = "platform"
    organisation = "organisation"
    partner = "partner"
    admin = "admin"


STAFF_ROLES = frozenset(
    {Role.unit, Role.dispatcher, Role.authority, Role.moderator, Role.analyst, Role.admin}
)
