"""Why stage 1 flagged a text, in terms a moderator can check: its strongest features and
where their words sit in the original text.

Why here, apart from the model: the explanation is read on every assessment of the review
queue (a moderator acts on it), so it is kept fast (no Python loop over characters, a cached
pattern per term) and testable on its own.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np

from tocsin.watch.features import normalise

# Explanations look at this many strongest features (enough to find a few word spans).
RANKED = 40


def ranked_features(indices: np.ndarray, data: np.ndarray, direction: np.ndarray, names: list[str],
            flagged: bool) -> list[tuple[str, float]]:
    """Return the present features with their contributions, strongest first."""
    contrib = data * direction[indices]
    # Flagged: what pushed towards harm; not flagged: what held it back.
    key = -contrib if flagged else contrib
    if key.size > RANKED:
        top = np.argpartition(key, RANKED)[:RANKED]
        order = top[np.argsort(key[top])]
    else:
        order = np.argsort(key)
    # Plain lists: indexing numpy scalars one by one costs more than the ranking itself.
    return list(zip([names[i] for i in indices[order].tolist()], contrib[order].tolist(),
                    strict=True))


class _CharTable(dict[int, str]):
    """``str.translate`` table mapping each character to its one normalised character.

    Filled lazily (``__missing__``) so one C-level ``translate`` call replaces a Python loop
    over the text's characters: offsets in the result are offsets in the original.
    """

    def __missing__(self, code: int) -> str:
        value = (normalise(chr(code)) or " ")[:1]
        self[code] = value
        return value


_CHAR_TABLE = _CharTable()


@functools.lru_cache(maxsize=8192)
def _term_pattern(term: str) -> re.Pattern[str]:
    return re.compile(r"\b" + r"\W+".join(map(re.escape, term.split())) + r"\b")


def text_spans(text: str, ranked: list[tuple[str, float]], k: int,
           flagged: bool) -> list[dict[str, Any]]:
    """Map the strongest word n-grams back to character spans of the original text."""
    # One normalised char per original char, so offsets in norm_text are offsets in text.
    norm_text = ""
    spans: list[dict[str, Any]] = []
    for name, weight in ranked:
        if (weight <= 0) if flagged else (weight >= 0):
            break
        if not name.startswith("word:"):
            continue
        if not norm_text:
            # ASCII casefolds one char to one char; other texts go through the table.
            norm_text = text.lower() if text.isascii() else text.translate(_CHAR_TABLE)
        match = _term_pattern(name.removeprefix("word:")).search(norm_text)
        if match:
            spans.append({"start": match.start(), "end": match.end(),
                          "text": text[match.start():match.end()], "weight": round(weight, 4)})
            if len(spans) >= k:
                break
    return spans
