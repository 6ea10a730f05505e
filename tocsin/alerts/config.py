"""Settings of the alerts domain (environment, prefix ``TOCSIN_ALERTS_``), read at worker start.

Outbound requests go only where an operator said they may: webhook hosts are listed in
``TOCSIN_ALERTS_WEBHOOK_HOSTS`` and push services in ``TOCSIN_ALERTS_PUSH_HOSTS`` (the browsers'
push services by default). Anything else is refused when registered and again when sent, so a
subscription cannot make the server call into its own network (SSRF).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PUSH_HOSTS = (
    "fcm.googleapis.com,updates.push.services.mozilla.com,web.push.apple.com,*.notify.windows.com"
)


class AlertSettings(BaseSettings):
    """Fan-out and CAP settings; see the module docstring."""

    model_config = SettingsConfigDict(env_prefix="TOCSIN_ALERTS_", extra="ignore")

    sender: str = ""  # CAP <sender>; default tocsin@<host of TOCSIN_BASE_URL>
    sender_name: str = "Préfecture de police"
    webhook_hosts: str = ""  # comma-separated host or host:port, "*.example.org" allowed
    push_hosts: str = DEFAULT_PUSH_HOSTS
    vapid_private_key: str = ""  # PEM text; generated into var/vapid.pem when empty
    vapid_subject: str = "mailto:alertes@tocsin.invalid"
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    retry_base_seconds: float = Field(default=2.0, ge=0, le=600)
    max_attempts: int = Field(default=6, ge=1, le=30)
    concurrency: int = Field(default=64, ge=1, le=1000)
    subscription_days: int = Field(default=90, ge=1, le=400)


def _host_list(text: str) -> list[str]:
    return [h.strip().lower() for h in text.split(",") if h.strip()]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str, allowed: str) -> str | None:
    """Say why ``url`` may not be called (None if it may): scheme, credentials, host list."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a valid URL"
    host = (parts.hostname or "").lower()
    if not host:
        return "the URL has no host"
    if parts.username or parts.password:
        return "credentials in the URL are not allowed"
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
        return "only https URLs are allowed (http only to loopback)"
    names = {host, f"{host}:{port}"} if port else {host}
    for entry in _host_list(allowed):
        if entry in names:
            return None
        if entry.startswith("*.") and host.endswith(entry[1:]):
            return None
    return f"host {host!r} is not in the allowed list set by the operator"
