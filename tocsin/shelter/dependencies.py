"""Dependencies of the shelter routes: the worker's shelter settings, secret headers, limits.

The settings are the ones ``lifecycle.start`` read for the worker (``ShelterState``).

Limits are token buckets per worker (as in :mod:`tocsin.core.ratelimit`), with rates from
:class:`ShelterSettings`. A per-client limit (address + device token, so the families behind one
NAT do not starve each other) also caps the address at ``ADDRESS_FACTOR`` times its rate,
because device tokens cost nothing to mint (issue 19, finding 8). Creating requests is in
addition limited per address alone (``address`` rate), because each probe of the matcher needs
a new request.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from tocsin.core.ratelimit import TokenBucket, buckets, client_address, client_key
from tocsin.core.runtime import AppRuntime
from tocsin.shelter.config import ShelterSettings
from tocsin.shelter.lifecycle import ShelterState

# How many devices' worth of a per-client rate one address may spend in all.
ADDRESS_FACTOR = 10


def get_config(runtime: AppRuntime) -> ShelterSettings:
    """Return this worker's shelter settings (read once, at start)."""
    return runtime.state(ShelterState).settings


Config = Annotated[ShelterSettings, Depends(get_config)]
ManageToken = Annotated[
    str | None, Header(alias="X-Manage-Token", max_length=128, description="host's secret")
]
RequestToken = Annotated[
    str | None, Header(alias="X-Request-Token", max_length=128, description="seeker's secret")
]


class Limit:
    """Answer 429 with ``Retry-After`` past ``<rate>_per_minute`` / ``<rate>_burst`` settings."""

    def __init__(self, rate: str, *, by_address: bool = False) -> None:
        self.rate = rate
        self.by_address = by_address

    def __call__(self, request: Request, config: Config) -> None:
        address = client_address(request)
        if self.by_address:
            self._spend(request, config, "", 1, address)
            return
        # The address's cap first: a refused request draws nothing from its device's bucket.
        self._spend(request, config, ":address", ADDRESS_FACTOR, address)
        self._spend(request, config, "", 1, client_key(request))

    def _spend(self, request: Request, config: Config, scope: str, factor: int, who: str) -> None:
        def make() -> TokenBucket:
            return TokenBucket(
                float(getattr(config, f"{self.rate}_per_minute")) * factor,
                burst=int(getattr(config, f"{self.rate}_burst")) * factor,
            )

        bucket = buckets(request.app.state.runtime.states).get(f"shelter.{self.rate}{scope}", make)
        wait = bucket.hit(who)
        if wait > 0:
            raise HTTPException(
                429, f"too many shelter requests; retry in {math.ceil(wait)} s",
                headers={"Retry-After": str(math.ceil(wait))},
            )
