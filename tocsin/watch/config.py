"""Outbound settings of the watch domain (environment, prefix ``TOCSIN_WATCH_``).

The server fetches feeds and POSTs removal orders to platform webhooks: both only to hosts the
operator listed (``TOCSIN_WATCH_FEED_HOSTS``, ``TOCSIN_WATCH_WEBHOOK_HOSTS``; comma-separated,
``host``, ``host:port`` or ``*.example.org``), checked when registered and again when called, so a
moderator's typo or a stolen account cannot make the server call into its own network (SSRF).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tocsin.core.errors import Invalid
from tocsin.core.outbound import url_problem


class WatchSettings(BaseSettings):
    """Content-watch settings; every field maps to ``TOCSIN_WATCH_<NAME>``.

    Hosts the domain may call (empty means none), how often feeds are polled, and whether the
    authority holds the DSA Art. 22 trusted-flagger status (its notices then say so).
    """

    model_config = SettingsConfigDict(env_prefix="TOCSIN_WATCH_", extra="ignore")

    feed_hosts: str = ""
    webhook_hosts: str = ""
    feed_poll_seconds: float = Field(default=300, ge=0)
    trusted_flagger: bool = False
    # Hash matching (issue 21): PDQ bits of 256 that may differ (HMA's default 31), and the
    # TLSH distance (ThreatExchange's text_tlsh threshold 30). Read at each match.
    pdq_distance: int = Field(default=31, ge=0, le=64)
    tlsh_distance: int = Field(default=30, ge=0, le=300)


def settings_or_env(settings: WatchSettings | None) -> WatchSettings:
    """``settings`` (the worker's, read at start: ``lifecycle.WatchState``), else the environment.

    ``None`` only for a service called outside a worker (tests, tools): the routes and the
    worker's loops pass the settings their worker read once.
    """
    return settings if settings is not None else WatchSettings()


def check_outbound(url: str, kind: str, settings: WatchSettings | None = None) -> None:
    """Raise ``Invalid`` unless ``url`` may be called for ``kind`` ("feed" or "webhook")."""
    config = settings_or_env(settings)
    allowed = config.feed_hosts if kind == "feed" else config.webhook_hosts
    problem = url_problem(url, allowed)
    if problem is not None:
        variable = "TOCSIN_WATCH_FEED_HOSTS" if kind == "feed" else "TOCSIN_WATCH_WEBHOOK_HOSTS"
        raise Invalid(f"{kind} url refused: {problem} ({variable})")
