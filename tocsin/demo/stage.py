"""The stage the scenes share: the API, the cast, the random source, and what was sent."""

from __future__ import annotations

import datetime as dt
import math
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tocsin.demo.cast import Cast
from tocsin.demo.client import Api
from tocsin.demo.receiver import Receiver

GIVEN = ("Camille", "Lucas", "Léa", "Hugo", "Chloé", "Nathan", "Manon", "Thomas", "Inès",
         "Julien", "Sarah", "Antoine", "Yasmine", "Mathieu", "Clara", "Karim", "Élodie", "Rémi")
FAMILY = ("Moreau", "Lefèvre", "Garnier", "Rousseau", "Benali", "Fontaine", "Chevalier",
          "Marchand", "Da Silva", "Perrin", "Nguyen", "Lambert", "Caron", "Haddad", "Roux")


def jitter(rng: random.Random, lat: float, lon: float, metres: float) -> tuple[float, float]:
    """Return a point about ``metres`` from (lat, lon), normally spread."""
    dlat = rng.gauss(0, metres) / 111_320
    dlon = rng.gauss(0, metres) / (111_320 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def later(hours: float) -> str:
    """Return an ISO time ``hours`` from now (UTC)."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).isoformat()


@dataclass
class Sent:
    """What the replay sent, for its summary and its checks."""

    sos: list[dict[str, Any]] = field(default_factory=list)
    alert_id: str = ""
    update_id: str = ""
    check_id: int = 0
    marks: int = 0
    persons: list[str] = field(default_factory=list)
    notes: int = 0
    offers: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    matched: int = 0
    items: list[dict[str, Any]] = field(default_factory=list)
    decided: int = 0
    orders: int = 0
    confirmed: int = 0
    messages: int = 0
    cyber_incidents: list[str] = field(default_factory=list)
    advisory_id: str = ""
    partner_indicators: int = 0


class Stage:
    """State shared by the scenes of the evening."""

    def __init__(self, api: Api, cast: Cast, *, rng: random.Random, scale: float,
                 workers: int, receiver: Receiver | None, tag: str = "") -> None:
        self.api = api
        self.cast = cast
        self.rng = rng
        self.scale = scale
        self.workers = workers
        self.receiver = receiver
        # Suffix of this run's names (accounts, platform) when the database holds another run.
        self.tag = tag
        self.sent = Sent()

    def n(self, count: int) -> int:
        """Scale a count, never below one."""
        return max(1, round(count * self.scale))

    def _many(self, bodies: list[Any], send: Any) -> list[Any]:
        if self.workers <= 1 or len(bodies) < 4:
            return [send(b) for b in bodies]
        with ThreadPoolExecutor(self.workers, thread_name_prefix="demo") as pool:
            return list(pool.map(send, bodies))
