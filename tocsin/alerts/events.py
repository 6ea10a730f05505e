"""Bus subjects of the alerts domain and their payloads.

``alerts.submitted``: an Actual message waits for a second authority (authority pages refresh);
``alerts.published``: a message was published (fan-out starts, public pages refresh);
``alerts.rejected``: a waiting message was turned down.
"""

from __future__ import annotations

from pydantic import BaseModel

SUBMITTED = "alerts.submitted"
PUBLISHED = "alerts.published"
REJECTED = "alerts.rejected"


class AlertEvent(BaseModel):
    """Payload of every alerts event: enough for a page to decide whether to reload."""

    id: str
    msg_type: str
    status: str
    state: str
    parent_id: str | None = None
    headline: str | None = None
