"""Settings read once from the environment (prefix ``TOCSIN_``), as DESIGN.md's contracts say.

Two run modes share one code path: the URLs alone decide embedded (SQLite + in-process bus) or
cluster (PostgreSQL + NATS JetStream).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_VAR_DIR = Path("var")


class Settings(BaseSettings):
    """Deployment settings; every field maps to ``TOCSIN_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="TOCSIN_", extra="ignore")

    var_dir: Path = DEFAULT_VAR_DIR
    database_url: str = ""
    bus_url: str = "memory://"
    # JetStream stream and subject prefix: tests use their own so runs never collide.
    bus_stream: str = "TOCSIN"
    bus_prefix: str = "tocsin"
    seal_key: str = ""
    seal_old_keys: str = ""
    base_url: str = "http://127.0.0.1:8000"
    map_tiles_url: str = ""

    token_ttl_minutes: int = Field(default=12 * 60, ge=1, le=7 * 24 * 60)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    # Public endpoints: requests per minute per client before 429.
    public_rate_per_minute: int = Field(default=120, ge=1)
    login_rate_per_minute: int = Field(default=10, ge=1)
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    db_pool_size: int = Field(default=10, ge=1)
    # Access log of ``tocsin serve``: off (liberties, and the SOS path's speed), or redacted
    # (no client address, no query string; tocsin.core.logredact).
    access_log: Literal["off", "redacted"] = "off"
    # Reverse proxies whose X-Forwarded-For ``tocsin serve`` believes: comma-separated addresses
    # or networks (CIDR). Empty: none, the peer's own address is the client's (issue 19: the
    # server's default had trusted loopback, so a local client could pose as any address).
    trusted_proxies: str = ""
    # At most this long a bus consumer waits for the SOS acknowledgements in flight to drain
    # before its next batch (tocsin.core.priority); 0: no waiting...
    background_max_wait_ms: float = Field(default=200, ge=0, le=2000)
    # ... when at least this many acknowledgements are in flight (saturation, not traffic).
    background_busy_at: int = Field(default=8, ge=1, le=10_000)
    # A consumer of the SOS's events takes at most one batch per this many ms (what arrives
    # meanwhile waits for the next batch: fewer, larger transactions).
    background_min_interval_ms: float = Field(default=100, ge=0, le=1000)

    @field_validator("bus_prefix")
    @classmethod
    def _simple_token(cls, value: str) -> str:
        if not value or not value.replace("_", "").replace("-", "").isalnum():
            raise ValueError("bus_prefix must be one NATS token: letters, digits, '_' or '-'")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, value: str) -> str:
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: {item!r} is not an IP address or network (CIDR); list "
                    "them separated by commas, e.g. '10.0.0.5, 192.168.1.0/24'"
                ) from None
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        """The trusted proxies as uvicorn's ``forwarded_allow_ips`` takes them."""
        return [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]

    @property
    def resolved_database_url(self) -> str:
        """Return the database URL, defaulting to a SQLite file under ``var_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'tocsin.db').as_posix()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def mode(self) -> str:
        """Name the run mode for health checks and logs."""
        return "embedded" if self.is_sqlite and self.bus_url.startswith("memory") else "cluster"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process settings, read once."""
    return Settings()
