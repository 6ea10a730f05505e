"""Cluster many SOS in one transaction: the consumer's way of keeping up with a crowd.

One SOS per transaction costs a lock, a commit, an ``incident.updated`` event and an offer check
per call: about 30 SOS/s on the project VM, so 300 calls from one concert hall took ten seconds
to reach the queue. Here a batch of SOS (what the bus had waiting) is clustered in memory against
the open incidents near them, loaded once per grid cell, so three hundred calls from one hall
are one incident update, one event and at most one offer.

The result is the one the SOS would get one by one in order of reception: each joins the nearest
open incident within ``cluster_radius_m`` whose last SOS is within ``cluster_window_s``, or opens
one, and later SOS of the batch see the incidents earlier ones opened or moved. Callers hold the
decision lock (``tocsin.dispatch.locks``). Idempotent: an SOS already attached (a redelivered
event, recovery racing the consumer) keeps its incident and counts once.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tocsin.dispatch.config import DispatchConfig
from tocsin.dispatch.geo import M_PER_DEG_LAT, haversine_m
from tocsin.dispatch.incidents import SosIn, announce, join_incident, open_incident
from tocsin.dispatch.models import DispatchIncident, DispatchIncidentSos

Cell = tuple[int, int]


class _Grid:
    """Open incidents bucketed in cells at least ``radius`` wide, so 3 x 3 cells cover it."""

    def __init__(self, config: DispatchConfig, max_abs_lat: float) -> None:
        self.dlat = config.cluster_radius_m / M_PER_DEG_LAT
        # The widest cell needed is at the batch's latitude farthest from the equator.
        self.dlon = min(360.0, self.dlat / max(0.01, math.cos(math.radians(max_abs_lat))))
        self.cells: dict[Cell, dict[str, DispatchIncident]] = defaultdict(dict)
        self.where: dict[str, Cell] = {}

    def cell(self, lat: float, lon: float) -> Cell:
        return (math.floor(lat / self.dlat), math.floor(lon / self.dlon))

    def put(self, incident: DispatchIncident) -> None:
        cell = self.cell(incident.lat, incident.lon)
        old = self.where.get(incident.id)
        if old == cell:
            return
        if old is not None:
            self.cells[old].pop(incident.id, None)
        self.cells[cell][incident.id] = incident
        self.where[incident.id] = cell

    def near(self, lat: float, lon: float) -> Iterable[DispatchIncident]:
        row, col = self.cell(lat, lon)
        for d_row in (-1, 0, 1):
            for d_col in (-1, 0, 1):
                yield from self.cells.get((row + d_row, col + d_col), {}).values()


def _load_open(
    session: Session, grid: _Grid, cells: set[Cell], since: dt.datetime
) -> None:
    """Load into the grid the open incidents in the cells around ``cells`` (3 x 3 each).

    Two queries whatever the batch: positions only over the batch's bounding box (cheap rows),
    then the incidents that fall in a needed cell, by id.
    """
    around = {(row + d_row, col + d_col) for row, col in cells
              for d_row in (-1, 0, 1) for d_col in (-1, 0, 1)}
    rows = [row for row, _ in around]
    cols = [col for _, col in around]
    near = [
        incident_id
        for incident_id, lat, lon in session.execute(
            select(DispatchIncident.id, DispatchIncident.lat, DispatchIncident.lon).where(
                DispatchIncident.status == "open",
                DispatchIncident.last_sos_at >= since,
                DispatchIncident.lat.between(min(rows) * grid.dlat, (max(rows) + 1) * grid.dlat),
                DispatchIncident.lon.between(min(cols) * grid.dlon, (max(cols) + 1) * grid.dlon),
            )
        )
        if grid.cell(lat, lon) in around
    ]
    for start in range(0, len(near), 500):
        for incident in session.scalars(
            select(DispatchIncident).where(DispatchIncident.id.in_(near[start:start + 500]))
        ):
            grid.put(incident)


def attach_batch(
    session: Session, *, batch: list[SosIn], config: DispatchConfig, now: dt.datetime
) -> tuple[dict[str, str], list[DispatchIncident], set[str]]:
    """Attach every SOS of ``batch``: return {sos id: incident id}, the incidents changed and
    the ids of those the batch opened.

    Each changed incident is announced once (``incident.updated`` with its final state).
    """
    unique: dict[str, SosIn] = {}
    for sos in batch:
        unique.setdefault(sos.sos_id, sos)
    result: dict[str, str] = {
        sos_id: incident_id
        for sos_id, incident_id in session.execute(
            select(DispatchIncidentSos.sos_id, DispatchIncidentSos.incident_id).where(
                DispatchIncidentSos.sos_id.in_(list(unique))
            )
        )
    }
    fresh = sorted(
        (sos for sos in unique.values() if sos.sos_id not in result),
        key=lambda s: (s.received_at, s.sos_id),
    )
    if not fresh:
        return result, [], set()
    grid = _Grid(config, max(abs(s.lat) for s in fresh))
    window = dt.timedelta(seconds=config.cluster_window_s)
    _load_open(session, grid, {grid.cell(s.lat, s.lon) for s in fresh},
               fresh[0].received_at - window)
    touched: dict[str, DispatchIncident] = {}
    opened: set[str] = set()
    links: list[dict[str, object]] = []
    for sos in fresh:
        since = sos.received_at - window
        best: tuple[float, DispatchIncident] | None = None
        for incident in grid.near(sos.lat, sos.lon):
            if incident.status != "open" or incident.last_sos_at < since:
                continue
            distance = haversine_m(sos.lat, sos.lon, incident.lat, incident.lon)
            if distance <= config.cluster_radius_m and (best is None or distance < best[0]):
                best = (distance, incident)
        if best is None:
            incident = open_incident(sos, now=now)
            session.add(incident)
            opened.add(incident.id)
        else:
            incident = best[1]
            join_incident(incident, sos)
        grid.put(incident)
        touched[incident.id] = incident
        result[sos.sos_id] = incident.id
        links.append({
            "sos_id": sos.sos_id, "incident_id": incident.id, "lat": sos.lat, "lon": sos.lon,
            "accuracy_m": sos.accuracy_m, "situation": sos.situation, "people": sos.people,
            "received_at": sos.received_at, "attached_at": now,
        })
    session.flush()  # the incidents first: the links refer to them
    session.execute(insert(DispatchIncidentSos), links)
    for incident in touched.values():
        announce(session, incident)
    return result, list(touched.values()), opened
