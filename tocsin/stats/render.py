"""The transparency report as CSV and HTML (the same numbers, the same suppression).

CSV: one row per published number, ``status`` saying ``value``, ``suppressed`` (fewer than k
events) or ``not_recorded``. HTML: a standalone document (its own small stylesheet, no script),
or its body alone for the served page.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import jinja2

from tocsin.core import csvsafe
from tocsin.stats.report import Cell, Report

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)

WORDS = {
    "fr": {"title": "Rapport de transparence", "period": "Période", "to": "au",
           "generated": "Établi le", "suppressed": "masqué (< k)", "not_recorded": "non enregistré",
           "figure": "Chiffre", "value": "Valeur", "detail": "Détail",
           "k_note": "Agrégats uniquement. Toute case de moins de {k} événements est masquée "
                     "(et non mise à zéro) pour qu'aucune personne ne puisse être reconnue.",
           "analyst_note": "Version analystes : aucune case n'est masquée. Ne pas publier."},
    "en": {"title": "Transparency report", "period": "Period", "to": "to",
           "generated": "Generated", "suppressed": "suppressed (< k)",
           "not_recorded": "not recorded", "figure": "Figure", "value": "Value",
           "detail": "Breakdown",
           "k_note": "Aggregates only. Any cell counting fewer than {k} events is suppressed "
                     "(not set to zero) so that nobody can be singled out.",
           "analyst_note": "Analysts' version: nothing is suppressed. Do not publish."},
}


def status(cell: Cell) -> str:
    """Say what a cell holds: ``value``, ``suppressed`` or ``not_recorded``."""
    if cell.value is None:
        return "not_recorded"
    return "suppressed" if cell.suppressed else "value"


def shown(cell: Cell, unit: str, lang: str) -> str:
    """Return the text of a cell as a reader sees it."""
    kind = status(cell)
    if kind != "value":
        return WORDS[lang][kind]
    value = cell.value or 0.0
    if unit == "ratio":
        return f"{value * 100:.1f} %"
    if unit == "seconds":
        return f"{value:.0f} s"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def to_csv(report: Report, lang: str = "fr") -> str:
    """Return the report as CSV (UTF-8 text, one row per number)."""
    out = io.StringIO()
    writer = csvsafe.writer(out, lineterminator="\n")  # text neutralised, numbers kept
    writer.writerow(["period_from", "period_to", "section", "figure", "label", "breakdown",
                     "value", "status", "unit", "k"])
    for section in report.sections:
        for line in section.lines:
            for cell in [line.total, *line.breakdown]:
                value: object = "" if status(cell) != "value" else cell.value
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                writer.writerow([report.start.isoformat(), report.end.isoformat(), section.key,
                                 line.key, line.label(lang), cell.key, value, status(cell),
                                 line.unit, report.k if report.public else ""])
    return out.getvalue()


def body_html(report: Report, lang: str = "fr", labels: Mapping[str, str] | None = None) -> str:
    """Return the report's tables (an HTML fragment, escaped).

    ``labels`` gives breakdown keys in words (``terrorism_apology`` -> « apologie du
    terrorisme »); a key it lacks is shown as is (platform names, regions' codes).
    """
    return _env.get_template("report_body.html").render(
        report=report, lang=lang, w=WORDS[lang], shown=shown, status=status,
        label=lambda key: (labels or {}).get(key, key))


def to_html(report: Report, lang: str = "fr") -> str:
    """Return the report as a standalone HTML document."""
    return _env.get_template("report.html").render(
        report=report, lang=lang, w=WORDS[lang], body=body_html(report, lang))
