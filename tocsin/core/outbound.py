"""Outbound HTTP goes only where the operator said: the one guard against SSRF.

Every URL the server itself calls (alert webhooks and push services, watch feeds and platform
webhooks) is checked against an operator's host list, when registered and again when called:
https only (plain http only to loopback, for tests and local relays), no credentials in the URL,
the host (or ``host:port``) listed, ``*.example.org`` for subdomains. Redirects are never followed,
so an allowed host cannot bounce a request into the operator's own network.
"""

from __future__ import annotations

import ipaddress
import urllib.request
from typing import Any
from urllib.parse import urlsplit


def host_list(text: str) -> list[str]:
    """Split a comma-separated host list."""
    return [h.strip().lower() for h in text.split(",") if h.strip()]


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` names this machine."""
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
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(host)):
        return "only https URLs are allowed (http only to loopback)"
    names = {host, f"{host}:{port}"} if port else {host}
    for entry in host_list(allowed):
        if entry in names:
            return None
        if entry.startswith("*.") and host.endswith(entry[1:]):
            return None
    return f"host {host!r} is not in the allowed list set by the operator"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx is then raised as an HTTPError: an answer, not a hop


def opener() -> urllib.request.OpenerDirector:
    """Return a urllib opener that follows no redirect and ignores proxy variables."""
    return urllib.request.build_opener(_NoRedirect(), urllib.request.ProxyHandler({}))
