"""Refusals particular to shelter, on top of the core's NotFound/Forbidden/Conflict/Invalid."""

from __future__ import annotations

from tocsin.core.errors import DomainError


class NotAccepted(DomainError):
    """The address is asked for before the host accepted: nothing is revealed."""

    status = 403
    code = "not_accepted"


class NoPlaces(DomainError):
    """Accepting would give more places than are left (another seeker was accepted first)."""

    status = 409
    code = "no_places_left"
