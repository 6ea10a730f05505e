"""Settings of the SOS domain (``TOCSIN_SOS_*``), kept here so the shared core stays untouched.

Read once per worker at start (``lifecycle.start``), not cached per process: tests build
workers with different values side by side.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SosSettings(BaseSettings):
    """SOS intake, rate limits and retention; every field maps to ``TOCSIN_SOS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="TOCSIN_SOS_", extra="ignore")

    # Liberties: a closed SOS (text, chat, trail) is deleted this many days after closing;
    # one never closed is deleted this many days after it was received.
    retention_days: float = Field(default=30, gt=0)
    open_expiry_days: float = Field(default=90, gt=0)

    # Group commit: one writer thread takes up to ``batch_max`` queued SOS per transaction.
    # ``linger_ms`` waits a little for more (0: take what is queued, the lowest latency).
    batch_max: int = Field(default=500, ge=1, le=10_000)
    linger_ms: float = Field(default=0.0, ge=0, le=50)
    # Where the group commit runs on a SQLite file (embedded mode): "auto" or "process", a child
    # process (tocsin.sos.writer: the worker's event loop keeps its interpreter lock to itself),
    # or "thread". PostgreSQL always uses the thread (its driver lets go of the lock).
    writer: Literal["auto", "process", "thread"] = "auto"

    # Rate limits (per worker). A device (device token, else client_id) already seen may send
    # ``device_per_minute`` (burst ``device_burst``); one address may bring
    # ``address_new_per_minute`` new devices (burst ``address_new_burst``): generous, so a
    # venue of hundreds of phones behind one NAT all get their first SOS through.
    device_per_minute: int = Field(default=20, ge=1)
    device_burst: int = Field(default=10, ge=1)
    address_new_per_minute: int = Field(default=3000, ge=1)
    address_new_burst: int = Field(default=1000, ge=1)
    # How long a device counts as "already seen" (it then skips the new-device budget); at most
    # twice this. Bounded by time so the worker's memory follows the recent devices, not all.
    device_memory_s: float = Field(default=300.0, gt=0)
    follow_up_per_minute: int = Field(default=120, ge=1)
    follow_up_burst: int = Field(default=30, ge=1)
    # Wrong follow-up tokens one client address may send: a phone never sends one (it keeps the
    # token it was given); this only slows someone trying SOS ids (tocsin.sos.limits).
    wrong_token_per_minute: int = Field(default=30, ge=1)
    wrong_token_burst: int = Field(default=20, ge=1)
