"""A small HTTP client for the demo: bearer tokens, device tokens, and loud failures.

Any ``httpx.Client`` works underneath: one pointed at a running server, or a test client bound
to an in-process app. An answer outside the expected statuses raises :class:`DemoError` with the
method, path, status and body, so a replay that breaks says exactly which call broke.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from typing import Any

import httpx


class DemoError(RuntimeError):
    """A call of the replay got an unexpected answer."""


class Api:
    """Thin wrapper over an ``httpx.Client`` for the calls the replay makes."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.calls = 0

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        device: str | None = None,
        expect: Iterable[int] = (200, 201),
        headers: dict[str, str] | None = None,
        retries: int = 5,
        **kwargs: Any,
    ) -> Any:
        """Send one request; return the decoded JSON (or text); raise on an unexpected status.

        A 429 is honoured (wait ``Retry-After``, at most a few times): the demo plays by the
        same rate limits as any client.
        """
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if device:
            sent["X-Device-Token"] = device
        wanted = tuple(expect)
        for attempt in range(retries + 1):
            response = self.http.request(method, path, headers=sent, **kwargs)
            self.calls += 1
            if response.status_code == 429 and attempt < retries:
                time.sleep(min(float(response.headers.get("Retry-After", "1")), 5.0))
                continue
            break
        if response.status_code not in wanted:
            raise DemoError(
                f"{method} {path} answered {response.status_code}: {response.text[:500]}")
        if not response.content:
            return None
        if "json" in response.headers.get("content-type", ""):
            return response.json()
        return response.text

    def login(self, username: str, password: str) -> str:
        """Return a bearer token for the account (each login from its own device)."""
        body = self.call("POST", "/api/v1/auth/token", device=new_device(),
                         data={"username": username, "password": password})
        return str(body["access_token"])


def new_device() -> str:
    """Return a fresh device token: each simulated phone is its own device."""
    return "demo-" + secrets.token_urlsafe(12)


def new_client_id() -> str:
    """Return a fresh SOS ``client_id`` (generated once by a phone, kept secret)."""
    return secrets.token_urlsafe(18)
