"""One worker's dispatch engine: its spatial index, its clock, and the transactions it runs.

The engine lives in the worker's ``DispatchState`` (``runtime.state(DispatchState).engine``, or
``engine_of(runtime)``), made by ``lifecycle.start``. Bus consumers, the escalation loop and the
HTTP routes all go through it, so each decision runs under the decision lock, commits, and then
refreshes the index for the units it touched.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tocsin.core.bus import Event, Subscription
from tocsin.core.db import utcnow
from tocsin.core.errors import Invalid
from tocsin.core.runtime import Runtime
from tocsin.dispatch import assign, incidents, unlocated
from tocsin.dispatch.batch import attach_batch
from tocsin.dispatch.config import DispatchConfig
from tocsin.dispatch.index import UnitIndex
from tocsin.dispatch.locks import decision_lock
from tocsin.dispatch.models import (
    DispatchAssignment,
    DispatchIncident,
    DispatchIncidentSos,
    DispatchUnit,
)
from tocsin.sos.events import SosCreated, SosPosition

log = logging.getLogger("tocsin.dispatch")

# SOS per transaction when recovery re-dispatches a backlog (the consumer takes what it fetched).
RECOVERY_BATCH = 500

Clock = Callable[[], dt.datetime]


class DispatchEngine:
    """Per-worker dispatch state; see the module docstring."""

    def __init__(
        self, sessions: sessionmaker[Session], *, config: DispatchConfig,
        clock: Clock = utcnow,
    ) -> None:
        self.sessions = sessions
        self.config = config
        self.clock = clock
        self.index = UnitIndex(cell_deg=config.cell_deg)

    # --- index -----------------------------------------------------------------------------

    def rebuild(self) -> int:
        """Load every available unit with a position into the index; return how many."""
        with self.sessions() as session:
            rows = session.execute(
                select(DispatchUnit.id, DispatchUnit.lat, DispatchUnit.lon).where(
                    DispatchUnit.status == "available", DispatchUnit.lat.is_not(None),
                    DispatchUnit.lon.is_not(None),
                )
            ).all()
        self.index.replace_all((row.id, row.lat, row.lon) for row in rows)
        return len(rows)

    def apply_unit_event(self, event: Event) -> None:
        """Apply a ``dispatch.unit_*`` event (from any worker) to the index."""
        data = event.data
        unit_id = data.get("unit_id")
        if not isinstance(unit_id, str):
            return
        stamp = data.get("stamp")
        self.index.apply(
            unit_id,
            available=data.get("status") == "available",
            lat=data.get("lat"),
            lon=data.get("lon"),
            stamp=float(stamp) if isinstance(stamp, int | float) else None,
        )

    def sync_touched(self, session: Session) -> None:
        """After a commit, re-read the units the transaction changed into the index."""
        touched: set[str] = session.info.pop("dispatch_units", set())
        if touched:
            self.sync_touched_ids(session, touched)

    def sync_touched_ids(self, session: Session, touched: set[str]) -> None:
        """Re-read the given units into the index."""
        rows = session.execute(
            select(DispatchUnit.id, DispatchUnit.status, DispatchUnit.lat, DispatchUnit.lon,
                   DispatchUnit.updated_at).where(DispatchUnit.id.in_(touched))
        ).all()
        session.rollback()  # end the read transaction: release the connection
        for row in rows:
            self.index.apply(row.id, available=row.status == "available", lat=row.lat,
                             lon=row.lon, stamp=row.updated_at.timestamp())

    # --- transactions ----------------------------------------------------------------------

    @contextmanager
    def decision(self, session: Session | None = None) -> Iterator[Session]:
        """Run a block under the decision lock, commit it, then refresh the index."""
        own = session is None
        active = self.sessions() if session is None else session
        try:
            with decision_lock(active):
                yield active
                active.commit()
            self.sync_touched(active)
        except BaseException:
            active.rollback()
            raise
        finally:
            if own:
                active.close()

    def intake(self, data: Mapping[str, Any]) -> str | None:
        """Handle one ``sos.created``: cluster it, then offer its incident if nobody has it."""
        sos = incidents.from_sos_created(data)
        if sos is None:
            return None  # sent "position unknown": placed by its first position (unlocated.py)
        return self.intake_many([sos]).get(sos.sos_id)

    def intake_batch(self, payloads: Iterable[Mapping[str, Any]]) -> dict[str, str]:
        """Handle many ``sos.created`` payloads in one transaction; return {sos id: incident}.

        A malformed payload is logged and left out (redelivering it would never help); a
        database failure raises and the whole batch is redelivered (idempotent on the SOS id).
        """
        batch: list[incidents.SosIn] = []
        for data in payloads:
            try:
                sos = incidents.from_sos_created(data)
            except Invalid as exc:
                log.error("dropping sos.created: %s", exc.message)
                continue
            if sos is not None:  # None: "position unknown", placed by its first position
                batch.append(sos)
        return self.intake_many(batch) if batch else {}

    def intake_many(self, batch: list[incidents.SosIn]) -> dict[str, str]:
        """Cluster parsed SOS in one decision, then offer each changed incident nobody has."""
        with self.decision() as session:
            now = self.clock()
            attached, touched, opened = attach_batch(
                session, batch=batch, config=self.config, now=now)
            # Incidents this batch opened have had no unit; the others are asked once.
            known = [i.id for i in touched if i.id not in opened]
            busy = set(session.scalars(
                select(DispatchAssignment.incident_id).where(
                    DispatchAssignment.incident_id.in_(known),
                    DispatchAssignment.status.in_(assign.LIVE),
                )
            )) if known else set()
            # No autoflush between offers: the units are taken by UPDATE statements, so each
            # offer sees the others'; the offers and their events are inserted once at commit.
            with session.no_autoflush:
                self._offer_each(session, touched, busy, opened, now)
            return attached

    def _offer_each(
        self, session: Session, touched: list[DispatchIncident], busy: set[str],
        opened: set[str], now: dt.datetime,
    ) -> None:
        for incident in sorted(touched, key=lambda i: (i.priority, i.opened_at, i.id)):
            if incident.id not in busy:
                assign.offer_next(session, index=self.index, config=self.config,
                                  incident=incident, now=now,
                                  tried=set() if incident.id in opened else None)

    def tick(self) -> int:
        """Escalate offers past their deadline; return how many expired."""
        with self.decision() as session:
            return assign.escalate_due(session, index=self.index, config=self.config,
                                       now=self.clock())

    def place(self, data: Mapping[str, Any]) -> str | None:
        """Handle ``sos.position``: an SOS sent without position is clustered at its first one."""
        try:
            point = SosPosition.model_validate(data)  # the producer's contract
        except ValidationError as exc:  # redelivering it would never help
            log.error("dropping sos.position: %s", exc.errors()[0]["msg"])
            return None
        with self.sessions() as session:
            sos = unlocated.first_position(session, sos_id=point.sos_id, lat=point.lat,
                                           lon=point.lon, accuracy_m=point.accuracy_m)
        return None if sos is None else self.intake_many([sos]).get(sos.sos_id)

    def recover(self, halt: threading.Event | None = None) -> int:
        """Send every open, acknowledged SOS that no incident holds back to dispatch.

        Run at worker start: an SOS committed while no consumer ran (crash, restart, a bus
        that lost the event) is found in the sos table itself, so it is never lost. ``halt``
        stops it between two SOS (the worker is shutting down).
        """
        from tocsin.sos import service as sos_service

        with self.sessions() as session:
            open_sos = sos_service.list_open_sos(session, limit=1_000_000)
            attached = set(session.scalars(select(DispatchIncidentSos.sos_id)))
            # The same contract as the event the SOS was published with.
            pending = [
                SosCreated(sos_id=s.id, lat=s.lat, lon=s.lon, accuracy_m=s.accuracy_m,
                           situation=s.situation, people=s.people,
                           received_at=s.received_at.isoformat()).model_dump()
                for s in open_sos if s.id not in attached
            ]
        for start in range(0, len(pending), RECOVERY_BATCH):
            if halt is not None and halt.is_set():
                break
            self.intake_batch(pending[start:start + RECOVERY_BATCH])
        if pending:
            log.info("dispatch recovery: %d SOS sent back to dispatch", len(pending))
        return len(pending)


@dataclass(frozen=True)
class DispatchOptions:
    """What a worker's dispatch starts with, when not the environment and the wall clock.

    Tests, benchmarks and the demo put one on the runtime before the worker starts
    (``runtime.states.put(DispatchOptions(config=DispatchConfig(offer_timeout_s=60)))``).
    """

    config: DispatchConfig | None = None
    clock: Clock = utcnow


@dataclass
class DispatchState:
    """What dispatch keeps in a worker's runtime (``runtime.state(DispatchState)``).

    The engine, then what ``lifecycle.start`` runs beside it and ``stop`` ends: the bus
    subscriptions, the batches in flight in threads, the recovery job and the escalation loop.
    """

    engine: DispatchEngine
    subscriptions: list[Subscription] = field(default_factory=list)
    inflight: set[asyncio.Future[dict[str, str]]] = field(default_factory=set)
    recovery: tuple[threading.Event, asyncio.Future[None]] | None = None
    loop: tuple[asyncio.Event, asyncio.Task[None]] | None = None

    @property
    def config(self) -> DispatchConfig:
        """The settings the worker read at start."""
        return self.engine.config


def new_state(runtime: Runtime) -> DispatchState:
    """Build the worker's engine from its ``DispatchOptions`` (else the environment, now)."""
    options = runtime.states.find(DispatchOptions) or DispatchOptions()
    config = options.config or DispatchConfig()
    return DispatchState(engine=DispatchEngine(runtime.sessions, config=config,
                                               clock=options.clock))


def engine_of(runtime: Runtime) -> DispatchEngine:
    """Return the worker's engine (``StateMissing`` if dispatch has not started)."""
    return runtime.state(DispatchState).engine
