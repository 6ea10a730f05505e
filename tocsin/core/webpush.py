"""Web Push for any domain: the VAPID key and its settings, and a sender for a few messages.

The alerts domain fans out to millions with its own loop (``tocsin.alerts.fanout``); the cyber
desk pushes an advisory to its few subscribed organisations. Both sign with the same VAPID key
(RFC 8292) read from the same settings, and both send over :mod:`tocsin.core.push`'s pooled
HTTP/2 connections (one per push service), so neither depends on the other's domain.

The settings keep their historical names (``TOCSIN_ALERTS_PUSH_HOSTS``,
``TOCSIN_ALERTS_VAPID_PRIVATE_KEY``, ``TOCSIN_ALERTS_VAPID_SUBJECT``,
``TOCSIN_ALERTS_TIMEOUT_SECONDS``): operators see no change. Push services are reached only
where the operator allows (``push_hosts``), checked when a subscription is recorded and again
when sent, so a subscription cannot make the server call into its own network (SSRF).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02, b64urlencode
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tocsin.core.outbound import url_problem
from tocsin.core.push import Outcome, Pools, VapidSigner, encrypt, jsonable, push_headers

log = logging.getLogger("tocsin.core.webpush")

DEFAULT_PUSH_HOSTS = (
    "fcm.googleapis.com,updates.push.services.mozilla.com,web.push.apple.com,*.notify.windows.com"
)


class PushSettings(BaseSettings):
    """Web Push settings shared by the domains that push (prefix ``TOCSIN_ALERTS_``, see above)."""

    model_config = SettingsConfigDict(env_prefix="TOCSIN_ALERTS_", extra="ignore")

    push_hosts: str = DEFAULT_PUSH_HOSTS  # comma-separated host or host:port, "*.x.org" allowed
    vapid_private_key: str = ""  # PEM text; generated into var/vapid.pem when empty
    vapid_subject: str = "mailto:alertes@tocsin.invalid"
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)


@dataclass
class VapidKey:
    """The server's VAPID key and the public key browsers need (``applicationServerKey``)."""

    vapid: Vapid02
    public_key: str


def load_vapid(pem: str, var_dir: Path) -> VapidKey:
    """Use the configured PEM, else ``var/vapid.pem``, generating it on first start.

    The file is created whole or not at all (written aside, then linked into place): two
    domains, or two workers, starting at once on a fresh directory end up with one key.
    """
    if pem.strip():
        vapid = Vapid02.from_pem(pem.encode())
    else:
        path = var_dir / "vapid.pem"
        if not path.exists():
            _generate(path)
        vapid = Vapid02.from_file(str(path))
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return VapidKey(vapid=vapid, public_key=b64urlencode(raw))


def _generate(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    vapid = Vapid02()
    vapid.generate_keys()
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".vapid-", suffix=".pem")
    os.close(fd)
    try:
        vapid.save_key(temp)
        os.chmod(temp, 0o600)
        try:
            os.link(temp, path)  # fails if another start created it first: keep theirs
            log.info("generated a VAPID key in %s", path)
        except FileExistsError:
            pass
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


class PushSender:
    """Sends single Web Push messages over pooled connections, signed with one VAPID key.

    For a domain with few recipients per event (the cyber desk's subscribed organisations):
    each message is encrypted off the event loop and POSTed under its push service's bound.
    ``send`` never raises for network trouble or a bad subscription: it returns the
    :class:`~tocsin.core.push.Outcome` (``permanent`` when retrying cannot help).
    """

    def __init__(self, key: VapidKey, settings: PushSettings, *, per_origin: int = 16) -> None:
        self.settings = settings
        self.signer = VapidSigner(key.vapid.private_key, settings.vapid_subject)
        self.pools = Pools(timeout=settings.timeout_seconds, per_origin=per_origin)

    async def send(self, endpoint: str, keys: Mapping[str, str], payload: Any, *,
                   topic: str | None = None, ttl: int = 3600,
                   urgency: str = "high") -> Outcome:
        """Encrypt ``payload`` (JSON) for the subscription and send it."""
        problem = url_problem(endpoint, self.settings.push_hosts)
        if problem is not None:
            return Outcome(ok=False, error=f"refused: {problem}", permanent=True)
        try:
            body = await asyncio.to_thread(
                encrypt, str(keys.get("p256dh", "")), str(keys.get("auth", "")),
                jsonable(payload))
        except (ValueError, TypeError) as exc:
            return Outcome(ok=False, error=f"bad subscription keys: {exc}"[:200], permanent=True)
        headers = push_headers(self.signer, endpoint, topic=topic, ttl=ttl, urgency=urgency)
        return await self.pools.post(endpoint, body, headers, client_errors_final=True)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self.pools.aclose()
