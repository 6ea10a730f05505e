"""The replay: the evening's steps on a scaled clock, then a check of what the server made of it.

``speed`` compresses time: at 60 the three hours from 21:16 to 00:30 take a little over three
minutes; at 0 every step runs as soon as the previous one is done (tests). ``scale`` multiplies
the number of calls, marks, records, offers and requests (1: about 450 SOS).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from tocsin.demo import timeline
from tocsin.demo.aid import AidScenes
from tocsin.demo.cast import POSTS, Account, Cast, Crews, create_staff
from tocsin.demo.client import Api, DemoError
from tocsin.demo.cyber import CyberScenes
from tocsin.demo.posts import WatchScenes
from tocsin.demo.receiver import Receiver
from tocsin.demo.scenes import CrisisScenes

LIVE = ("accepted", "on_scene")
# What the observatory must have counted once the evening is over (figure names of tocsin.stats).
FIGURES = ("sos.created", "dispatch.incident", "alerts.published", "safety.mark",
           "persons.reported", "watch.order_issued")


class Scenes(CrisisScenes, AidScenes, WatchScenes, CyberScenes):
    """Every scene of the evening."""


@dataclass(frozen=True)
class Options:
    speed: float = 60.0
    seed: int = 13
    scale: float = 1.0
    workers: int = 8
    settle_seconds: float = 60.0


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    what: str
    action: Callable[[], object]


@dataclass
class Outcome:
    """What the server holds after the replay, read back through the API."""

    sos_sent: int = 0
    sos_in_incidents: int = 0
    incidents: int = 0
    incidents_with_unit: int = 0
    incidents_opened: int = 0  # by this run (others may hold its SOS in --url mode)
    units_on_scene: int = 0
    alert_state: str = ""
    deliveries_sent: int = 0
    webhook_received: int = 0
    update_waiting: bool = False
    marks: int = 0
    persons: int = 0
    notes: int = 0
    offers: int = 0
    requests: int = 0
    matched: int = 0
    items: int = 0
    queue_pending: int = 0
    decided: int = 0
    orders: int = 0
    confirmed: int = 0
    cyber_incidents: int = 0
    partner_indicators: int = 0
    advisory_state: str = ""
    observatory: dict[str, int] = field(default_factory=dict)
    api_calls: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def expected(self) -> dict[str, int]:
        """The least the observatory must count for this run, figure by figure."""
        return {"sos.created": self.sos_sent, "dispatch.incident": self.incidents_opened,
                "alerts.published": 1, "safety.mark": 1, "persons.reported": self.persons,
                "watch.order_issued": self.orders}

    @property
    def counted(self) -> bool:
        """Whether the observatory counted at least what this run sent, figure by figure.

        Some figures come from events, others from the observatory's periodic sweep of the
        tables (``TOCSIN_STATS_SWEEP_SECONDS``, 30 s by default): settling waits for both.
        """
        return all(self.observatory.get(f, 0) >= n for f, n in self.expected.items())

    @property
    def all_dispatched(self) -> bool:
        return (self.sos_in_incidents == self.sos_sent
                and self.incidents_with_unit == self.incidents > 0)


class Replay:
    """Run the evening against one server; see the module docstring."""

    def __init__(self, http: httpx.Client, admin: Account, options: Options, *,
                 console: Console | None = None, receiver: Receiver | None = None,
                 tag: str = "") -> None:
        self.api = Api(http)
        self.admin = admin
        self.options = options
        self.console = console or Console(stderr=True)
        self.receiver = receiver
        self.tag = tag
        self.rng = random.Random(options.seed)  # noqa: S311 (a simulation, no secret)
        self.cast = Cast()
        self.scenes: Scenes | None = None
        self.started = dt.datetime.now(dt.UTC)
        self.has_cyber = False
        self.crews: Crews | None = None

    def units(self) -> int:
        """How many patrols: enough for every site and the reinforcements, more at scale."""
        return max(12, min(len(POSTS), round(24 * self.options.scale)))

    def prepare(self) -> Cast:
        """Create the accounts and units, register the platform: the stage before 21:16."""
        self.started = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        self.admin.token = self.api.login(self.admin.username, self.admin.password)
        self.cast = create_staff(self.api, self.admin, tag=self.tag, units=self.units())
        self.crews = Crews(self.api, self.cast, speed=self.options.speed, rng=self.rng,
                           tag=self.tag)
        self.crews.register(self.units())
        self.scenes = Scenes(self.api, self.cast, rng=self.rng, scale=self.options.scale,
                             workers=self.options.workers, receiver=self.receiver, tag=self.tag)
        self.scenes.platform()
        self.scenes.platform_webhook()
        # A client plays what the server offers: the cyber desk only where it exists.
        paths = self.api.call("GET", "/openapi.json")["paths"]
        self.has_cyber = "/api/v1/cyber/incidents" in paths
        return self.cast

    def steps(self) -> list[Step]:
        """The evening, in order (times of that night)."""
        s = self.scenes
        assert s is not None
        t = timeline._t

        def burst(b: timeline.Burst) -> Callable[[], object]:
            return lambda: f"{s.sos_burst(b)} silent SOS"

        steps = [Step(b.at, f"{timeline.SITES[b.site].name} — {b.label}", burst(b))
                 for b in timeline.BURSTS]
        steps += [
            Step(t(21, 50), "dispatcher sends reinforcements to the Bataclan",
                 lambda: f"{s.reinforce('bataclan', 2)} more units"),
            Step(t(22, 0), "callers hidden in the Bataclan write to the dispatcher",
                 lambda: f"{s.silent_chat()} silent chats"),
            Step(t(22, 5), "first posts praising the attacks appear",
                 lambda: f"{s.posts_wave(0.3)} posts reported or pushed"),
            Step(t(22, 15), "prefecture: alert composed, approved by a second authority",
                 lambda: f"alert {s.alert()}"),
            Step(t(22, 30), "the wave of hateful posts grows",
                 lambda: f"{s.posts_wave(0.3)} posts"),
            Step(t(22, 35), "safety check opened over Paris and Saint-Denis",
                 lambda: f"{s.safety_check()}; {s.safety_marks(60)} marks"),
            Step(t(22, 45), "#PortesOuvertes: residents offer shelter",
                 lambda: f"{s.shelter_offers(15)} offers"),
            Step(t(23, 0), "#RechercheParis: relatives look for their own",
                 lambda: f"{s.persons(12)} records; {s.safety_marks(50)} more marks"),
            Step(t(23, 5), "stranded people ask for shelter",
                 lambda: f"{s.shelter_requests(10)} requests"),
            Step(t(23, 10), "moderators review the queue",
                 lambda: f"{s.moderate(0.35)} decisions; {s.posts_wave(0.4)} new posts"),
            Step(t(23, 20), "hosts answer the people who asked them",
                 lambda: f"{s.hosts_answer()} accepted"),
            Step(t(23, 30), "removal orders; news of the missing",
                 lambda: f"{s.removal_orders()} orders; {s.person_notes()} notes"),
            Step(t(23, 40), "the platform takes the content down",
                 lambda: f"{s.platform_removes()} removed; {s.safety_marks(40)} marks"),
            Step(t(23, 50), "duplicates linked; more decisions",
                 lambda: f"{s.review_duplicates()} linked; {s.moderate(0.3)} decisions"),
            Step(t(0, 18), "assault on the Bataclan ends; an update awaits approval",
                 lambda: f"{s.alert_update_draft()}; {s.removal_orders()} more orders"),
            Step(t(0, 25), "the platform works through its orders",
                 lambda: f"{s.platform_removes(keep_open=1)} removed, one still open"),
        ]
        if self.has_cyber:
            steps += [
                Step(t(0, 5), "cyber desk: a defaced town hall site, a fake fundraising campaign",
                     lambda: f"{s.cyber_reports()} incident reports"),
                Step(t(0, 15), "cyber desk: indicators confirmed, advisory reviewed by a second "
                               "analyst", lambda: f"advisory {s.cyber_advisory()}"),
                Step(t(0, 28), "a partner CERT reads the confirmed indicators over TAXII",
                     lambda: f"{s.partner_fetch()} indicators"),
            ]
        return sorted(steps, key=lambda step: step.at)

    def run(self) -> Outcome:
        """Prepare, then play."""
        self.prepare()
        return self.play()

    def play(self) -> Outcome:
        """Replay every step on the scaled clock, settle, and read the outcome back."""
        began = time.monotonic()
        assert self.crews is not None
        steps = self.steps()
        total = timeline.minutes(timeline.END)
        columns = (TextColumn("[bold]{task.description}"), BarColumn(),
                   TextColumn("{task.completed:.0f}/{task.total:.0f} min"), TimeElapsedColumn())
        with Progress(*columns, console=self.console, transient=True) as progress:
            task = progress.add_task("13 novembre", total=total)
            start = time.monotonic()
            for step in steps:
                due = start + self._real_seconds(step.at)
                self._wait_until(due)
                result = step.action()
                self.crews.tick()
                progress.update(task, completed=timeline.minutes(step.at))
                progress.console.print(
                    f"[cyan]{timeline.clock(step.at)}[/]  {step.what}: [bold]{result}[/]",
                    highlight=False)
            self._wait_until(start + self._real_seconds(timeline.END))
            progress.update(task, completed=total)
        outcome = self.settle()
        outcome.seconds = time.monotonic() - began
        return outcome

    def _real_seconds(self, at: dt.datetime) -> float:
        if self.options.speed <= 0:
            return 0.0
        return timeline.minutes(at) * 60 / self.options.speed

    def _wait_until(self, due: float) -> None:
        assert self.crews is not None
        while (left := due - time.monotonic()) > 0:
            time.sleep(min(left, 0.5))
            self.crews.tick()

    def settle(self) -> Outcome:
        """Let dispatch and the fan-out finish, then read the outcome back (bounded wait)."""
        assert self.crews is not None
        deadline = time.monotonic() + self.options.settle_seconds
        while True:
            self.crews.tick()
            outcome = self.outcome()
            delivered = not self.receiver or not self.receiver.secret or (
                outcome.deliveries_sent > 0 and outcome.webhook_received > 0)
            done = outcome.all_dispatched and delivered and outcome.counted
            if done or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if not outcome.all_dispatched:
            outcome.problems.append(
                f"{outcome.sos_in_incidents}/{outcome.sos_sent} SOS in incidents, "
                f"{outcome.incidents_with_unit}/{outcome.incidents} incidents with a unit")
        if not delivered:
            outcome.problems.append("the alert did not reach the platform's webhook")
        if not outcome.counted:
            outcome.problems.append(
                f"the observatory counted {outcome.observatory}, expected at least "
                f"{outcome.expected}")
        return outcome

    def outcome(self) -> Outcome:
        """Read the state of every domain back through the API."""
        s, api = self.scenes, self.api
        assert s is not None and self.crews is not None
        dispatcher = self.cast.token("dispatcher")
        ours = {a["id"] for a in s.sent.sos}
        found: set[str] = set()
        incidents = with_unit = on_scene = opened = 0
        # Only this run's SOS count: a database may hold earlier runs' incidents (--url mode).
        for incident in api.call("GET", "/api/v1/dispatch/incidents", token=dispatcher):
            detail = api.call("GET", f"/api/v1/dispatch/incidents/{incident['id']}",
                              token=dispatcher)
            mine = ours & {x["sos_id"] for x in detail["sos"]}
            if not mine:
                continue
            found |= mine
            incidents += 1
            with_unit += any(a["status"] in LIVE for a in detail["assignments"])
            opened += dt.datetime.fromisoformat(detail["opened_at"]) >= self.started
            on_scene += sum(a["status"] == "on_scene" for a in detail["assignments"])
        out = Outcome(
            sos_sent=len(ours), incidents=incidents, sos_in_incidents=len(found),
            incidents_with_unit=with_unit, units_on_scene=on_scene, incidents_opened=opened,
            marks=s.sent.marks, persons=len(s.sent.persons), notes=s.sent.notes,
            offers=len(s.sent.offers), requests=len(s.sent.requests), matched=s.sent.matched,
            items=len(s.sent.items), decided=s.sent.decided, orders=s.sent.orders,
            confirmed=s.sent.confirmed,
            webhook_received=self.receiver.count() if self.receiver else 0,
        )
        authority = self.cast.token("authority")
        if s.sent.alert_id:
            out.alert_state = api.call("GET", f"/api/v1/alerts/{s.sent.alert_id}")["state"]
            counts = api.call("GET", f"/api/v1/alerts/{s.sent.alert_id}/deliveries",
                              token=authority)
            out.deliveries_sent = counts["sent"]
        waiting = api.call("GET", "/api/v1/alerts/queue", token=authority)["alerts"]
        out.update_waiting = any(a["id"] == s.sent.update_id for a in waiting)
        pending = api.call("GET", "/api/v1/watch/queue", token=self.cast.token("moderator"),
                           params={"limit": 200})
        out.queue_pending = len(pending["items"])
        if s.sent.advisory_id:
            out.cyber_incidents = len(s.sent.cyber_incidents)
            out.partner_indicators = s.sent.partner_indicators
            published = api.call("GET", "/api/v1/cyber/public/advisories")
            out.advisory_state = next(
                (a["state"] for a in published if a["id"] == s.sent.advisory_id), "not public")
        out.observatory = self.observatory()
        out.api_calls = api.calls
        return out

    def observatory(self) -> dict[str, int]:
        """Read the night's totals from the observatory, as an analyst (the run's minutes)."""
        period = {"from": (self.started - dt.timedelta(minutes=1)).isoformat(),
                  "to": (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).isoformat()}
        totals = {}
        for figure in FIGURES + (("cyber.incident",) if self.has_cyber else ()):
            found = self.api.call("GET", "/api/v1/stats/breakdown",
                                  token=self.cast.token("analyst"),
                                  params={"figure": figure, **period})
            totals[figure] = sum(found["counts"].values())
        return totals


__all__ = ["DemoError", "Options", "Outcome", "Replay"]
