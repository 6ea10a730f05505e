"""The observatory contract: how a domain contributes figures to ``tocsin.stats``.

A domain declares what it counts in its own module ``tocsin/<domain>/figures.py``; the stats
domain finds those modules through ``tocsin.domains.DOMAINS`` and never reads another domain's
tables itself. The module provides, at module level:

``KINDS: tuple[Kind, ...]``
    the figures it contributes (names ``<domain>.<figure>``, labels, allowed categories).
``SUBJECTS: tuple[str, ...]``
    bus subjects whose events become facts at once (may be empty).
``def from_event(session, event) -> list[Fact]``
    turn one event of ``SUBJECTS`` into facts (a read-only session to look things up).
``def from_tables(session, start, end) -> list[Fact]``
    the facts whose ``at`` lies in ``[start, end)``, read from the domain's own tables (the
    truth). Stats calls it periodically (for figures no event announces) and to rebuild.
``def report(session, start, end) -> list[Line]`` (optional)
    extra lines for the transparency report, computed from the domain's own rows (states
    rather than events: orders overdue at the end of the period, say).

Each fact has a stable ``key`` (the row id it counts), so a fact that arrives both by event and
by the periodic sweep is counted once. Facts carry no personal data: a position is turned into
a coarse H3 cell by stats and then dropped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal, Protocol

from sqlalchemy.orm import Session

from tocsin.core.bus import Event

Unit = Literal["count", "seconds", "ratio"]


@dataclass(frozen=True, slots=True)
class Kind:
    """One figure a domain contributes.

    ``categories`` lists the values a fact's ``category`` may take (filters are checked against
    it; empty means facts carry no category). ``unit="seconds"`` means each fact's ``value`` is a
    duration (response time, time to delivery) and the figure shows its median and mean.
    ``mapped`` facts carry a position and appear on the map. ``watch`` asks for anomaly
    detection (a spike per category, and per area when mapped). ``public`` figures may appear,
    aggregated and k-suppressed, in the public transparency report.
    """

    name: str
    fr: str
    en: str
    categories: tuple[str, ...] = ()
    unit: Unit = "count"
    mapped: bool = False
    watch: bool = False
    public: bool = True
    details: str = ""  # what ``Fact.detail`` means for this figure (e.g. "platform"), if used

    def label(self, lang: str) -> str:
        """Return the label in ``lang`` (French unless English is asked)."""
        return self.en if lang == "en" else self.fr


@dataclass(frozen=True, slots=True)
class Fact:
    """One counted occurrence: what (``kind``), when (``at``, UTC) and a few coarse dimensions.

    ``key`` is unique per kind (e.g. the row id). ``lat``/``lon`` (or an H3 ``cell``) only
    serve to place the fact in a coarse cell. ``detail`` is a second breakdown (platform,
    source) where the kind has one.

    ``count`` > 1: the fact stands for that many occurrences of one minute (its ``at``, a whole
    minute) and ``value`` is the sum of theirs. For counted figures whose rows come by the
    hundred thousand (an alert's deliveries): the domain counts them with one ``GROUP BY``
    instead of handing over a fact per row. The key must then name a group that no longer
    grows (a minute whose rows are all committed), since a stored key is never counted again.
    Not for ``seconds`` figures: their median reads single facts.
    """

    kind: str
    key: str
    at: dt.datetime
    category: str = ""
    detail: str = ""
    lat: float | None = None
    lon: float | None = None
    value: float | None = None
    cell: str | None = None  # an H3 cell instead of a position (any resolution as fine or finer)
    count: int = 1


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the transparency report: a count (or ``None`` when not recorded) and a note.

    ``public=False`` keeps the line out of the public report (analysts still see it).
    """

    key: str
    fr: str
    en: str
    value: float | None
    note_fr: str = ""
    note_en: str = ""
    section: str = ""
    public: bool = True
    unit: Unit = "count"
    breakdown: dict[str, float] = field(default_factory=dict)
    # For a ratio or a median: how many events it rests on (suppressed under k like a count).
    basis: int | None = None


class FiguresModule(Protocol):
    """What ``tocsin/<domain>/figures.py`` provides (``report`` is optional)."""

    KINDS: tuple[Kind, ...]
    SUBJECTS: tuple[str, ...]

    def from_event(self, session: Session, event: Event) -> list[Fact]: ...

    def from_tables(self, session: Session, start: dt.datetime, end: dt.datetime) -> list[Fact]:
        ...


def seconds_between(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    """Return ``end - start`` in seconds, or ``None`` when either is missing or it is negative."""
    if start is None or end is None:
        return None
    seconds = (end - start).total_seconds()
    return seconds if seconds >= 0 else None


def parse_time(value: object) -> dt.datetime | None:
    """Read an ISO 8601 time from an event payload (UTC when no zone is given)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
