"""The demo's cast: staff accounts, the patrol units, and the crews answering their phones.

Passwords are generated at each run and printed once (the banner and ``var/demo-accounts.txt``):
no password of the demo is written in the code or the documentation.
"""

from __future__ import annotations

import math
import random
import secrets
import string
import time
from dataclasses import dataclass, field

from tocsin.demo.client import Api

# Accounts: (key, username stem, role). The two authorities let the two-person rule be shown.
STAFF: tuple[tuple[str, str, str], ...] = (
    ("dispatcher", "dispatcher", "dispatcher"),
    ("authority", "prefet", "authority"),
    ("authority2", "prefet-adjoint", "authority"),
    ("moderator", "moderator", "moderator"),
    ("moderator2", "moderator2", "moderator"),
    ("analyst", "analyst", "analyst"),
    ("analyst2", "analyst2", "analyst"),
    ("platform", "platform", "platform"),
    ("organisation", "mairie", "organisation"),
    ("organisation2", "association", "organisation"),
    ("partner", "cert-partenaire", "partner"),
)

# Where patrols wait when the evening starts: police stations and crossroads of Paris and
# Saint-Denis (approximate), so the nearest unit differs from site to site.
POSTS: tuple[tuple[str, float, float], ...] = (
    ("PS 10-1", 48.8722, 2.3590), ("PS 11-1", 48.8590, 2.3790), ("PS 11-2", 48.8647, 2.3807),
    ("PS 20-1", 48.8650, 2.3990), ("PS 12-1", 48.8470, 2.3870), ("PS 03-1", 48.8630, 2.3600),
    ("PS 93-1", 48.9330, 2.3570), ("PS 93-2", 48.9200, 2.3560), ("BAC 75N-1", 48.8840, 2.3490),
    ("BAC 75N-2", 48.8790, 2.3700), ("BAC 75E-1", 48.8560, 2.3970), ("PS 19-1", 48.8830, 2.3820),
    ("PS 04-1", 48.8550, 2.3580), ("PS 05-1", 48.8450, 2.3500), ("PS 09-1", 48.8760, 2.3380),
    ("PS 18-1", 48.8920, 2.3440), ("PS 17-1", 48.8870, 2.3150), ("PS 08-1", 48.8720, 2.3120),
    ("PS 07-1", 48.8570, 2.3130), ("PS 15-1", 48.8410, 2.2990), ("PS 14-1", 48.8330, 2.3260),
    ("PS 13-1", 48.8320, 2.3560), ("PS 16-1", 48.8630, 2.2760), ("PS 01-1", 48.8620, 2.3360),
)


def new_password() -> str:
    """Return a random password that passes the server's strength rules."""
    alphabet = string.ascii_letters + string.digits
    while True:
        word = "".join(secrets.choice(alphabet) for _ in range(14))
        if any(c.islower() for c in word) and any(c.isupper() for c in word) and any(
                c.isdigit() for c in word):
            return f"{word[:7]}-{word[7:]}"


@dataclass
class Account:
    username: str
    role: str
    password: str
    token: str = ""
    drives: str = ""  # a unit account: the callsign of the unit its crew drives


@dataclass
class Cast:
    """Every account of the run, by key (``dispatcher``, ``unit03``...)."""

    accounts: dict[str, Account] = field(default_factory=dict)

    def token(self, key: str) -> str:
        return self.accounts[key].token

    def rows(self) -> list[Account]:
        return list(self.accounts.values())


def create_staff(api: Api, admin: Account, *, tag: str, units: int) -> Cast:
    """Create and log in the staff and unit accounts through ``POST /api/v1/users``."""
    cast = Cast()
    cast.accounts["admin"] = admin
    wanted = [(key, f"demo-{stem}{tag}", role) for key, stem, role in STAFF]
    wanted += [(f"unit{i:02d}", f"demo-unit{i:02d}{tag}", "unit") for i in range(1, units + 1)]
    for key, username, role in wanted:
        account = Account(username=username, role=role, password=new_password())
        api.call("POST", "/api/v1/users", token=admin.token,
                 json={"username": username, "password": account.password, "role": role})
        account.token = api.login(username, account.password)
        cast.accounts[key] = account
    return cast


@dataclass
class Unit:
    """A patrol as its crew knows it: its id, account and where it is."""

    key: str
    id: str
    callsign: str
    lat: float
    lon: float
    # The assignment being driven to, and when the crew reports on scene (monotonic time).
    driving: str | None = None
    arrive_at: float = 0.0
    target: tuple[float, float] | None = None
    done: set[str] = field(default_factory=set)


class Crews:
    """The unit crews: each answers its own offers on its own account (the unit API)."""

    def __init__(self, api: Api, cast: Cast, *, speed: float, rng: random.Random,
                 tag: str = "") -> None:
        self.api = api
        self.cast = cast
        self.speed = speed
        self.rng = rng
        self.units: dict[str, Unit] = {}
        self.tag = tag  # callsigns are unique: a second run on one database suffixes them
        self.accepted = 0
        self.on_scene = 0

    def register(self, count: int) -> None:
        """Register the units (dispatcher), then each crew pings its position (unit)."""
        dispatcher = self.cast.token("dispatcher")
        for i in range(1, count + 1):
            callsign, lat, lon = POSTS[(i - 1) % len(POSTS)]
            if i > len(POSTS):
                callsign = f"{callsign}-{i}"
            callsign += self.tag
            lat += self.rng.uniform(-0.002, 0.002)
            lon += self.rng.uniform(-0.003, 0.003)
            key = f"unit{i:02d}"
            body = self.api.call("POST", "/api/v1/dispatch/units", token=dispatcher, json={
                "callsign": callsign, "username": self.cast.accounts[key].username})
            unit = Unit(key=key, id=body["id"], callsign=callsign, lat=lat, lon=lon)
            self.cast.accounts[key].drives = callsign
            self.units[unit.id] = unit
            self._ping(unit, lat, lon)

    def _ping(self, unit: Unit, lat: float, lon: float) -> None:
        self.api.call("POST", f"/api/v1/dispatch/units/{unit.id}/position",
                      token=self.cast.token(unit.key),
                      json={"lat": round(lat, 6), "lon": round(lon, 6), "accuracy_m": 15})
        unit.lat, unit.lon = lat, lon

    def tick(self) -> None:
        """Answer new offers and report arrivals that are due."""
        now = time.monotonic()
        queue = self.api.call("GET", "/api/v1/dispatch/incidents",
                              token=self.cast.token("dispatcher"))
        for incident in queue:
            for assignment in incident["assignments"]:
                unit = self.units.get(assignment["unit_id"])
                if unit is None or assignment["id"] in unit.done:
                    continue
                if assignment["status"] == "offered":
                    self._accept(unit, assignment, incident, now)
                elif assignment["status"] == "accepted" and unit.driving is None:
                    # Assigned directly by the dispatcher: no offer to accept, just go.
                    self._drive(unit, assignment, incident, now)
        for unit in self.units.values():
            if unit.driving and now >= unit.arrive_at:
                self._arrive(unit)

    def _accept(self, unit: Unit, assignment: dict, incident: dict, now: float) -> None:
        # The crew's phone shows the offer (GET /units/me), then the crew accepts it.
        me = self.api.call("GET", "/api/v1/dispatch/units/me", token=self.cast.token(unit.key))
        if not me["assignment"] or me["assignment"]["id"] != assignment["id"]:
            return
        self.api.call("POST", f"/api/v1/dispatch/assignments/{assignment['id']}/accept",
                      token=self.cast.token(unit.key), expect=(200, 409))
        self.accepted += 1
        self._drive(unit, assignment, incident, now)

    def _drive(self, unit: Unit, assignment: dict, incident: dict, now: float) -> None:
        unit.driving = assignment["id"]
        unit.target = (incident["lat"], incident["lon"])
        travel = float(assignment.get("eta_s") or 0.0)
        unit.arrive_at = now + (travel / self.speed if self.speed > 0 else 0.0)
        # Half-way ping: the dispatcher's map shows the unit on its way.
        mid_lat = (unit.lat + incident["lat"]) / 2
        mid_lon = (unit.lon + incident["lon"]) / 2
        self._ping(unit, mid_lat, mid_lon)

    def _arrive(self, unit: Unit) -> None:
        assert unit.driving is not None and unit.target is not None
        lat, lon = unit.target
        angle = self.rng.uniform(0, 2 * math.pi)
        self._ping(unit, lat + 0.0002 * math.sin(angle), lon + 0.0003 * math.cos(angle))
        self.api.call("POST", f"/api/v1/dispatch/assignments/{unit.driving}/on-scene",
                      token=self.cast.token(unit.key), expect=(200, 409))
        self.on_scene += 1
        unit.done.add(unit.driving)
        unit.driving, unit.target = None, None
