"""Bus subjects and payloads the content watch publishes (through the outbox).

Payloads carry ids, categories and statuses only: never the content's text or image (read
through the audited API). ``watch.order_issued`` is consumed by this domain's webhook sender
(``lifecycle``); the others are there for any consumer, each validating with these models.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel

ITEM_CREATED = "watch.item_created"
ITEM_DECIDED = "watch.item_decided"
ORDER_ISSUED = "watch.order_issued"
ORDER_REMOVED = "watch.order_removed"
ORDER_CONTESTED = "watch.order_contested"


class ItemStatus(StrEnum):
    """Where a watched content stands (stored in ``watch_item.status``, sent in the API and in
    ``watch.item_decided``). Open: pending, second_opinion, escalated; decided: removed, kept."""

    pending = "pending"
    second_opinion = "second_opinion"  # a moderator disagreed with the classifier: another looks
    escalated = "escalated"
    removed = "removed"
    kept = "kept"


class ItemCreated(BaseModel):
    """``watch.item_created``: a content seen for the first time (a report or a feed)."""

    id: int
    platform: str
    category: str
    score: float


class ItemDecided(BaseModel):
    """``watch.item_decided``: a moderator's decision and the status it left the item in
    (``second_opinion`` when it disagreed with the classifier and awaits another moderator)."""

    id: int
    decision: Literal["remove", "keep", "escalate"]
    status: ItemStatus


class OrderIssued(BaseModel):
    """``watch.order_issued``: a removal order (TCO) or a notice (DSA) went to a platform."""

    id: int
    platform: str
    item_id: int
    instrument: str


class OrderRemoved(BaseModel):
    """``watch.order_removed``: the platform confirmed removal; ``late`` past the deadline."""

    id: int
    late: bool


class OrderContested(BaseModel):
    """``watch.order_contested``: the platform contested an order or declined a notice."""

    id: int
