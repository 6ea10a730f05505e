"""Dispatch settings (``TOCSIN_DISPATCH_*``), kept in the domain so the core knows nothing of them.

One class, each default written once: ``DispatchConfig()`` reads the environment (the worker does
so once, at start, in ``lifecycle.start``); tests, benchmarks and the demo build one with the
values they want (``DispatchConfig(offer_timeout_s=60)``; fields not given are still read from
the environment) and put it on the runtime before the worker starts.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tocsin.dispatch.index import DEFAULT_CELL_DEG


class DispatchConfig(BaseSettings):
    """How dispatch clusters, proposes and escalates; every field maps to ``TOCSIN_DISPATCH_*``."""

    # Frozen: one worker's engine, index and loops share it, nobody changes it under them.
    model_config = SettingsConfigDict(env_prefix="TOCSIN_DISPATCH_", extra="ignore", frozen=True)

    # An SOS within this distance of an open incident's centroid...
    cluster_radius_m: float = Field(default=200.0, gt=0, le=10_000)
    # ...and this long after the incident's last SOS joins it (one concert hall, one incident).
    cluster_window_s: float = Field(default=1800.0, gt=0, le=86_400)
    # A unit that does not answer an offer in this time is skipped for the next one.
    offer_timeout_s: float = Field(default=30.0, gt=0, le=3600)
    # How many nearest units are proposed for an incident.
    candidates: int = Field(default=5, ge=1, le=50)
    # Average speed for the road-free ETA estimate.
    speed_kmh: float = Field(default=40.0, gt=0, le=200)
    # How often each worker looks for offers past their deadline.
    escalation_tick_s: float = Field(default=1.0, gt=0, le=60)
    # At most this many waiting ``sos.created`` are clustered in one transaction.
    batch: int = Field(default=256, ge=1, le=5000)
    # Liberties: incidents (with the SOS positions they copy) are deleted this many days after
    # closing, or after their last SOS if never closed, as the sos domain does with the SOS.
    retention_days: float = Field(default=30, gt=0)
    open_expiry_days: float = Field(default=90, gt=0)
    # The spatial index's cell, in degrees (tocsin.dispatch.index).
    cell_deg: float = Field(default=DEFAULT_CELL_DEG, gt=0, le=1)

    @classmethod
    def from_env(cls) -> DispatchConfig:
        """Read the configuration from ``TOCSIN_DISPATCH_*`` variables (same as ``cls()``)."""
        return cls()
