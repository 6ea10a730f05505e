"""Settings of the alerts domain (environment, prefix ``TOCSIN_ALERTS_``), read at worker start.

Outbound requests go only where an operator said they may: webhook hosts are listed in
``TOCSIN_ALERTS_WEBHOOK_HOSTS`` and push services in ``TOCSIN_ALERTS_PUSH_HOSTS`` (the browsers'
push services by default). Anything else is refused when registered and again when sent, so a
subscription cannot make the server call into its own network (SSRF).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tocsin.core.outbound import url_problem
from tocsin.core.webpush import DEFAULT_PUSH_HOSTS, PushSettings

__all__ = ["DEFAULT_PUSH_HOSTS", "AlertSettings", "url_problem"]


class AlertSettings(PushSettings):
    """Fan-out and CAP settings; see the module docstring. The Web Push ones (``push_hosts``,
    ``vapid_private_key``, ``vapid_subject``, ``timeout_seconds``) are the core's
    :class:`~tocsin.core.webpush.PushSettings`, read under the same names by the cyber desk."""

    model_config = SettingsConfigDict(env_prefix="TOCSIN_ALERTS_", extra="ignore")

    sender: str = ""  # CAP <sender>; default tocsin@<host of TOCSIN_BASE_URL>
    sender_name: str = "Préfecture de police"
    webhook_hosts: str = ""  # comma-separated host or host:port, "*.example.org" allowed
    retry_base_seconds: float = Field(default=2.0, ge=0, le=600)
    max_attempts: int = Field(default=6, ge=1, le=30)
    # Sends in flight per worker, and per push service (HTTP/2 streams on one connection).
    concurrency: int = Field(default=256, ge=1, le=5000)
    per_host: int = Field(default=16, ge=1, le=1000)  # webhooks in flight per platform host
    # A claimed delivery is another worker's again after this long without an outcome.
    lease_seconds: float = Field(default=60.0, ge=1, le=3600)
    poll_seconds: float = Field(default=1.0, gt=0, le=60)  # look for rows planned elsewhere
    encrypt_pool: Literal["thread", "process"] = "thread"  # see bench/alert_fanout.py
    subscription_days: int = Field(default=90, ge=1, le=400)
