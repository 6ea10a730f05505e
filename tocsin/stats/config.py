"""Settings of the observatory (``TOCSIN_STATS_*``), read once per worker at start."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StatsSettings(BaseSettings):
    """Every field maps to ``TOCSIN_STATS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="TOCSIN_STATS_", extra="ignore")

    # Liberties: a public cell counting fewer than k events is shown as suppressed, not as zero
    # (small counts can single out a person: one SOS in a hexagon at 3 a.m.).
    k: int = Field(default=5, ge=1, le=1000)
    # Public periods are whole days (or hours) in UTC, the request's bounds widened to them:
    # two periods a minute apart gave a count under k by subtraction (see ``report``).
    public_grain: Literal["day", "hour"] = "day"
    # Periodic sweep of the domains' tables (figures no event announces) and anomaly check.
    sweep_seconds: float = Field(default=30.0, gt=0)
    # The sweep re-reads this far behind its cursor: rows committed late by a long transaction
    # are still counted (facts are keyed, so a row read twice counts once). Not free: every row
    # of the overlap is read and offered again at each sweep; at 250 SOS/s a 300 s overlap was
    # 75,000 rows per sweep per worker, seconds of a worker's CPU and a memory peak that grew
    # for five minutes (the soak's latency and memory growth). `tocsin stats rebuild` re-reads
    # any older period.
    sweep_overlap_seconds: float = Field(default=60.0, ge=0)
    # Anomaly detection (see ``tocsin.stats.anomaly``).
    anomaly_window: int = Field(default=24, ge=6, le=500)
    anomaly_threshold: float = Field(default=5.0, gt=0)
    anomaly_min_count: int = Field(default=5, ge=1)
    # Facts (which keep the id of what they counted) are deleted after this; rollups stay.
    fact_retention_days: int = Field(default=400, ge=30)
    # Longest period a query may cover.
    max_period_days: int = Field(default=400, ge=1)
