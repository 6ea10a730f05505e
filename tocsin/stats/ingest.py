"""Storing facts and keeping the rollups current.

``store`` inserts facts (a fact already stored under its ``(kind, key)`` is skipped) and adds
only the newly inserted ones to the rollups, with an additive upsert: ``n = n + excluded.n``. So
the rollups stay exact whichever way a fact arrives (event, sweep, rebuild) and however many
workers race: the database decides which insert wins, and only the winner counts it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import ModuleType
from typing import Any

import h3
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tocsin.core.bus import Event, subject_matches
from tocsin.core.db import bulk_batch, utcnow
from tocsin.core.figures import Fact
from tocsin.stats.models import StatsCell, StatsCursor, StatsFact, StatsRollup
from tocsin.stats.registry import Registry

log = logging.getLogger("tocsin.stats")

# Coarse on purpose (H3 resolution 7: hexagons of about 5 km²): enough to see where, never who.
CELL_RESOLUTION = 7
# Minutes, ten minutes, hours, days. The ten-minute grain is only read by ``queries.totals``: the
# edges of a period cut at odd minutes read at most nine minute buckets on each side, not 59 (in
# a burst a minute holds nearly one rollup row per fact, per cell and category).
GRAINS = ("m", "t", "h", "d")
GRAIN_SECONDS = {"m": 60, "t": 600, "h": 3600, "d": 86400}
_CHUNK = 500
# Facts per transaction when a bulk job (rebuild, the sweep on SQLite) commits as it goes: in
# embedded mode every write shares one SQLite file, and an SOS is acknowledged only once the
# intake gets its write lock; a batch holds it for tens of milliseconds, not seconds.
BATCH = 500
# A rebuild reads the domains' tables a day at a time (memory stays bounded; progress by day).
REBUILD_WINDOW = dt.timedelta(days=1)


def bucket(at: dt.datetime, grain: str) -> dt.datetime:
    """Return the start of the ``grain`` bucket holding ``at`` (UTC)."""
    at = at.astimezone(dt.UTC)
    if grain == "m":
        return at.replace(second=0, microsecond=0)
    if grain == "t":
        return at.replace(minute=at.minute - at.minute % 10, second=0, microsecond=0)
    if grain == "h":
        return at.replace(minute=0, second=0, microsecond=0)
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def cell_of(fact: Fact) -> str:
    """Return the fact's coarse cell, or ``""`` when it has no usable position."""
    try:
        if fact.cell:
            res = h3.get_resolution(fact.cell)
            if res < CELL_RESOLUTION:
                return ""
            return str(h3.cell_to_parent(fact.cell, CELL_RESOLUTION))
        if fact.lat is not None and fact.lon is not None:
            if not (-90 <= fact.lat <= 90 and -180 <= fact.lon <= 180):
                return ""  # h3 would wrap a latitude of 200 somewhere real
            return str(h3.latlng_to_cell(float(fact.lat), float(fact.lon), CELL_RESOLUTION))
    except (ValueError, TypeError, h3.H3BaseException):
        return ""
    return ""


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _key(key: str) -> str:
    # Long keys (PFIF record ids run to 500 characters) are hashed, not cut: cut ones collide.
    return key if len(key) <= 64 else hashlib.sha256(key.encode()).hexdigest()


def fact_row(fact: Fact) -> dict[str, Any]:
    """Return the ``stats_fact`` row of ``fact``."""
    return {
        "kind": fact.kind[:48], "key": _key(fact.key), "at": fact.at.astimezone(dt.UTC),
        "category": (fact.category or "")[:40], "detail": (fact.detail or "")[:40],
        "cell": cell_of(fact), "value": fact.value,
    }


def rollup_rows(facts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Count fact rows into rollup rows: per grain, by category and detail, and by cell."""
    counts: dict[tuple[str, str, str, dt.datetime, str, str], list[float]] = {}
    for row in facts:
        value = row["value"] if row["value"] is not None else 0.0
        n = row.get("n", 1)  # a fact may stand for several occurrences (``Fact.count``)
        for grain in GRAINS:
            start = bucket(row["at"], grain)
            keys = [(row["kind"], grain, "", start, row["category"], row["detail"])]
            if row["cell"]:
                keys.append((row["kind"], grain, row["cell"], start, row["category"], ""))
            for key in keys:
                slot = counts.setdefault(key, [0, 0.0])
                slot[0] += n
                slot[1] += value
    # Sorted: two workers upserting the same rows take their locks in one order (no deadlock).
    return [
        {"kind": k[0], "grain": k[1], "cell": k[2], "bucket": k[3], "category": k[4],
         "detail": k[5], "n": int(v[0]), "total": v[1]}
        for k, v in sorted(counts.items())
    ]


def cell_rows(rollups: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sum the per-cell rollup rows over their categories: the rows of ``stats_cell``."""
    counts: dict[tuple[str, str, dt.datetime, str], list[float]] = {}
    for row in rollups:
        if row["cell"]:
            slot = counts.setdefault((row["kind"], row["grain"], row["bucket"], row["cell"]),
                                     [0, 0.0])
            slot[0] += row["n"]
            slot[1] += row["total"]
    return [{"kind": k[0], "grain": k[1], "bucket": k[2], "cell": k[3], "n": int(v[0]),
             "total": v[1]} for k, v in sorted(counts.items())]


def _add(session: Session, model: type[StatsRollup] | type[StatsCell], keys: list[str],
         rows: list[dict[str, Any]]) -> None:
    insert = _insert(session)
    for start in range(0, len(rows), _CHUNK):
        stmt = insert(model)
        stmt = stmt.on_conflict_do_update(
            index_elements=keys,
            set_={"n": model.n + stmt.excluded.n, "total": model.total + stmt.excluded.total},
        )
        session.execute(stmt, rows[start:start + _CHUNK])


def add_to_rollups(session: Session, rows: list[dict[str, Any]]) -> None:
    """Add counted rows to ``stats_rollup`` and ``stats_cell`` (insert, or increase)."""
    if not rows:
        return
    _add(session, StatsRollup, ["kind", "grain", "cell", "bucket", "category", "detail"], rows)
    _add(session, StatsCell, ["kind", "grain", "bucket", "cell"], cell_rows(rows))


def store(session: Session, facts: Iterable[Fact]) -> int:
    """Store new facts and count them into the rollups; return how many were new."""
    rows = {}
    counts: dict[tuple[str, str], int] = {}
    for fact in facts:
        row = fact_row(fact)
        rows[(row["kind"], row["key"])] = row  # the same fact twice in one batch counts once
        if fact.count != 1:
            counts[(row["kind"], row["key"])] = fact.count
    if not rows:
        return 0
    insert = _insert(session)
    fresh: list[dict[str, Any]] = []
    pending = list(rows.values())
    for start in range(0, len(pending), _CHUNK):
        stmt = insert(StatsFact).on_conflict_do_nothing(index_elements=["kind", "key"])
        result = session.execute(stmt.returning(StatsFact.kind, StatsFact.key),
                                 pending[start:start + _CHUNK])
        fresh.extend(rows[(r.kind, r.key)] for r in result)
    if counts:
        fresh = [{**row, "n": counts[(row["kind"], row["key"])]}
                 if (row["kind"], row["key"]) in counts else row for row in fresh]
    add_to_rollups(session, rollup_rows(fresh))
    return len(fresh)


def facts_of_event(session: Session, registry: Registry, event: Event) -> list[Fact]:
    """Ask every module that listens to ``event.subject`` for its facts."""
    facts: list[Fact] = []
    for subject, modules in registry.subjects().items():
        if subject_matches(subject, event.subject):
            for module in modules:
                facts.extend(module.from_event(session, event))
    return facts


def store_in_batches(session: Session, facts: Sequence[Fact], *, batch: int = BATCH) -> int:
    """``store`` ``batch`` facts at a time, committing the session after each batch.

    Interrupted, it leaves whole batches stored (each fact with its rollups): storing again
    skips what is there and counts the rest, so the figures end the same.
    """
    added = 0
    for start in range(0, len(facts), batch):
        with bulk_batch(session):  # commits; the SOS writer's turn comes between batches
            added += store(session, facts[start:start + batch])
    return added


def _commits_as_it_goes(session: Session) -> bool:
    # SQLite: one writer for the whole file. PostgreSQL keeps the sweep in one transaction,
    # so the cursor's row lock keeps other workers out of it.
    return session.get_bind().dialect.name == "sqlite"


def sweep_module(session: Session, module: ModuleType, *, now: dt.datetime,
                 overlap: dt.timedelta, first: dt.timedelta = dt.timedelta(days=1),
                 min_gap: dt.timedelta = dt.timedelta(0)) -> int:
    """Read one domain's recent rows into facts and move its cursor to ``now``.

    Skipped when the cursor was moved less than ``min_gap`` ago: with several workers, one
    sweep per interval for the whole cluster, not one per worker (each re-reads ``overlap`` of
    rows, which at a few hundred SOS a second is tens of thousands of rows). The cursor row is
    locked for the sweep (PostgreSQL), so a worker arriving meanwhile waits, then sees it moved.
    On SQLite the facts are stored in batches, each committed (the SQLite write lock is given
    back between them); the cursor moves after the last, so an interrupted sweep is redone.
    """
    name = f"sweep:{module.__name__}"
    cursor = session.scalar(select(StatsCursor).where(StatsCursor.name == name)
                            .with_for_update())
    if cursor is not None and now - cursor.until < min_gap:
        return 0
    start = (cursor.until - overlap) if cursor is not None else now - first
    facts = list(module.from_tables(session, start, now))
    if _commits_as_it_goes(session):
        stored = store_in_batches(session, facts)
    else:
        stored = store(session, facts)
    if cursor is None:
        session.add(StatsCursor(name=name, until=now))
    else:
        cursor.until = max(cursor.until, now)
    session.flush()
    if _commits_as_it_goes(session):
        session.commit()  # the next module's read holds no write lock
    return stored


def sweep(session: Session, registry: Registry, *, now: dt.datetime | None = None,
          overlap: dt.timedelta = dt.timedelta(minutes=5),
          min_gap: dt.timedelta = dt.timedelta(0)) -> int:
    """Sweep every domain's tables once; return the number of new facts."""
    now = now or utcnow()
    return sum(sweep_module(session, module, now=now, overlap=overlap, min_gap=min_gap)
               for module in registry.modules if hasattr(module, "from_tables"))


def windows(start: dt.datetime, end: dt.datetime,
            step: dt.timedelta = REBUILD_WINDOW) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Cut ``[start, end)`` into consecutive windows of at most ``step``."""
    at = start
    while at < end:
        upto = min(at + step, end)
        yield at, upto
        at = upto


def rebuild(session: Session, registry: Registry, *, start: dt.datetime, end: dt.datetime,
            batch: int = BATCH, window: dt.timedelta = REBUILD_WINDOW,
            advance: Callable[[int], None] | None = None) -> int:
    """Read ``[start, end)`` of every domain's tables into facts (idempotent back-fill).

    A window of the period at a time (``advance(1)`` after each, for a progress display), and
    ``batch`` facts per transaction: the session is committed after every batch, so a rebuild of
    a year holds the write lock no longer than one batch. Interrupted, running it again
    finishes it: facts already stored are skipped, the others counted once.
    """
    modules = [m for m in registry.modules if hasattr(m, "from_tables")]
    added = 0
    for lo, hi in windows(start, end, window):
        for module in modules:
            facts = list(module.from_tables(session, lo, hi))
            added += store_in_batches(session, facts, batch=batch)
        session.commit()  # ends the read of a window that had nothing to store
        if advance is not None:
            advance(1)
    return added


def fact_count(session: Session) -> int:
    """Count stored facts (tests, health)."""
    from sqlalchemy import func

    return int(session.scalar(select(func.count()).select_from(StatsFact)) or 0)
