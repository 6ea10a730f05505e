"""Evaluate the classifier on the held-out cases of ``data/eval.csv``.

The set is held out (never trained on) and built for the failure the data README warns of:
beside hateful, apology and violence cases it holds counter-speech, denunciation, reporting and
quotation of the same words. The false-positive rate on those is the figure that tells whether
the watch would flag the people who fight hatred.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tocsin.watch.classifier import CATEGORIES, Example, Model

COUNTER_KINDS = frozenset({"counter_speech", "denunciation", "reporting", "quotation"})


@dataclass(frozen=True)
class Scores:
    """Precision, recall, F1 and support of one category."""

    precision: float
    recall: float
    f1: float
    support: int


def _prf(tp: int, fp: int, fn: int, support: int) -> Scores:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, support)


def two_stage(model: Model, texts: Sequence[str]) -> list[dict[str, Any]]:
    """The final decisions as the watch takes them: stage 1 on all, stage 2 on its flags."""
    from tocsin.watch.stage2 import refine

    results = model.classify(texts, explain=0)
    if model.stage2 is None:
        return results
    flagged = [i for i, r in enumerate(results) if r["flagged"]]
    for i, second in zip(flagged, refine(model, [texts[i] for i in flagged]), strict=True):
        results[i] = second
    return results


def evaluate(model: Model, cases: Sequence[Example]) -> dict[str, Any]:
    """Return per-category scores, flag rates per kind and the counter-speech false positives
    of the two stages together (stage 1 alone for a model without a stage-2 head)."""
    results = two_stage(model, [c.text for c in cases])
    per_category = {}
    for cat in CATEGORIES:
        tp = sum(1 for c, r in zip(cases, results, strict=True)
                 if c.label == cat and r["category"] == cat)
        fp = sum(1 for c, r in zip(cases, results, strict=True)
                 if c.label != cat and r["category"] == cat)
        fn = sum(1 for c, r in zip(cases, results, strict=True)
                 if c.label == cat and r["category"] != cat)
        per_category[cat] = _prf(tp, fp, fn, sum(1 for c in cases if c.label == cat))
    kinds: dict[str, dict[str, int]] = {}
    for case, result in zip(cases, results, strict=True):
        stats = kinds.setdefault(case.kind, {"n": 0, "flagged": 0, "correct": 0})
        stats["n"] += 1
        stats["flagged"] += int(result["flagged"])
        stats["correct"] += int(result["category"] == case.label)
    counter = [r for c, r in zip(cases, results, strict=True) if c.kind in COUNTER_KINDS]
    harmful = [r for c, r in zip(cases, results, strict=True) if c.label != "none"]
    return {
        "per_category": per_category,
        "kinds": kinds,
        "counter_speech_fpr": sum(r["flagged"] for r in counter) / len(counter) if counter else 0.0,
        "harmful_recall": sum(r["flagged"] for r in harmful) / len(harmful) if harmful else 0.0,
        "n": len(cases),
    }


def report_lines(report: dict[str, Any]) -> list[str]:
    """Format :func:`evaluate`'s report as plain text lines."""
    lines = [f"{'category':<20}{'precision':>10}{'recall':>10}{'F1':>8}{'n':>6}"]
    for cat, s in report["per_category"].items():
        lines.append(f"{cat:<20}{s.precision:>10.3f}{s.recall:>10.3f}{s.f1:>8.3f}{s.support:>6}")
    lines.append("")
    lines.append(f"{'kind':<20}{'accuracy':>10}{'flagged':>10}{'n':>6}")
    for kind, st in sorted(report["kinds"].items()):
        lines.append(f"{kind:<20}{st['correct'] / st['n']:>10.3f}"
                     f"{st['flagged'] / st['n']:>10.3f}{st['n']:>6}")
    lines.append("")
    lines.append(f"false-positive rate on counter-speech/denunciation/reporting/quotation: "
                 f"{report['counter_speech_fpr']:.3f}")
    lines.append(f"flag rate on harmful cases (any category): {report['harmful_recall']:.3f}")
    return lines
