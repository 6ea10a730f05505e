"""Text features of the content-watch classifier: words, characters and *framing*.

Why framing: a bag of words sees the same tokens in « il faut tous les tuer » and in « ce tweet
qui dit "il faut tous les tuer" est inacceptable, je l'ai signalé ». MLMA-FR has almost no
counter-speech (see ``shared/data/README.md``), so a model trained on it alone flags what
quotes, reports or denounces hatred. :class:`FramingFeatures` counts the markers of those
frames (condemnation, reporting verbs and institutions, quotation marks, negated
predications) so the linear model can learn how much each one shifts a decision.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-case, strip accents and squeeze spaces (shared by hashing and the vectorisers)."""
    lowered = text.casefold()
    if not lowered.isascii():
        lowered = _COMBINING.sub("", unicodedata.normalize("NFKD", lowered))
        lowered = lowered.replace("\u2019", "'").replace("\u2018", "'")
    return _SPACES.sub(" ", lowered).strip()


# Each frame is a list of regular expressions over the normalised text.
FRAMES: dict[str, tuple[str, ...]] = {
    "condemn": (
        r"\bje (le |les )?(condamne|denonce)", r"\bcondamn(er|ons|ez)\b", r"\bdenon[cç]",
        r"\bhonte\b", r"\bignoble", r"\babject", r"\binacceptable", r"\brevoltant",
        r"\bdegout", r"\bmonstres?\b", r"\bcriminel", r"\bpuni", r"\bn'a (rien|pas sa place)",
    ),
    "report_act": (
        r"\bsignal(e|er|ez|es|ons)\b", r"\bpharos\b", r"\bbloque", r"\bsuspendu",
        r"\bsupprim", r"\bretir", r"\bplainte\b", r"\bau 17\b",
    ),
    "news": (
        r"\bselon\b", r"\benquet", r"\bparquet\b", r"\bproces\b", r"\btribunal\b",
        r"\bjuge\b", r"\bjugee?s?\b", r"\binterpell", r"\bpoursuivi", r"\brevendiqu",
        r"\bbilan\b", r"\bcondamnee?s? (pour|a)\b", r"\bprison\b", r"\becope\b", r"\bsuspect\b",
        r"\bprevenu\b", r"\brapport\b", r"\bministre\b", r"\bdelit\b", r"\bapologie\b",
        r"\bprovocation\b", r"\bpropagande\b", r"\bdjihadiste\b",
    ),
    "quote": (r"[«»\"]", r"\b(a|avait) (ecrit|tweete|publie|crie|dit)\b", r"\bpropos\b",
              r"\bmessage\b", r"\bqui (dit|ecrit|disent|ecrivent)\b", r"\bqui (appel|glorifi)"),
    "negation": (
        r"\bne sont pas\b", r"\bn'est (pas|jamais)\b", r"\bpas des\b", r"\bnon, ", r"\baucun",
        r"\bne (justifie|represente)", r"\barretez\b", r"\bpas d'amalgame", r"\bfaux\b",
    ),
    "solidarity": (
        r"\bpensees?\b", r"\bsoutien\b", r"\bunis\b", r"\bhommage\b", r"\bvictimes\b",
        r"\bfreres humains\b", r"\bcitoyens\b",
    ),
}
_COMPILED = {name: re.compile("|".join(f"(?:{p})" for p in patterns))
             for name, patterns in FRAMES.items()}
FRAME_NAMES: tuple[str, ...] = tuple(FRAMES)


def frame_counts(text: str) -> dict[str, int]:
    """Count the markers of each frame in ``text`` (occurrences, not distinct markers)."""
    norm = normalise(text)
    return {name: len(rx.findall(norm)) for name, rx in _COMPILED.items()}


class FramingFeatures(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Scikit-learn transformer: one column per frame, ``log1p`` of its marker count."""

    def fit(self, x: Iterable[str], y: Any = None) -> FramingFeatures:
        return self

    def transform(self, x: Iterable[str]) -> sparse.csr_matrix:
        rows = [list(frame_counts(t).values()) for t in x]
        counts = np.asarray(rows, dtype=np.float64).reshape(-1, len(FRAME_NAMES))
        return sparse.csr_matrix(np.log1p(counts))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(list(FRAME_NAMES), dtype=object)
