"""Settings of the shelter domain (``TOCSIN_SHELTER_*``), kept here so the shared core stays
untouched; read per worker (tests build workers with different values side by side)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ShelterSettings(BaseSettings):
    """Crisis window, matching radius and anti-scraping limits of the shelter domain."""

    model_config = SettingsConfigDict(env_prefix="TOCSIN_SHELTER_", extra="ignore")

    # Liberties: offers, requests and reports are deleted this many days after they close
    # (the "crisis window"); an offer closes by itself at its end time.
    retention_days: float = Field(default=14, gt=0)
    # Requests nobody closes still end: a seeker's need is a matter of hours, not weeks.
    request_ttl_hours: float = Field(default=48, gt=0)
    # Proposals reach at most this far (measured between coarse cell centres).
    max_radius_km: float = Field(default=10, gt=0, le=50)
    max_proposals: int = Field(default=10, ge=1, le=50)

    # Rate limits (per worker, per client key; requests also per address). Low on purpose:
    # every probe of the matcher costs a new request, which is what stops scraping.
    offer_per_minute: int = Field(default=6, ge=1)
    offer_burst: int = Field(default=10, ge=1)
    request_per_minute: int = Field(default=10, ge=1)
    request_burst: int = Field(default=20, ge=1)
    address_per_minute: int = Field(default=60, ge=1)
    address_burst: int = Field(default=60, ge=1)
    read_per_minute: int = Field(default=60, ge=1)
    read_burst: int = Field(default=60, ge=1)
    report_per_minute: int = Field(default=5, ge=1)
    report_burst: int = Field(default=5, ge=1)


def shelter_settings() -> ShelterSettings:
    """Read the shelter settings from the environment."""
    return ShelterSettings()
