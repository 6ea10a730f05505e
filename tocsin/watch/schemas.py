"""Request and response models of the content-watch API."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tocsin.watch.events import ItemStatus
from tocsin.watch.instruments import ILLEGAL_CATEGORIES, Instrument, Status

MAX_URL = 2000
MAX_EXCERPT = 2000


class ReportCategory(StrEnum):
    """What a citizen says the content is (issue 8: the four choices of the report form)."""

    terrorism_apology = "terrorism_apology"
    call_to_violence = "call_to_violence"
    hate = "hate"
    other = "other"


class Decision(StrEnum):
    remove = "remove"
    keep = "keep"
    escalate = "escalate"


def check_url(value: str) -> str:
    """Accept only absolute http(s) URLs with a host: what a platform serves content at."""
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise ValueError("must be an absolute http:// or https:// URL with a host")
    return value


class IngestIn(BaseModel):
    """``POST /api/v1/watch/ingest``: an item pushed by a platform account."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=MAX_URL)
    text: str = Field(min_length=1, max_length=MAX_EXCERPT)
    author_handle: str | None = Field(default=None, max_length=100)
    reach: int = Field(default=0, ge=0, le=2_000_000_000)
    image_base64: str | None = Field(default=None, max_length=2_800_000)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)


class ItemAck(BaseModel):
    """What a reporter or platform learns: the item and how many reports it now has."""

    item_id: int
    report_count: int
    grouped: bool


class ItemOut(BaseModel):
    id: int
    url: str
    platform: str
    source: str
    reported_category: str
    excerpt: str
    author_handle: str | None
    category: str
    score: float
    explanation: Any
    hash_matches: int
    report_count: int
    reach: int
    has_image: bool
    status: ItemStatus
    priority: float
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime


class QueueOut(BaseModel):
    items: list[ItemOut]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Decision
    reason: str = Field(min_length=3, max_length=500)


class DecisionOut(BaseModel):
    item_id: int
    status: ItemStatus
    second_opinion_needed: bool


class PlatformIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    display_name: str = Field(min_length=1, max_length=100)
    account: str | None = Field(default=None, min_length=3, max_length=64)
    webhook_url: str | None = Field(default=None, max_length=MAX_URL)

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)


class PlatformOut(BaseModel):
    name: str
    display_name: str
    has_account: bool
    notice_at: dt.datetime | None
    has_webhook: bool = False
    # Given once, in the answer that registers the platform; never shown again.
    webhook_secret: str | None = None


class OrderIn(BaseModel):
    """A removal order (TCO Art. 3, terrorist content only) or a DSA Art. 16 notice.

    ``emergency`` waives the Art. 3(2) 12-hour notice (orders only); ``content_category`` is
    the moderator's view of the content when it differs from the classifier's (an order then
    needs a second moderator's approval).
    """

    model_config = ConfigDict(extra="forbid")

    item_id: int = Field(ge=1)
    instrument: Instrument = Instrument.order
    content_category: str | None = Field(default=None, max_length=20)
    legal_basis: str = Field(min_length=3, max_length=200)
    reason: str = Field(min_length=3, max_length=1000)
    emergency: bool = False

    @field_validator("content_category")
    @classmethod
    def _illegal(cls, value: str | None) -> str | None:
        if value is not None and value not in ILLEGAL_CATEGORIES:
            raise ValueError(f"content_category must be one of "
                             f"{', '.join(sorted(ILLEGAL_CATEGORIES))}")
        return value


class OrderOut(BaseModel):
    id: int
    instrument: str
    platform: str
    item_id: int
    url: str
    content_category: str | None
    trusted_flagger: bool
    legal_basis: str
    reason: str
    emergency: bool
    issued_by: str
    proposed_at: dt.datetime | None
    approved_by: str | None
    issued_at: dt.datetime
    received_at: dt.datetime | None
    deadline_at: dt.datetime | None
    status: Status
    overdue: bool
    removed_at: dt.datetime | None
    contested_at: dt.datetime | None
    contest_reason: str | None


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=1000)


class ContestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=1000)


class FeedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=MAX_URL)
    platform: str = Field(min_length=1, max_length=40)
    keywords: list[str] = Field(min_length=1, max_length=50)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        cleaned = [k.strip() for k in value]
        if any(not k or len(k) > 100 for k in cleaned):
            raise ValueError("keywords are 1 to 100 characters each")
        return cleaned


class FeedOut(BaseModel):
    id: int
    url: str
    platform: str
    keywords: list[str]
    last_polled_at: dt.datetime | None


class PollOut(BaseModel):
    entries: int
    matched: int
    new_items: int


class HashImportOut(BaseModel):
    added: int
    total_rows: int


class MatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=MAX_EXCERPT)
    image_base64: str | None = Field(default=None, max_length=2_800_000)
    # PDQ bits of 256 (None: TOCSIN_WATCH_PDQ_DISTANCE, HMA's 31 by default).
    distance: int | None = Field(default=None, ge=0, le=64)


class MatchOut(BaseModel):
    matches: list[dict[str, Any]]
