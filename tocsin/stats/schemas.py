"""Request and response models of the observatory API."""

from __future__ import annotations

from pydantic import BaseModel

from tocsin.stats.render import status
from tocsin.stats.report import Cell, Report


class KindOut(BaseModel):
    """A figure a domain contributes."""

    name: str
    fr: str
    en: str
    categories: list[str]
    unit: str
    mapped: bool
    watch: bool
    public: bool
    details: str


class SeriesOut(BaseModel):
    """A figure per bucket: ``buckets`` are Unix seconds (bucket starts, UTC)."""

    figure: str
    unit: str
    grain: str
    buckets: list[int]
    counts: dict[str, list[int]]
    means: dict[str, list[float | None]]


class BreakdownOut(BaseModel):
    figure: str
    by: str
    counts: dict[str, int]
    means: dict[str, float]


class NoticeOut(BaseModel):
    """An anomaly notice: a block of ``block_minutes`` well above its baseline."""

    id: int
    kind: str
    category: str
    cell: str
    block_start: str
    block_minutes: int
    observed: int
    baseline: float
    spread: float
    score: float
    raised_at: str
    acknowledged_by: str | None


class CellOut(BaseModel):
    key: str
    value: float | None
    status: str


class LineOut(BaseModel):
    key: str
    label: str
    unit: str
    total: CellOut
    breakdown: list[CellOut]
    note: str


class SectionOut(BaseModel):
    key: str
    title: str
    lines: list[LineOut]


class ReportOut(BaseModel):
    """The transparency report: suppressed cells have ``value: null, status: "suppressed"``."""

    period_from: str
    period_to: str
    generated_at: str
    k: int
    sections: list[SectionOut]


def report_out(report: Report, lang: str) -> ReportOut:
    """Shape a built report for JSON (suppressed values never leave the server)."""

    def cell(c: Cell) -> CellOut:
        st = status(c)
        return CellOut(key=c.key, value=c.value if st == "value" else None, status=st)

    return ReportOut(
        period_from=report.start.isoformat(), period_to=report.end.isoformat(),
        generated_at=report.generated_at.isoformat(), k=report.k,
        sections=[SectionOut(key=s.key, title=s.title(lang), lines=[
            LineOut(key=line.key, label=line.label(lang), unit=line.unit, total=cell(line.total),
                    breakdown=[cell(c) for c in line.breakdown], note=line.note(lang))
            for line in s.lines]) for s in report.sections])
