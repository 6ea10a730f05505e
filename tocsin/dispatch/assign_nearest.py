"""The nearest-unit choice: which available units to offer an incident to, nearest first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.dispatch.config import DispatchConfig
from tocsin.dispatch.geo import eta_seconds, haversine_m
from tocsin.dispatch.index import UnitIndex
from tocsin.dispatch.models import DispatchUnit


@dataclass(frozen=True)
class Proposal:
    """A candidate unit for an incident: distance first, then road-free ETA."""

    unit_id: str
    callsign: str
    distance_m: float
    eta_s: float


def propose(
    session: Session, *, index: UnitIndex, config: DispatchConfig, lat: float, lon: float,
    exclude: set[str] | frozenset[str] = frozenset(), k: int | None = None,
) -> list[Proposal]:
    """Return the ``k`` nearest available units, by distance then ETA.

    The index answers; when it knows fewer than ``k`` units (a worker that just started, events
    in flight) the database is scanned instead, so a proposal never misses a unit for long.
    """
    k = k or config.candidates
    found = index.nearest(lat, lon, k, exclude=exclude)
    if len(found) < k:
        rows = session.execute(
            select(DispatchUnit.id, DispatchUnit.lat, DispatchUnit.lon).where(
                DispatchUnit.status == "available", DispatchUnit.lat.is_not(None)
            )
        ).all()
        scanned = [
            (haversine_m(lat, lon, row.lat, row.lon), row.id)
            for row in rows
            if row.id not in exclude
        ]
        found = sorted(scanned)[:k]
    callsigns: dict[str, str] = {
        row.id: row.callsign
        for row in session.execute(
            select(DispatchUnit.id, DispatchUnit.callsign).where(
                DispatchUnit.id.in_([uid for _, uid in found])
            )
        )
    }
    proposals = [
        Proposal(uid, callsigns[uid], dist, eta_seconds(dist, config.speed_kmh))
        for dist, uid in found
        if uid in callsigns
    ]
    proposals.sort(key=lambda p: (round(p.distance_m), p.eta_s))
    return proposals
