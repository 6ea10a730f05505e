"""HTTP API of the observatory: the analysts' dashboard data and the public report.

Dashboard routes admit analysts (and admins) and read the rollups; every one of them answers
CSV with ``format=csv`` (the chart's data, as drawn). The report route is public: aggregates
only, each cell under k events shown as suppressed.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlalchemy import select

from tocsin.core import csvsafe
from tocsin.core.auth import Principal, Role, allow, public
from tocsin.core.errors import NotFound
from tocsin.core.ratelimit import RateLimit
from tocsin.core.runtime import AppRuntime, DbSession
from tocsin.stats import queries, render
from tocsin.stats import report as report_mod
from tocsin.stats.anomaly import notice_data
from tocsin.stats.config import StatsSettings
from tocsin.stats.lifecycle import settings_of
from tocsin.stats.models import StatsNotice
from tocsin.stats.registry import registry
from tocsin.stats.schemas import (
    BreakdownOut,
    KindOut,
    NoticeOut,
    ReportOut,
    SeriesOut,
    report_out,
)

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])

Analyst = Annotated[Principal, Depends(allow(Role.analyst, Role.admin))]
From = Annotated[dt.datetime, Query(alias="from", description="start (ISO 8601, UTC if no zone)")]
To = Annotated[dt.datetime, Query(alias="to", description="end, excluded")]
Figure = Annotated[str, Query(min_length=3, max_length=48, description="a figure's name")]
Category = Annotated[str | None, Query(max_length=40)]
Area = Annotated[str | None, Query(max_length=20, description="an H3 cell, resolution 4 to 7")]
Format = Annotated[Literal["json", "csv"], Query()]


def _period(cfg: StatsSettings, start: dt.datetime, end: dt.datetime) -> queries.Period:
    return queries.period(start, end, max_days=cfg.max_period_days)


def _csv(name: str, header: list[str], rows: list[list[Any]]) -> Response:
    out = io.StringIO()
    writer = csvsafe.writer(out, lineterminator="\n")  # no cell runs as a formula
    writer.writerow(header)
    writer.writerows(rows)
    return PlainTextResponse(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.get("/figures", response_model=list[KindOut])
def list_figures(who: Analyst) -> list[KindOut]:
    """List every figure the domains contribute, with its categories."""
    return [KindOut(name=k.name, fr=k.fr, en=k.en, categories=list(k.categories), unit=k.unit,
                    mapped=k.mapped, watch=k.watch, public=k.public, details=k.details)
            for k in registry().kinds.values()]


@router.get("/series", response_model=SeriesOut)
def series(who: Analyst, db: DbSession, runtime: AppRuntime, figure: Figure, start: From,
           end: To, category: Category = None, area: Area = None,
           grain: Literal["m", "h", "d", "w"] | None = None,
           format: Format = "json") -> Any:
    """Return a figure per minute, hour, day or week over the period (one line per category).

    Without ``grain``: minutes up to 6 hours, hours up to 8 days, days beyond.
    """
    kind = registry().kind(figure)
    p = _period(settings_of(runtime), start, end)
    cat = queries.check_category(kind, category)
    data = queries.series(db, kind, p, category=cat, cells=queries.area_cells(area), grain=grain)
    if format == "csv":
        keys = sorted(data.counts)
        rows = [[b.isoformat(), *(data.counts[k][i] for k in keys),
                 *(data.means[k][i] for k in keys if k in data.means)]
                for i, b in enumerate(data.buckets)]
        header = ["bucket", *keys, *(f"{k}_mean_s" for k in keys if k in data.means)]
        return _csv(f"{figure}-series", header, rows)
    return SeriesOut(figure=figure, unit=kind.unit, grain=data.grain,
                     buckets=[int(b.timestamp()) for b in data.buckets], counts=data.counts,
                     means=data.means)


@router.get("/map")
def cells(who: Analyst, db: DbSession, runtime: AppRuntime, figure: Figure, start: From,
          end: To, category: Category = None, area: Area = None,
          format: Format = "json") -> Any:
    """Return the figure per H3 cell over the period, as GeoJSON hexagons (or CSV)."""
    kind = registry().kind(figure)
    if not kind.mapped:
        mapped = ", ".join(k.name for k in registry().kinds.values() if k.mapped)
        raise NotFound(f"{figure} has no map (mapped figures: {mapped})")
    p = _period(settings_of(runtime), start, end)
    cat = queries.check_category(kind, category)
    found = queries.totals(db, kind, p, by="cell", category=cat,
                           cells=queries.area_cells(area))
    if format == "csv":
        return _csv(f"{figure}-map", ["cell", "count"],
                    [[c, n] for c, (n, _t) in sorted(found.items())])
    return queries.geojson(found)


@router.get("/breakdown", response_model=BreakdownOut)
def breakdown(who: Analyst, db: DbSession, runtime: AppRuntime, figure: Figure, start: From,
              end: To, by: Literal["category", "detail"] = "category",
              category: Category = None, area: Area = None,
              format: Format = "json") -> Any:
    """Return the figure's total over the period per category or per detail (platform...)."""
    kind = registry().kind(figure)
    p = _period(settings_of(runtime), start, end)
    cat = queries.check_category(kind, category)
    found = queries.totals(db, kind, p, by=by, category=cat, cells=queries.area_cells(area))
    rows = {k or "—": n for k, (n, _t) in sorted(found.items())}
    means = {k or "—": round(t / n, 1) for k, (n, t) in found.items() if n} \
        if kind.unit == "seconds" else {}
    if format == "csv":
        return _csv(f"{figure}-by-{by}", [by, "count", *(["mean_s"] if means else [])],
                    [[k, n, *([means.get(k)] if means else [])] for k, n in rows.items()])
    return BreakdownOut(figure=figure, by=by, counts=rows, means=means)


@router.get("/notices", response_model=list[NoticeOut])
def notices(who: Analyst, db: DbSession,
            limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[NoticeOut]:
    """List the latest anomaly notices, newest first."""
    rows = db.scalars(select(StatsNotice).order_by(StatsNotice.raised_at.desc(),
                                                   StatsNotice.id.desc()).limit(limit))
    return [NoticeOut.model_validate(notice_data(n)) for n in rows]


@router.post("/notices/{notice_id}/ack", response_model=NoticeOut)
def acknowledge(notice_id: int, who: Analyst, db: DbSession) -> NoticeOut:
    """Mark a notice as seen by the caller."""
    notice = db.get(StatsNotice, notice_id)
    if notice is None:
        raise NotFound(f"no notice {notice_id}")
    notice.acknowledged_by = notice.acknowledged_by or who.username
    db.commit()
    return NoticeOut.model_validate(notice_data(notice))


@router.get("/report", response_model=ReportOut,
            dependencies=[Depends(public()), Depends(RateLimit("stats.report", 30))])
def transparency(request: Request, db: DbSession, runtime: AppRuntime, start: From, end: To,
                 format: Literal["json", "csv", "html"] = "json",
                 lang: Literal["fr", "en"] = "fr") -> Any:
    """The public transparency report of a period: aggregates only, cells under k suppressed."""
    cfg = settings_of(runtime)
    p = _period(cfg, start, end)
    built = report_mod.build(db, registry(), p, k=cfg.k, public=True,
                             grain=cfg.public_grain)
    if format == "csv":
        return PlainTextResponse(render.to_csv(built, lang), media_type="text/csv; charset=utf-8")
    if format == "html":
        return HTMLResponse(render.to_html(built, lang))
    return report_out(built, lang)
