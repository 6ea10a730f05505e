"""Rate limits of the SOS intake and follow-up channel (per worker, in memory).

The rule of issue 4: stop one device flooding the queue, never drop a first SOS from a new
device. So a device already seen (its ``X-Device-Token``, else its ``client_id``) has its own
bucket, and a device never seen only draws on a per-address budget of *new devices* that is
generous (default burst 1,000, then 3,000 a minute): a concert hall of hundreds of phones behind
one NAT all get through. The honest limit: an attacker minting a fresh identity per request from
one address is held to that budget, and a real newcomer behind the very same address would
share it once it is spent. A device counts as seen for ``device_memory_s`` (5 minutes by
default, at most twice that): one silent for longer draws one new-device token again, so the
worker's memory holds the devices of the last minutes, not every device ever seen.

The follow-up channel (issue 19): the token is checked first, and only a request with the right
token draws on its SOS's budget, so an SOS id alone cannot cut the caller off. A wrong token
draws on a budget of its client address instead (``wrong_token_per_minute``, burst
``wrong_token_burst``), answered 429 once spent; a right token is never refused because of
wrong ones, even from the same address (a carrier's NAT).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable

from fastapi import HTTPException

from tocsin.core.bus import SeenIds
from tocsin.core.ratelimit import TokenBucket
from tocsin.sos.config import SosSettings


def _refuse(what: str, wait: float) -> HTTPException:
    seconds = max(1, math.ceil(wait))
    return HTTPException(
        429, f"too many {what}; retry in {seconds} s", headers={"Retry-After": str(seconds)}
    )


class SosLimiter:
    """The buckets of one worker (see the module docstring)."""

    def __init__(self, cfg: SosSettings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.device = TokenBucket(cfg.device_per_minute, burst=cfg.device_burst, clock=clock)
        self.new_devices = TokenBucket(
            cfg.address_new_per_minute, burst=cfg.address_new_burst, clock=clock
        )
        self.follow_up = TokenBucket(
            cfg.follow_up_per_minute, burst=cfg.follow_up_burst, clock=clock
        )
        self.wrong_token = TokenBucket(
            cfg.wrong_token_per_minute, burst=cfg.wrong_token_burst, clock=clock
        )
        self._seen = SeenIds(capacity=200_000, ttl_s=cfg.device_memory_s, clock=clock)

    def check_intake(self, *, address: str, device_token: str | None, client_id: str) -> None:
        """Raise 429 if this SOS request exceeds its device's or its address's budget."""
        basis = f"d:{device_token}" if device_token else f"c:{client_id}"
        key = hashlib.sha256(basis.encode()).hexdigest()[:32]
        if self._seen.first_time(key):
            wait = self.new_devices.hit(address)
            if wait > 0:
                self._seen.forget(key)
                raise _refuse("new devices from this address", wait)
        wait = self.device.hit(key)
        if wait > 0:
            raise _refuse("SOS requests from this device", wait)

    def check_follow_up(self, *, sos_id: str) -> None:
        """Raise 429 if one SOS's follow-up channel is flooded (call once its token is right)."""
        wait = self.follow_up.hit(sos_id[:32])
        if wait > 0:
            raise _refuse("follow-up requests for this SOS", wait)

    def count_wrong_token(self, *, address: str) -> None:
        """Count a wrong follow-up token against ``address``; raise 429 once its budget is spent."""
        wait = self.wrong_token.hit(address)
        if wait > 0:
            raise _refuse("wrong follow-up tokens from this address", wait)
