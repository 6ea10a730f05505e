"""Scores of a found record against the typed words, and the order results are given in.

The score is in [0, 1] and meant to be read ("97 %"): per typed word 1.0 for the same word,
0.95 for the same French phonetic key, the normalised Damerau-Levenshtein similarity for a
typo, a prefix score for a partial word, 0.85 for an initial; words matched in any order
(given and family names swapped), record words the query left out costing a little, the typed
order worth the last hundredth. Equal scores are ordered by how common the name is, each name
once before any twice (:func:`diversify`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import DamerauLevenshtein

from tocsin.persons.phonetic import phonetic

# An initial matches any word it begins: worth less than the word typed in full.
INITIAL_WEIGHT = 0.85
ORDER_BONUS = 0.01  # for the words typed in the record's order
MISSING_COST = 0.04  # per record word the query left out (three at most)
HALF_COST = 0.02  # ...the other part of a compound given name one part of which was typed


@dataclass(frozen=True)
class Hit:
    """One search result: the record's id and its score in [0, 1]."""

    person_id: int
    score: float


def word_score(query: str, word: str) -> float:
    """Score how well a typed word matches a record word (1 = same word)."""
    if query == word:
        return 1.0
    if len(query) == 1:  # an initial ("J. Dupont")
        return INITIAL_WEIGHT if word.startswith(query) else 0.0
    best = DamerauLevenshtein.normalized_similarity(query, word)
    if best < 0.95 and phonetic(query) == phonetic(word):
        best = 0.95
    if len(query) >= 2 and word.startswith(query):
        best = max(best, 0.6 + 0.3 * len(query) / len(word))
    return best


def rank_score(query: Sequence[str], stored: str) -> float:
    """Score a record (its ``stored_form``) against the query words, in any order, in [0, 1]."""
    plain_text, _, joined_text = stored.partition(" | ")
    plain = plain_text.split()
    record = plain + joined_text.split()
    if not query or not record:
        return 0.0
    used: set[int] = set()
    total = 0.0
    positions: list[int] = []
    last = len(plain) - 1
    for q in query:
        best, best_i = 0.0, -1
        for i, word in enumerate(record):
            if len(q) == 1:
                # An initial stands for one word of its own, a given name rather than the
                # family name (written last) or a joined form.
                if i in used or not word.startswith(q):
                    continue
                score = INITIAL_WEIGHT if i < last else INITIAL_WEIGHT - 0.05
            else:
                score = word_score(q, word)
            if score > best or (score == best and best_i in used and i not in used):
                best, best_i = score, i
        total += best
        if best_i >= 0:
            used.add(best_i)
            positions.append(best_i)
    mean = total / len(query)
    # Record words the query left out cost a little (a search for "Marie" prefers "Marie
    # Dupont" to "Marie-Hélène Anne Dupont"); a joined form matched covers the words it
    # joins ("jeanpierre" two, "desaint" one: the particle is no word of the record).
    covered = sum(1 if i < len(plain) else max(1, sum(1 for w in plain if w in record[i]))
                  for i in used)
    missing = max(0, len(plain) - covered)
    # ...but half as much for the other part of a compound given name one part of which was
    # matched: "Pierre" is how Jean-Pierre is called, more often than "Leclerc" is Leclercq.
    glued = set(record[len(plain):])
    matched = {record[i] for i in used if i < len(plain)}
    halves = sum(1 for i, w in enumerate(plain) if i not in used and any(
        m + w in glued or w + m in glued for m in matched))
    halves = min(halves, missing)
    score = mean * (1.0 - MISSING_COST * min(missing - halves, 3) - HALF_COST * halves)
    # The typed order is a hint (the last hundredth of the scale, so that "Jean Thomas"
    # typed puts Jean Thomas before Thomas Jean), except that an initial stands for a given
    # name, which records write first, wherever it was typed ("Dupont J.").
    short = [p for q, p in zip(query, positions, strict=False) if len(q) == 1]
    full = [p for q, p in zip(query, positions, strict=False) if len(q) > 1]
    in_order = (short == sorted(short) and max(short) < min(full) if short and full
                else positions == sorted(positions))
    return round(min(score * (1.0 - ORDER_BONUS) + (ORDER_BONUS if in_order else 0.0), 1.0),
                 4)


def diversify(found: Iterable[tuple[Hit, str]]) -> list[Hit]:
    """Order hits best score first; among equal scores, the commonest name first, and each
    name once before any name twice.

    Equal scores mean the query cannot tell those records apart ("J. Dupont": Jean, Julie,
    Jacques Dupont…). The name more records carry is the likelier one meant (the pool counts
    them, a sample where a key was capped); and a second "Jean Dupont" — often the same person
    reported twice — tells less than the first "Julie Dupont", so ten results cover as many of
    the names that fit as they can.
    """
    by_score: dict[float, dict[str, list[int]]] = {}
    for hit, name in found:
        by_score.setdefault(hit.score, {}).setdefault(name, []).append(hit.person_id)
    out: list[Hit] = []
    for score in sorted(by_score, reverse=True):
        groups = sorted((sorted(ids) for ids in by_score[score].values()),
                        key=lambda ids: (-len(ids), ids[0]))
        for ids in itertools.zip_longest(*groups):
            out.extend(Hit(pid, score) for pid in ids if pid is not None)
    return out
