"""Dependencies of the shelter routes: the worker's shelter settings, secret headers, limits.

Limits are token buckets per worker (as in :mod:`tocsin.core.ratelimit`), with rates from
:class:`ShelterSettings`. Creating requests is limited twice: per client (address + device
token) and per address alone, because an attacker can mint device tokens at will but each probe
of the matcher needs a new request.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from tocsin.core.ratelimit import TokenBucket, client_key
from tocsin.shelter.config import ShelterSettings, shelter_settings

CONFIG_KEY = "shelter.config"


def get_config(request: Request) -> ShelterSettings:
    """Return this worker's shelter settings (read from the environment on first use)."""
    extras = request.app.state.runtime.extras
    config = extras.get(CONFIG_KEY)
    if config is None:
        config = extras.setdefault(CONFIG_KEY, shelter_settings())
    assert isinstance(config, ShelterSettings)
    return config


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
        extras = request.app.state.runtime.extras
        key = f"ratelimit:shelter.{self.rate}"
        bucket = extras.get(key)
        if bucket is None:
            bucket = extras.setdefault(key, TokenBucket(
                float(getattr(config, f"{self.rate}_per_minute")),
                burst=int(getattr(config, f"{self.rate}_burst")),
            ))
        who = (request.client.host if request.client else "unknown") if self.by_address \
            else client_key(request)
        wait = bucket.hit(who)
        if wait > 0:
            raise HTTPException(
                429, f"too many shelter requests; retry in {math.ceil(wait)} s",
                headers={"Retry-After": str(math.ceil(wait))},
            )
