"""Dispatch settings (``TOCSIN_DISPATCH_*``), kept in the domain so the core knows nothing of them.

Tests and the demo pass a ``DispatchConfig`` through ``runtime.extras["dispatch_config"]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tocsin.dispatch.index import DEFAULT_CELL_DEG


class _Env(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOCSIN_DISPATCH_", extra="ignore")

    cluster_radius_m: float = Field(default=200.0, gt=0, le=10_000)
    cluster_window_s: float = Field(default=1800.0, gt=0, le=86_400)
    offer_timeout_s: float = Field(default=30.0, gt=0, le=3600)
    candidates: int = Field(default=5, ge=1, le=50)
    speed_kmh: float = Field(default=40.0, gt=0, le=200)
    escalation_tick_s: float = Field(default=1.0, gt=0, le=60)
    batch: int = Field(default=256, ge=1, le=5000)
    retention_days: float = Field(default=30, gt=0)
    open_expiry_days: float = Field(default=90, gt=0)


@dataclass(frozen=True)
class DispatchConfig:
    """How dispatch clusters, proposes and escalates."""

    # An SOS within this distance of an open incident's centroid...
    cluster_radius_m: float = 200.0
    # ...and this long after the incident's last SOS joins it (one concert hall, one incident).
    cluster_window_s: float = 1800.0
    # A unit that does not answer an offer in this time is skipped for the next one.
    offer_timeout_s: float = 30.0
    # How many nearest units are proposed for an incident.
    candidates: int = 5
    # Average speed for the road-free ETA estimate.
    speed_kmh: float = 40.0
    # How often each worker looks for offers past their deadline.
    escalation_tick_s: float = 1.0
    # At most this many waiting ``sos.created`` are clustered in one transaction.
    batch: int = 256
    # Liberties: incidents (with the SOS positions they copy) are deleted this many days after
    # closing, or after their last SOS if never closed, as the sos domain does with the SOS.
    retention_days: float = 30
    open_expiry_days: float = 90
    cell_deg: float = DEFAULT_CELL_DEG

    @classmethod
    def from_env(cls) -> DispatchConfig:
        """Read the configuration from ``TOCSIN_DISPATCH_*`` variables."""
        env = _Env()
        return cls(**env.model_dump())
