"""``/stats`` (analysts): the observatory dashboard; ``/stats/report``: the public report page.

``/stats`` is a public HTML shell: its script signs in with the password flow (``lib/staff.ts``)
and calls the analyst-only stats API, so the page itself holds no data. ``/stats/report`` shows
the public transparency report of a period (aggregates only, k-suppressed), the same numbers as
``GET /api/v1/stats/report`` and ``tocsin stats report``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from starlette.responses import Response

from tocsin.core.auth import public
from tocsin.core.db import session_scope, utcnow
from tocsin.core.errors import DomainError
from tocsin.core.ratelimit import RateLimit
from tocsin.stats import queries, render
from tocsin.stats import report as report_mod
from tocsin.stats.lifecycle import settings_of
from tocsin.stats.registry import registry
from tocsin.web import i18n
from tocsin.web import staff_login as _staff_login  # noqa: F401  (registers the sign-in texts)
from tocsin.web.render import render_page

router = APIRouter(tags=["pages"], include_in_schema=False)

STATS_KEYS = (
    "stats.error", "stats.csv", "stats.all", "stats.count", "stats.mean_s", "stats.no_data",
    "stats.notices_empty", "stats.ack", "stats.acked", "stats.notice", "stats.baseline",
    "stats.area_all", "stats.area_set", "stats.precision", "stats.per_minute", "stats.per_hour",
    "stats.per_day", "stats.per_week", "stats.loading", "stats.category",
    "stats.near", "stats.notice_text", "stats.notice_first", "stats.total", "stats.mean",
    "stats.fit", "stats.signed_in", "stats.value", "stats.per_area",
)
# Where a category's words already exist (the pages of its domain), in the order tried; the
# observatory's own list below covers the rest.
_CATEGORY_SOURCES = ("stats.cat.", "dispatch.situation.", "watch.cat.", "cyber.type.",
                     "cyber.region.", "cyber.kind.", "cyber.severity.", "persons.status.",
                     "safety.status.")
_CATEGORIES_FR = {
    "stats.cat.push": "notification push", "stats.cat.webhook": "webhook",
    # The persons page's status words speak as the note's author (« Je pense qu'elle est en
    # vie »): a report speaks of the person.
    "stats.cat.believed_alive": "présumée en vie",
    "stats.cat.is_note_author": "signalée par elle-même",
    "stats.cat.report": "signalement", "stats.cat.ingest": "collecte", "stats.cat.feed": "flux",
    "stats.cat.true_positive": "vrai positif", "stats.cat.false_positive": "faux positif",
    "stats.cat.false_negative": "faux négatif", "stats.cat.true_negative": "vrai négatif",
    "stats.cat.emergency": "urgence", "stats.cat.notified": "après préavis",
    "stats.cat.within_hour": "dans l'heure", "stats.cat.late": "en retard",
    "stats.cat.trusted_flagger": "signaleur de confiance", "stats.cat.standard": "ordinaire",
    "stats.cat.Alert": "alerte", "stats.cat.Update": "mise à jour",
    "stats.cat.Cancel": "annulation",
    "stats.detail.platform": "plateforme", "stats.detail.sector": "secteur",
    "stats.detail.source": "source", "stats.detail.incident_type": "nature de l'incident",
    "stats.detail.CAP status": "statut CAP",
}
_CATEGORIES_EN = {
    "stats.cat.push": "push notification", "stats.cat.webhook": "webhook",
    "stats.cat.believed_alive": "believed alive",
    "stats.cat.is_note_author": "reported by themself",
    "stats.cat.report": "report", "stats.cat.ingest": "ingest", "stats.cat.feed": "feed",
    "stats.cat.true_positive": "true positive", "stats.cat.false_positive": "false positive",
    "stats.cat.false_negative": "false negative", "stats.cat.true_negative": "true negative",
    "stats.cat.emergency": "emergency", "stats.cat.notified": "after notice",
    "stats.cat.within_hour": "within the hour", "stats.cat.late": "late",
    "stats.cat.trusted_flagger": "trusted flagger", "stats.cat.standard": "standard",
    "stats.cat.Alert": "alert", "stats.cat.Update": "update", "stats.cat.Cancel": "cancellation",
    "stats.detail.platform": "platform", "stats.detail.sector": "sector",
    "stats.detail.source": "source", "stats.detail.incident_type": "kind of incident",
    "stats.detail.CAP status": "CAP status",
}


def _words(lang: i18n.Lang) -> dict[str, str | None]:
    """Each category and breakdown of every figure with its words in ``lang`` (None: none)."""
    catalogue = i18n.CATALOGUE[lang]
    out: dict[str, str | None] = {}
    for kind in registry().kinds.values():
        for value in kind.categories:
            out[value] = next((catalogue[p + value] for p in _CATEGORY_SOURCES
                               if p + value in catalogue), None)
        if kind.details:
            out[f"detail:{kind.details}"] = catalogue.get(f"stats.detail.{kind.details}")
    return out


def category_labels(lang: i18n.Lang) -> dict[str, str]:
    """Every figure's categories and breakdowns in ``lang``: the page never shows a raw value
    (``terrorism_apology``) where a reader expects words (a value without words shows as is)."""
    return {value: words or value for value, words in _words(lang).items()}


def categories_without_words(lang: i18n.Lang) -> list[str]:
    """The categories a domain added without giving them words (the test keeps this empty)."""
    return sorted(value for value, words in _words(lang).items() if words is None)


_FR = {
    "stats.title": "Observatoire",
    "stats.lead": "Chiffres en direct de toutes les activités de Tocsin, tendances, alertes "
                  "d'anomalie et rapport de transparence. Agrégats seulement : aucune donnée "
                  "personnelle.",
    "stats.login_title": "Connexion analyste",
    "stats.wrong_role": "Ce compte n'est pas un compte d'analyste.",
    "stats.logout": "Se déconnecter",
    "stats.filters": "Filtres",
    "stats.from": "Du",
    "stats.to": "Au",
    "stats.figure": "Chiffre principal",
    "stats.category": "Catégorie",
    "stats.area": "Zone (choisie sur la carte)",
    "stats.grain": "Pas",
    "stats.grain_auto": "automatique",
    "stats.grain_m": "minute",
    "stats.grain_h": "heure",
    "stats.grain_d": "jour",
    "stats.grain_w": "semaine",
    "stats.per_week": "par semaine",
    "stats.apply": "Afficher",
    "stats.last6h": "6 h",
    "stats.last24h": "24 h",
    "stats.last7d": "7 jours",
    "stats.map": "Carte",
    "stats.notices": "Alertes d'anomalie",
    "stats.overview": "Vue d'ensemble",
    "stats.report_link": "Rapport de transparence de la période",
    "stats.error": "Erreur",
    "stats.csv": "CSV",
    "stats.all": "toutes",
    "stats.count": "nombre",
    "stats.mean_s": "moyenne (s)",
    "stats.no_data": "Aucune donnée sur la période.",
    "stats.notices_empty": "Aucune anomalie détectée.",
    "stats.ack": "Vu",
    "stats.acked": "vu par",
    "stats.notice": "pic",
    "stats.baseline": "référence",
    "stats.area_all": "Toutes zones",
    "stats.area_set": "Zone choisie",
    "stats.precision": "Précision du classifieur",
    "stats.per_minute": "par minute",
    "stats.per_hour": "par heure",
    "stats.per_day": "par jour",
    "stats.loading": "Chargement…",
    "stats.report_title": "Rapport de transparence",
    "stats.report_lead": "Chiffres publics d'une période : injonctions de retrait (règlement "
                         "(UE) 2021/784, art. 7 et 8) et activité de Tocsin. Agrégats "
                         "uniquement, petites cases masquées.",
    "stats.download_csv": "Télécharger en CSV",
    "stats.download_html": "Version imprimable (HTML)",
    "stats.near": "zone près de {lat} N, {lon} E",
    "stats.notice_text": "{observed} en {minutes} min contre {baseline} d'habitude (z {score})",
    "stats.notice_first": "{observed} en {minutes} min alors que rien ou presque n'était "
                          "compté avant (moins de 1 d'habitude) : pas de référence à comparer",
    "stats.total": "total",
    "stats.mean": "moyenne",
    "stats.fit": "Toute l'activité",
    "stats.per_area": "par hexagone",
    "stats.area_clear": "Toutes zones",
    "stats.signed_in": "Connecté(e) :",
    "stats.value": "Valeur",
    **_CATEGORIES_FR,
}
_EN = {
    "stats.title": "Observatory",
    "stats.lead": "Live figures of everything Tocsin does, trends, anomaly notices and the "
                  "transparency report. Aggregates only: no personal data.",
    "stats.login_title": "Analyst sign-in",
    "stats.wrong_role": "This account is not an analyst's.",
    "stats.logout": "Sign out",
    "stats.filters": "Filters",
    "stats.from": "From",
    "stats.to": "To",
    "stats.figure": "Main figure",
    "stats.category": "Category",
    "stats.area": "Area (chosen on the map)",
    "stats.grain": "Step",
    "stats.grain_auto": "automatic",
    "stats.grain_m": "minute",
    "stats.grain_h": "hour",
    "stats.grain_d": "day",
    "stats.grain_w": "week",
    "stats.per_week": "per week",
    "stats.apply": "Show",
    "stats.last6h": "6 h",
    "stats.last24h": "24 h",
    "stats.last7d": "7 days",
    "stats.map": "Map",
    "stats.notices": "Anomaly notices",
    "stats.overview": "Overview",
    "stats.report_link": "Transparency report of the period",
    "stats.error": "Error",
    "stats.csv": "CSV",
    "stats.all": "all",
    "stats.count": "count",
    "stats.mean_s": "mean (s)",
    "stats.no_data": "No data over the period.",
    "stats.notices_empty": "No anomaly detected.",
    "stats.ack": "Seen",
    "stats.acked": "seen by",
    "stats.notice": "spike",
    "stats.baseline": "baseline",
    "stats.area_all": "All areas",
    "stats.area_set": "Chosen area",
    "stats.precision": "Classifier precision",
    "stats.per_minute": "per minute",
    "stats.per_hour": "per hour",
    "stats.per_day": "per day",
    "stats.loading": "Loading…",
    "stats.report_title": "Transparency report",
    "stats.report_lead": "Public figures of a period: removal orders (Regulation (EU) "
                         "2021/784, Art. 7 and 8) and Tocsin's activity. Aggregates only, "
                         "small cells suppressed.",
    "stats.download_csv": "Download as CSV",
    "stats.download_html": "Printable version (HTML)",
    "stats.near": "area near {lat} N, {lon} E",
    "stats.notice_text": "{observed} in {minutes} min against {baseline} usually (z {score})",
    "stats.notice_first": "{observed} in {minutes} min where nothing or almost nothing was "
                          "counted before (under 1 usually): no baseline to compare with",
    "stats.total": "total",
    "stats.mean": "mean",
    "stats.fit": "Whole activity",
    "stats.per_area": "per hexagon",
    "stats.area_clear": "All areas",
    "stats.signed_in": "Signed in:",
    "stats.value": "Value",
    **_CATEGORIES_EN,
}
i18n.register_messages({"fr": _FR, "en": _EN})


@router.get("/stats", response_class=HTMLResponse, dependencies=[Depends(public())])
def stats_page(request: Request) -> Response:
    """Show the analysts' dashboard shell (data comes from the role-protected API)."""
    return render_page(request, "stats.html", entry="stats", context={
        "script_keys": STATS_KEYS,
        "category_labels": json.dumps(category_labels(i18n.negotiate(request)),
                                      ensure_ascii=False),
        "tiles_url": request.app.state.runtime.settings.map_tiles_url})


@router.get("/stats/report", response_class=HTMLResponse,
            dependencies=[Depends(public()), Depends(RateLimit("stats.report_page", 30))])
def report_page(
    request: Request,
    start: Annotated[dt.datetime | None, Query(alias="from")] = None,
    end: Annotated[dt.datetime | None, Query(alias="to")] = None,
) -> Response:
    """Show the public transparency report of a period (default: the last 30 days)."""
    runtime = request.app.state.runtime
    cfg = settings_of(runtime)
    end = end or utcnow().replace(second=0, microsecond=0)
    start = start or end - dt.timedelta(days=30)
    lang = i18n.negotiate(request)
    try:
        p = queries.period(start, end, max_days=cfg.max_period_days)
    except DomainError as exc:
        return render_page(request, "stats_report.html", entry="statsreport", status_code=422,
                           context={"body": None, "error": exc.message, "query": ""})
    with session_scope(runtime.sessions) as session:
        built = report_mod.build(session, registry(), p, k=cfg.k, public=True,
                                 grain=cfg.public_grain)
    query = f"from={p.start.isoformat()}&to={p.end.isoformat()}&lang={lang}".replace("+", "%2B")
    return render_page(request, "stats_report.html", entry="statsreport", context={
        # Categories in words, as on the dashboard (the CSV keeps the codes); escaped by its
        # template.
        "body": Markup(render.body_html(built, lang, category_labels(lang))),  # noqa: S704
        "error": None, "query": query})
