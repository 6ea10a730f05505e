"""Rate limits for public endpoints: token buckets in the worker's memory.

Per worker, on purpose: a limit that needs a shared store to answer would put that store on the
critical path of an SOS. With N workers behind a balancer a client gets at most N times the rate,
which still stops a flood.

Keys are network addresses (:func:`client_address`), never only a header the client writes: an
``X-Device-Token`` costs nothing to mint, and keying on it let 40 logins with a fresh token each
through unthrottled (issue 19, finding 8). Where many devices share one address (a stadium's
Wi-Fi, a carrier's NAT) and must not starve each other, a limit declared with ``devices=N``
gives each device its own bucket *and* the address a bucket N times larger: minting tokens from
one address gets at most N times the rate. Behind a reverse proxy the address is the one the
proxy forwarded, trusted only from ``TOCSIN_TRUSTED_PROXIES`` (``tocsin serve``).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi import HTTPException, Request

from tocsin.core.state import States


class TokenBucket:
    """``rate_per_minute`` tokens per minute, bursts up to ``burst``; bounded number of keys.

    A key idle long enough to have refilled to ``burst`` is forgotten (a fresh bucket is full:
    the answer is the same), so the memory follows the keys active in the last
    ``burst / rate`` seconds rather than growing to ``max_keys`` under a steady stream of new
    clients. Keys are kept in the order of their last hit, so the idle ones are at the front.
    """

    def __init__(
        self,
        rate_per_minute: float,
        *,
        burst: int | None = None,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, int(rate_per_minute)))
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()
        # Seconds after which an untouched bucket is full again (and can be dropped).
        self.refill_s = self.burst / self.rate if self.rate > 0 else float("inf")

    def __len__(self) -> int:
        return len(self._buckets)

    def hit(self, key: str) -> float:
        """Take one token for ``key``; return 0 if allowed, else seconds to wait."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            self._drop_refilled(now)
        return wait

    def _drop_refilled(self, now: float) -> None:
        # At most a few per hit: each key is dropped once, after it was added once.
        for _ in range(4):
            key = next(iter(self._buckets), None)
            if key is None or now - self._buckets[key][1] < self.refill_s:
                return
            del self._buckets[key]


def client_address(request: Request) -> str:
    """The network address of the client, the one thing a client cannot choose per request.

    Behind a reverse proxy this is the address the proxy saw: ``tocsin serve`` trusts
    ``X-Forwarded-For`` only from the proxies listed in ``TOCSIN_TRUSTED_PROXIES``.
    """
    return request.client.host if request.client else "unknown"


def client_key(request: Request) -> str:
    """Key a request by client address and, when sent, the device token.

    Never a limit's only key (the token is the client's choice): always beside a bucket keyed
    by :func:`client_address` alone.
    """
    host = client_address(request)
    device = request.headers.get("x-device-token", "")[:128]
    return f"{host}|{device}"


class RateBuckets:
    """One worker's token buckets, by ``<limit name>:<scope>``; kept in its runtime's states."""

    def __init__(self) -> None:
        self._by_key: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def get(self, key: str, make: Callable[[], TokenBucket]) -> TokenBucket:
        """Return the bucket named ``key``, made by ``make()`` the first time."""
        found = self._by_key.get(key)
        if found is None:
            with self._lock:
                found = self._by_key.setdefault(key, make())
        return found

    def forget(self, name: str) -> None:
        """Drop the buckets of the limit ``name`` (a test starting a step with full buckets)."""
        with self._lock:
            for key in [k for k in self._by_key if k.split(":", 1)[0] == name]:
                del self._by_key[key]


def buckets(states: States) -> RateBuckets:
    """Return the worker's buckets, kept in its runtime's ``states``."""
    return states.shared(RateBuckets, RateBuckets)


class RateLimit:
    """A dependency that answers 429 with ``Retry-After`` once a client exceeds its bucket.

    ``per_minute`` is a number, or the name of a ``Settings`` field read from the worker's
    settings; each worker keeps its own buckets in its runtime. The client is its network
    address; with ``devices=N`` each device token has its own bucket at that rate and the
    address one of ``N`` times the rate (see the module docstring).
    """

    def __init__(
        self, name: str, per_minute: float | str, *, burst: int | None = None, devices: int = 0
    ) -> None:
        if devices < 0:
            raise ValueError("devices is a multiplier: 0 (address only) or more")
        self.name = name
        self.per_minute = per_minute
        self.burst = burst
        self.devices = devices

    def _bucket(self, request: Request, scope: str, factor: int = 1) -> TokenBucket:
        runtime = request.app.state.runtime

        def make() -> TokenBucket:
            rate = self.per_minute
            if isinstance(rate, str):
                rate = float(getattr(runtime.settings, rate))
            burst = self.burst if self.burst is not None else max(1, int(rate))
            return TokenBucket(rate * factor, burst=burst * factor)

        return buckets(runtime.states).get(f"{self.name}:{scope}", make)

    def __call__(self, request: Request) -> None:
        address = client_address(request)
        if not self.devices:
            self._refuse_after(self._bucket(request, "address").hit(address))
            return
        # The address's cap first: a refused request draws nothing from its device's bucket.
        self._refuse_after(self._bucket(request, "address", self.devices).hit(address))
        self._refuse_after(self._bucket(request, "device").hit(client_key(request)))

    def _refuse_after(self, wait: float) -> None:
        if wait > 0:
            raise HTTPException(
                429,
                f"too many requests to {self.name}; retry in {math.ceil(wait)} s",
                headers={"Retry-After": str(math.ceil(wait))},
            )
