"""Web Push at scale (RFC 8030, 8291, 8292) and pooled outbound POSTs, shared by the domains.

What makes a million pushes cheap is doing once what can be done once:

* :class:`VapidSigner` signs the VAPID JWT (RFC 8292) once per push-service origin (the JWT's
  ``aud``) and reuses it until an hour before it expires, instead of one ECDSA signature per
  message;
* :func:`encrypt` is RFC 8291 ``aes128gcm`` written out on ``cryptography`` and ``hmac`` (no
  per-message objects beyond the ephemeral key the RFC asks for); :class:`Encryptor` runs it in
  batches on a pool sized to the cores, off the event loop;
* :class:`Pools` keeps one HTTP/2 connection (or an HTTP/1.1 keep-alive pool) per origin
  (:mod:`tocsin.core.pushhttp`), with its own bound on concurrent requests, so one slow
  platform holds its own slots and nobody else's, and a ``429``/``503`` with ``Retry-After``
  pauses that origin only.

TLS is verified as ``ssl.create_default_context()`` does it: the system store, with OpenSSL's
``SSL_CERT_FILE``/``SSL_CERT_DIR`` honoured (an operator behind an inspecting proxy points them at
a bundle holding its CA). Proxies from the environment are not used and redirects never followed:
an allowed host must not bounce a request into the operator's network.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import email.utils
import hashlib
import hmac
import json
import os
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tocsin.core.pushhttp import Transport, TransportError
from tocsin.core.pushwire import Slots, split_url

RECORD_SIZE = 4096
VAPID_LIFETIME_S = 12 * 3600  # RFC 8292 §2: at most 24 h
VAPID_RENEW_BEFORE_S = 3600
RETRY_AFTER_MAX_S = 3600.0

_CURVE = ec.SECP256R1()
_KEY_INFO = b"WebPush: info\x00"
_CEK_INFO = b"Content-Encoding: aes128gcm\x00\x01"
_NONCE_INFO = b"Content-Encoding: nonce\x00\x01"


def b64url(data: bytes) -> str:
    """Base64url without padding (what browsers hand out and RFC 8292 uses)."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _raw_public(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962,
                            serialization.PublicFormat.UncompressedPoint)


def encrypt(p256dh: str, auth: str, plaintext: bytes, *, salt: bytes | None = None,
            server_key: ec.EllipticCurvePrivateKey | None = None) -> bytes:
    """Encrypt one push message for a browser (RFC 8291 with RFC 8188 ``aes128gcm``).

    ``p256dh`` and ``auth`` are the subscription's keys (base64url). ``salt`` and ``server_key``
    are fresh for every message; they are parameters only so the RFC's test vector can be
    replayed. Raises ``ValueError`` for keys that are not a P-256 point and a 16-byte secret.
    """
    ua_public = b64url_decode(p256dh)
    auth_secret = b64url_decode(auth)
    if len(auth_secret) != 16:
        raise ValueError("auth secret must be 16 bytes")
    if len(plaintext) > RECORD_SIZE - 17:  # one record: delimiter and tag must fit
        raise ValueError("push payload too large for one record")
    ua_key = ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, ua_public)
    server_key = server_key or ec.generate_private_key(_CURVE)
    as_public = _raw_public(server_key.public_key())
    salt = salt or os.urandom(16)
    shared = server_key.exchange(ec.ECDH(), ua_key)
    # HKDF (RFC 5869) written with hmac: each step is one HMAC-SHA256 of at most 32 bytes out.
    prk_key = hmac.digest(auth_secret, shared, "sha256")
    ikm = hmac.digest(prk_key, _KEY_INFO + ua_public + as_public + b"\x01", "sha256")
    prk = hmac.digest(salt, ikm, "sha256")
    cek = hmac.digest(prk, _CEK_INFO, "sha256")[:16]
    nonce = hmac.digest(prk, _NONCE_INFO, "sha256")[:12]
    header = salt + RECORD_SIZE.to_bytes(4, "big") + bytes([len(as_public)]) + as_public
    return header + AESGCM(cek).encrypt(nonce, plaintext + b"\x02", None)


def encrypt_many(items: Sequence[tuple[str, str, bytes]]) -> list[bytes | str]:
    """Encrypt a batch; a subscription with broken keys gives its error text, not an exception."""
    out: list[bytes | str] = []
    for p256dh, auth, plaintext in items:
        try:
            out.append(encrypt(p256dh, auth, plaintext))
        except (ValueError, TypeError) as exc:
            out.append(f"bad subscription keys: {exc}"[:200])
    return out


def _encrypt_slice(items: Sequence[tuple[str, str, bytes]]) -> tuple[list[bytes | str], float]:
    started = time.thread_time()
    out = encrypt_many(items)
    return out, time.thread_time() - started


class Encryptor:
    """Runs :func:`encrypt_many` off the event loop, split across a pool sized to the cores.

    ``kind`` is ``"thread"`` or ``"process"``; ``bench/alert_fanout.py`` measures both (the
    primitives run in OpenSSL, but the Python glue around them holds the GIL).
    """

    def __init__(self, kind: str = "thread", workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.kind = kind
        self._pool: concurrent.futures.Executor = (
            concurrent.futures.ProcessPoolExecutor(self.workers) if kind == "process"
            else concurrent.futures.ThreadPoolExecutor(self.workers,
                                                       thread_name_prefix="push-encrypt"))
        self.seconds = 0.0  # wall time the event loop waited on encryption batches
        self.cpu_seconds = 0.0  # CPU time the pool spent encrypting

    async def encrypt(self, items: Sequence[tuple[str, str, bytes]]) -> list[bytes | str]:
        """Encrypt ``items`` in about one slice per pool worker; keep their order."""
        if not items:
            return []
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        size = max(16, -(-len(items) // self.workers))
        slices = [list(items[i:i + size]) for i in range(0, len(items), size)]
        parts = await asyncio.gather(
            *(loop.run_in_executor(self._pool, _encrypt_slice, part) for part in slices))
        self.seconds += time.perf_counter() - started
        self.cpu_seconds += sum(cpu for _, cpu in parts)
        return [body for part, _ in parts for body in part]

    def close(self) -> None:
        """Let the pool's workers go."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL: the VAPID audience and the pool key."""
    return split_url(url)[0]


class VapidSigner:
    """VAPID ``Authorization`` headers, one JWT per audience reused until near its expiry."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, subject: str, *,
                 lifetime_s: float = VAPID_LIFETIME_S, renew_before_s: float = VAPID_RENEW_BEFORE_S,
                 clock: Callable[[], float] = time.time) -> None:
        self._key = private_key
        self.subject = subject
        self.public_key = b64url(_raw_public(private_key.public_key()))
        self.lifetime_s = lifetime_s
        self.renew_before_s = renew_before_s
        self.clock = clock
        self._cache: dict[str, tuple[float, str]] = {}
        self.signatures = 0  # how many JWTs were signed (the bench and tests read it)
        self.seconds = 0.0  # time spent signing

    def header(self, endpoint: str) -> str:
        """Return ``vapid t=<JWT>, k=<public key>`` for the push service of ``endpoint``."""
        audience = origin_of(endpoint)
        now = self.clock()
        cached = self._cache.get(audience)
        if cached is not None and cached[0] - now > self.renew_before_s:
            return cached[1]
        started = time.perf_counter()
        expires = int(now + self.lifetime_s)
        claims = {"aud": audience, "exp": expires, "sub": self.subject}
        signing_input = (b64url(b'{"typ":"JWT","alg":"ES256"}') + "."
                         + b64url(json.dumps(claims, separators=(",", ":")).encode()))
        r, s = decode_dss_signature(self._key.sign(signing_input.encode(),
                                                   ec.ECDSA(hashes.SHA256())))
        token = f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
        value = f"vapid t={token}, k={self.public_key}"
        self._cache[audience] = (float(expires), value)
        self.signatures += 1
        self.seconds += time.perf_counter() - started
        return value


def tls_context() -> ssl.SSLContext:
    """Verify servers as Python does by default (system store, ``SSL_CERT_FILE`` honoured)."""
    context = ssl.create_default_context()
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


@dataclass
class Outcome:
    """How one request ended: ``ok``; else ``gone`` (404/410, unsubscribe), ``permanent``
    (retrying cannot help) or transient, with the service's ``Retry-After`` when it gave one."""

    ok: bool
    status: int | None = None
    error: str = ""
    permanent: bool = False
    gone: bool = False
    retry_after: float | None = None


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Parse ``Retry-After`` (seconds or an HTTP date), bounded to an hour."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), RETRY_AFTER_MAX_S)
    with contextlib.suppress(TypeError, ValueError, IndexError):
        when = email.utils.parsedate_to_datetime(value)
        delay = when.timestamp() - (time.time() if now is None else now)
        return min(max(delay, 0.0), RETRY_AFTER_MAX_S)
    return None


def classify(status: int, headers: dict[str, str], *,
             client_errors_final: bool) -> Outcome:
    """Turn an answer into an :class:`Outcome` (the retry and unsubscribe rules)."""
    if 200 <= status < 300:
        return Outcome(ok=True, status=status)
    if status in (404, 410):
        return Outcome(ok=False, status=status, error=f"HTTP {status}: gone", permanent=True,
                       gone=True)
    if status == 429 or status >= 500:
        return Outcome(ok=False, status=status, error=f"HTTP {status}",
                       retry_after=retry_after_seconds(headers.get("retry-after")))
    # A push service's 400/403/413 says the request itself is wrong: sending it again is no cure.
    return Outcome(ok=False, status=status, error=f"HTTP {status}",
                   permanent=client_errors_final and 400 <= status < 500)


@dataclass
class _Origin:
    slots: Slots
    paused_until: float = 0.0


@dataclass
class Pools:
    """Bounded, pausable POSTs per origin over :class:`~tocsin.core.pushhttp.Transport`."""

    timeout: float = 5.0
    per_origin: int = 64
    http2: bool = True
    verify: ssl.SSLContext | None = None
    _origins: dict[str, _Origin] = field(default_factory=dict)
    _transport: Transport | None = None
    io_seconds: float = 0.0  # summed time of requests in flight (overlaps: not CPU time)

    def _origin(self, origin: str) -> _Origin:
        found = self._origins.get(origin)
        if found is None:
            found = self._origins[origin] = _Origin(Slots(self.per_origin))
        return found

    def pause(self, url: str, seconds: float) -> None:
        """Hold every request to this origin for ``seconds`` (its ``Retry-After``)."""
        target = self._origin(origin_of(url))
        target.paused_until = max(target.paused_until, time.monotonic() + seconds)

    async def post(self, url: str, content: bytes, headers: dict[str, str], *,
                   client_errors_final: bool = False) -> Outcome:
        """POST under the origin's bound and pause; never raises for network trouble."""
        if self._transport is None:
            self._transport = Transport(
                timeout=self.timeout, per_origin=self.per_origin, http2=self.http2,
                context=self.verify if self.verify is not None else tls_context())
        target = self._origin(origin_of(url))
        async with target.slots:
            wait = target.paused_until - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            started = time.perf_counter()
            try:
                status, answer = await self._transport.post(url, content, headers)
            except TransportError as exc:
                return Outcome(ok=False, error=str(exc)[:300])
            finally:
                self.io_seconds += time.perf_counter() - started
        outcome = classify(status, answer, client_errors_final=client_errors_final)
        if outcome.retry_after:
            self.pause(url, outcome.retry_after)
        return outcome

    async def aclose(self) -> None:
        """Close every pooled connection."""
        if self._transport is not None:
            await self._transport.aclose()
            self._transport = None


def push_headers(vapid: VapidSigner, endpoint: str, *, topic: str | None = None,
                 ttl: int = 3600, urgency: str = "high") -> dict[str, str]:
    """The RFC 8030 request headers; ``topic`` lets the service replace an undelivered copy."""
    headers = {
        "Authorization": vapid.header(endpoint), "TTL": str(ttl), "Urgency": urgency,
        "Content-Encoding": "aes128gcm", "Content-Type": "application/octet-stream",
    }
    if topic:
        headers["Topic"] = topic[:32]
    return headers


def sign_body(secret: str, body: bytes, timestamp: int) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`` (the webhook signature)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def jsonable(value: Any) -> bytes:
    """Compact UTF-8 JSON, as the payloads are sent."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
