"""The transparency report of a period: every public figure, then the domains' own lines.

Counts come from the rollups (the period in whole minutes: exact, and fast whatever the number
of facts), medians from the facts; each domain's
``figures.report`` adds lines computed from its own rows (TCO Regulation (EU) 2021/784,
Art. 7(2) and 8, from the watch domain). The public report is aggregates only, and every cell
under k events is *suppressed* (shown as such, never as zero); when a breakdown would have one
suppressed cell beside a published total, the next smallest cell is suppressed too, so the
hidden one cannot be recovered by subtraction.

Subtraction between reports: two public periods one minute apart gave 10 and 11 SOS, one SOS in
that minute (issue 19, finding 10). A public period is therefore snapped outward to whole days
(or hours: ``TOCSIN_STATS_PUBLIC_GRAIN``), and its counts are sums of per-day (per-hour) cells
each suppressed by the same rules first: a day's cell under k, or its complement, adds nothing.
The difference of any two public reports is then a sum of whole published day cells, each 0 or
at least k. Staff views (the observatory for analysts) keep the minute.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.core.db import utcnow
from tocsin.core.figures import Kind, Line
from tocsin.stats.models import StatsFact, StatsRollup
from tocsin.stats.queries import Period, totals
from tocsin.stats.registry import Registry

SECTIONS: dict[str, tuple[str, str]] = {
    "tco": ("Injonctions de retrait — règlement (UE) 2021/784, art. 7 et 8",
            "Removal orders — Regulation (EU) 2021/784, Art. 7 and 8"),
    "dsa": ("Notifications de contenus illicites — règlement (UE) 2022/2065 (DSA), art. 16 et 22",
            "Notices of illegal content — Regulation (EU) 2022/2065 (DSA), Art. 16 and 22"),
    "sos": ("SOS silencieux", "Silent SOS"),
    "dispatch": ("Intervention des unités", "Unit response"),
    "alerts": ("Alertes officielles", "Official alerts"),
    "safety": ("Contrôle de sécurité", "Safety check"),
    "persons": ("Personnes recherchées", "Missing persons"),
    "watch": ("Veille des contenus (chiffres de Tocsin)", "Content watch (Tocsin's figures)"),
    "cyber": ("Menaces cyber", "Cyber threats"),
}


# Public grain (TOCSIN_STATS_PUBLIC_GRAIN) and the rollup grain its buckets are read from.
PUBLIC_GRAINS = {"day": "d", "hour": "h"}

DETAIL_FR = {"platform": "plateforme", "sector": "secteur", "source": "source",
             "CAP status": "statut CAP", "region": "région", "type": "type",
             "incident_type": "nature de l'incident"}


@dataclass
class Cell:
    """One published number: a value, or suppressed, or not recorded."""

    key: str
    value: float | None
    suppressed: bool = False


@dataclass
class ReportLine:
    key: str
    fr: str
    en: str
    unit: str
    total: Cell
    breakdown: list[Cell] = field(default_factory=list)
    note_fr: str = ""
    note_en: str = ""

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.fr

    def note(self, lang: str) -> str:
        return self.note_en if lang == "en" else self.note_fr


@dataclass
class Section:
    key: str
    fr: str
    en: str
    lines: list[ReportLine]

    def title(self, lang: str) -> str:
        return self.en if lang == "en" else self.fr


@dataclass
class Report:
    start: dt.datetime
    end: dt.datetime
    generated_at: dt.datetime
    k: int
    public: bool
    sections: list[Section]


def _kind_lines(session: Session, kind: Kind, p: Period, *,
                bucketed: tuple[str, int] | None = None) -> list[Line]:
    """Counts from the rollups (exact: ``p`` is whole minutes), medians from the facts.

    ``bucketed`` = (rollup grain, k): counts are sums of that grain's cells, each k-suppressed
    (with its complement) before it is added: the public figures.
    """
    section = kind.name.split(".", 1)[0]
    if bucketed is None:
        by_category = {c: float(n) for c, (n, _t) in
                       totals(session, kind, p, by="category").items()}
        total = float(sum(by_category.values()))
    else:
        total, by_category = _summed(session, kind, p, "category", *bucketed)
    lines = [Line(kind.name, kind.fr, kind.en, total, section=section,
                  breakdown={c: n for c, n in by_category.items() if c}
                  if kind.categories else {})]
    if kind.details:
        if bucketed is None:
            per = {d: float(n) for d, (n, _t) in totals(session, kind, p, by="detail").items()}
        else:
            per = _summed(session, kind, p, "detail", *bucketed)[1]
        word_fr = DETAIL_FR.get(kind.details, kind.details)
        lines.append(Line(f"{kind.name}.by_{kind.details}", f"{kind.fr} — par {word_fr}",
                          f"{kind.en} — by {kind.details}", total, section=section,
                          breakdown={d or "?": n for d, n in per.items()}))
    if kind.unit == "seconds":
        where = (StatsFact.kind == kind.name, StatsFact.at >= p.start, StatsFact.at < p.end)
        values = [v for v in session.scalars(select(StatsFact.value).where(*where))
                  if v is not None]
        lines.append(Line(f"{kind.name}.median", f"{kind.fr} — médiane (s)",
                          f"{kind.en} — median (s)",
                          round(statistics.median(values), 1) if values else None,
                          section=section, unit="seconds", basis=len(values)))
    return lines


def _summed(session: Session, kind: Kind, p: Period, by: str, grain: str,
            k: int) -> tuple[float, dict[str, float]]:
    """Sum, over the ``grain`` buckets of ``p``, each bucket's cells left after suppression."""
    group = getattr(StatsRollup, by)
    rows = session.execute(
        select(StatsRollup.bucket, group, func.sum(StatsRollup.n))
        .where(StatsRollup.kind == kind.name, StatsRollup.grain == grain,
               StatsRollup.cell == "", StatsRollup.bucket >= p.start, StatsRollup.bucket < p.end)
        .group_by(StatsRollup.bucket, group))
    buckets: dict[dt.datetime, dict[str, float]] = {}
    for at, key, n in rows:
        cells = buckets.setdefault(at, {})
        cells[key or ""] = cells.get(key or "", 0.0) + float(n or 0)
    total, sums = 0.0, dict[str, float]()
    for cells in buckets.values():
        named = {key: n for key, n in cells.items() if key or by == "detail"}
        day = protect(Line(kind.name, "", "", sum(cells.values()), breakdown=named), k)
        total += 0.0 if day.total.suppressed else float(day.total.value or 0)
        for cell in day.breakdown:
            sums[cell.key] = sums.get(cell.key, 0.0) + (0.0 if cell.suppressed
                                                        else float(cell.value or 0))
    return total, sums


def snap(p: Period, grain: str) -> Period:
    """Widen ``p`` to whole ``grain`` buckets ("day" or "hour", UTC): the public periods."""
    size = dt.timedelta(days=1) if grain == "day" else dt.timedelta(hours=1)
    start = p.start.replace(minute=0, second=0, microsecond=0)
    if grain == "day":
        start = start.replace(hour=0)
    end = start
    while end < p.end:
        end += size
    return Period(start, max(end, start + size))


def whole_minutes(p: Period) -> Period:
    """Round a period down to whole minutes (the rollups' finest grain)."""
    return Period(p.start.replace(second=0, microsecond=0),
                  max(p.end.replace(second=0, microsecond=0),
                      p.start.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)))


def compute(session: Session, registry: Registry, p: Period, *, public: bool,
            bucketed: tuple[str, int] | None = None) -> list[Line]:
    """Return every line of the report over ``p`` (before suppression)."""
    lines: list[Line] = []
    for module in registry.modules:
        if hasattr(module, "report"):
            lines.extend(line for line in module.report(session, p.start, p.end)
                         if line.public or not public)
    for kind in registry.kinds.values():
        if kind.public or not public:
            lines.extend(_kind_lines(session, kind, p, bucketed=bucketed))
    return lines


def _suppress_count(value: float | None, k: int) -> Cell:
    if value is None:
        return Cell("", None)
    return Cell("", value, suppressed=value < k)


def protect(line: Line, k: int) -> ReportLine:
    """Apply k-suppression to one line (counts, breakdown cells, and what ratios rest on)."""
    if line.unit in ("seconds", "ratio") and line.basis is not None:
        # A median or a ratio over fewer than k events (none at all included) is suppressed.
        hidden = line.basis < k
        total = Cell("", line.value if line.value is not None else 0.0, suppressed=hidden)
    else:
        total = _suppress_count(line.value, k)
    cells = [Cell(key, value, suppressed=value < k)
             for key, value in sorted(line.breakdown.items())]
    hidden_cells = [c for c in cells if c.suppressed]
    if len(hidden_cells) == 1 and not total.suppressed:
        shown = sorted((c for c in cells if not c.suppressed), key=lambda c: c.value or 0)
        if shown:
            shown[0].suppressed = True
    return ReportLine(line.key, line.fr, line.en, line.unit, total, cells, line.note_fr,
                      line.note_en)


def _open(line: Line) -> ReportLine:
    return ReportLine(line.key, line.fr, line.en, line.unit, Cell("", line.value),
                      [Cell(k, v) for k, v in sorted(line.breakdown.items())],
                      line.note_fr, line.note_en)


def build(session: Session, registry: Registry, p: Period, *, k: int,
          public: bool = True, grain: str = "day") -> Report:
    """Return the report of ``p``: whole minutes for staff; public, whole ``grain`` buckets
    (day or hour) summed after each bucket's suppression, then k-suppressed."""
    p = snap(p, grain) if public else whole_minutes(p)
    bucketed = (PUBLIC_GRAINS[grain], k) if public else None
    grouped: dict[str, list[ReportLine]] = {}
    for line in compute(session, registry, p, public=public, bucketed=bucketed):
        shaped = protect(line, k) if public else _open(line)
        grouped.setdefault(line.section or "other", []).append(shaped)
    order = [*SECTIONS, *sorted(set(grouped) - set(SECTIONS))]
    sections = [Section(key, *SECTIONS.get(key, (key, key)), grouped[key])
                for key in order if key in grouped]
    return Report(p.start, p.end, utcnow(), k, public, sections)
