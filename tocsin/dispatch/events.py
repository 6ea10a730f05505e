"""Bus subjects dispatch publishes (through the outbox) and the SSE names the console receives.

``incident.updated`` and ``assignment.<status>`` are named as DESIGN.md's stream contract says;
``dispatch.unit_status`` / ``dispatch.unit_position`` keep every worker's spatial index current.
Payloads carry ids, positions and statuses only: never SOS text (sealed, read through the sos
service with an audit entry).
"""

from __future__ import annotations

from tocsin.sos.events import SOS_CLOSED, SOS_CREATED, SOS_MESSAGE, SOS_POSITION

INCIDENT_UPDATED = "incident.updated"
ASSIGNMENT_PREFIX = "assignment."
UNIT_STATUS = "dispatch.unit_status"
UNIT_POSITION = "dispatch.unit_position"

# What the dispatcher console streams.
CONSOLE_PATTERNS = [
    SOS_CREATED,
    SOS_MESSAGE,
    SOS_POSITION,
    SOS_CLOSED,
    INCIDENT_UPDATED,
    "assignment.*",
    UNIT_STATUS,
    UNIT_POSITION,
]


def assignment_subject(status: str) -> str:
    """Return the subject announcing an assignment that reached ``status``."""
    return f"{ASSIGNMENT_PREFIX}{status}"
