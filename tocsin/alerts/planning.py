"""Planning of a published alert's deliveries, streamed: the first push leaves before the last
subscriber of the area is selected.

The subscribers are read in pages (keyset on the id, inside the area's bounding box), each page
tested against the area (H3 cover computed once: cells wholly inside take their points as they
are, only points of border cells get the exact test) and written as ``alert_delivery`` rows in
its own short transaction, after which ``on_chunk`` wakes the senders. The table is the queue:
durable, shared by every worker (each claims rows with a lease), bounded in memory by the claim
window, and idempotent (``INSERT ... ON CONFLICT DO NOTHING`` on the unique (alert, subscription)
pair, so a redelivered ``alerts.published`` adds nothing and no subscriber is planned twice).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import h3
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts import cap, geo, targeting
from tocsin.alerts.models import Alert, AlertSubscription
from tocsin.core.db import UTCDateTime, utcnow

CHUNK = 2000
FIRST_CHUNK = 200  # a small first page: the first pushes leave sooner
ZONE_MARGIN_DEG = 0.75  # > 50 km (the largest followed zone) in latitude and, at 48°, longitude


@dataclass
class _Cover:
    """The area's shapes with their H3 interior and border cells, computed once per alert."""

    shapes: list[BaseGeometry]
    interior: np.ndarray
    border: np.ndarray

    @classmethod
    def of(cls, shapes: list[BaseGeometry]) -> _Cover:
        interior: set[int] = set()
        border: set[int] = set()
        for shape in shapes:
            inside, edge = targeting.cover(shape)
            interior.update(inside)
            border.update(edge)
        border -= interior
        return cls(shapes, np.fromiter(interior, dtype=np.uint64, count=len(interior)),
                   np.fromiter(border, dtype=np.uint64, count=len(border)))

    def hits(self, lat: np.ndarray, lon: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Boolean mask of the points inside any shape (edge included)."""
        hit = np.isin(cells, self.interior)
        edge = np.flatnonzero(~hit & np.isin(cells, self.border))
        if edge.size:
            exact = np.zeros(edge.size, dtype=bool)
            for shape in self.shapes:
                shapely.prepare(shape)
                exact |= shapely.intersects_xy(shape, lon[edge], lat[edge])
            hit[edge[exact]] = True
        return hit


def _chunks(session: Session, row: Alert, now: dt.datetime,
            reader: Session | None = None) -> Iterator[list[tuple[str, str]]]:
    """Yield (subscription id, kind) pages: the platforms, then the area's points, then zones.

    The area's points come from one query streamed in pages (through ``reader``, a session of
    its own, when the caller commits ``session`` between pages): paging it by key instead
    (``id > last ORDER BY id LIMIT``) made SQLite take the (lat, lon) index and sort the whole
    box again for every page, quadratic in the area's subscribers (10 % of the worker's CPU at
    30,000, most of it at a million).
    """
    live = AlertSubscription.expires_at > now
    platforms = [(sid, kind) for sid, kind in session.execute(
        select(AlertSubscription.id, AlertSubscription.kind)
        .where(live, AlertSubscription.all_areas.is_(True)))]
    start, size = 0, min(FIRST_CHUNK, CHUNK)
    while start < len(platforms):  # paged too: the first platforms need not wait for the last
        yield platforms[start:start + size]
        start, size = start + size, CHUNK
    # Citizens get Actual and Exercise messages only (CAP 1.2 §3.2.1: Test is to be ignored).
    if row.status not in ("Actual", "Exercise") or row.min_lat is None:
        return
    assert row.max_lat is not None and row.min_lon is not None and row.max_lon is not None
    message = cap.from_json(row.content)
    shapes = [shape for info in message.infos for area in info.areas
              if (shape := geo.area_shape(area.polygons, area.circles)) is not None]
    if not shapes:
        return
    area = _Cover.of(shapes)
    push = (AlertSubscription.kind == "push", live)
    # Plain values: the caller commits between pages, which expires the ORM row.
    min_lat, max_lat, min_lon, max_lon = row.min_lat, row.max_lat, row.min_lon, row.max_lon
    points = (reader or session).execute(
        select(AlertSubscription.id, AlertSubscription.lat, AlertSubscription.lon,
               AlertSubscription.h3_cell)
        .where(*push, AlertSubscription.radius_km == 0,
               AlertSubscription.lat.between(min_lat, max_lat),
               AlertSubscription.lon.between(min_lon, max_lon))
        .execution_options(yield_per=CHUNK))  # streamed: a server-side cursor on PostgreSQL
    size = min(FIRST_CHUNK, CHUNK)
    while True:
        page = points.fetchmany(size)
        size = CHUNK
        if not page:
            break
        lat = np.fromiter((p.lat for p in page), dtype=np.float64, count=len(page))
        lon = np.fromiter((p.lon for p in page), dtype=np.float64, count=len(page))
        cells = np.fromiter((h3.str_to_int(p.h3_cell) if p.h3_cell else 0 for p in page),
                            dtype=np.uint64, count=len(page))
        mask = area.hits(lat, lon, cells)
        yield [(page[int(i)].id, "push") for i in np.flatnonzero(mask)]
    zones = session.execute(
        select(AlertSubscription.id, AlertSubscription.lat, AlertSubscription.lon,
               AlertSubscription.radius_km)
        .where(*push, AlertSubscription.radius_km > 0,
               AlertSubscription.lat.between(min_lat - ZONE_MARGIN_DEG,
                                             max_lat + ZONE_MARGIN_DEG),
               AlertSubscription.lon.between(min_lon - ZONE_MARGIN_DEG,
                                             max_lon + ZONE_MARGIN_DEG))).all()
    # Few, and each needs a shape-to-shape test.
    met = [(z.id, "push") for z in zones
           if any(shape.intersects(geo.circle_shape(geo.Circle(z.lat, z.lon, z.radius_km)))
                  for shape in shapes)]
    if met:
        yield met


# One statement per page, the subscription ids as one parameter (a JSON array on SQLite, an array
# on PostgreSQL), the other columns constants: the ORM's multi-row VALUES took about 130 us of
# CPU per row (a statement of 7,000 bind parameters compiled afresh for every page, each value
# through its type), more than the push itself.
_INSERT_SQL = {
    "sqlite": "SELECT :alert_id, value, :kind, 'pending', 0, :now, :now FROM json_each(:ids) "
              "WHERE true",  # SQLite needs a WHERE before an upsert's ON CONFLICT
    "postgresql": "SELECT :alert_id, s, :kind, 'pending', 0, :now, :now "
                  "FROM unnest(CAST(:ids AS text[])) AS s",
}


def _insert(session: Session, alert_id: str, targets: list[tuple[str, str]],
            now: dt.datetime) -> int:
    if not targets:
        return 0
    dialect = session.get_bind().dialect.name
    by_kind: dict[str, list[str]] = {}
    for sid, kind in targets:
        by_kind.setdefault(kind, []).append(sid)
    stmt = text(
        "INSERT INTO alert_delivery (alert_id, subscription_id, kind, status, attempts, "
        f"next_attempt_at, created_at) {_INSERT_SQL[dialect]} "
        "ON CONFLICT (alert_id, subscription_id) DO NOTHING"
    ).bindparams(bindparam("now", type_=UTCDateTime()))
    added = 0
    for kind, ids in by_kind.items():
        # The rows inserted, the ones already planned left out (a redelivered event adds none).
        result = session.execute(stmt, {"alert_id": alert_id, "kind": kind, "now": now,
                                        "ids": json.dumps(ids) if dialect == "sqlite" else ids})
        added += max(int(result.rowcount), 0)  # type: ignore[attr-defined]
    return added


def _plannable(session: Session, alert_id: str) -> Alert | None:
    row = session.get(Alert, alert_id)
    if row is None or row.state == "pending" or row.cap_xml is None:
        return None
    return row


def plan(session: Session, alert_id: str, *, now: dt.datetime | None = None) -> int:
    """Create the pending deliveries of a published message in ``session``; return how many."""
    now = now or utcnow()
    row = _plannable(session, alert_id)
    if row is None:
        return 0
    added = sum(_insert(session, alert_id, chunk, now) for chunk in _chunks(session, row, now))
    session.flush()
    return added


def plan_streaming(factory: sessionmaker[Session], alert_id: str, *,
                   on_chunk: Callable[[int], None] = lambda added: None,
                   now: dt.datetime | None = None) -> int:
    """Plan page by page, committing each page and calling ``on_chunk`` after it (blocking)."""
    stamp = now
    now = now or utcnow()
    added = 0
    # The reader keeps one read transaction (a snapshot of the subscriptions) while the writer
    # commits page after page: SQLite in WAL mode and PostgreSQL both let them run side by side.
    with factory() as session, factory() as reader:
        row = _plannable(session, alert_id)
        if row is None:
            return 0
        for chunk in _chunks(session, row, now, reader):
            # Each page stamped when it is written, not when planning began: the observatory
            # counts a minute of deliveries once it is over (``figures.LATE``), and the pages of
            # a million subscribers are written over minutes.
            count = _insert(session, alert_id, chunk, stamp or utcnow())
            # Short transactions: the senders (and the SQLite writers of other domains) need
            # not wait for the whole area.
            session.commit()
            added += count
            if count:
                on_chunk(count)
    return added
