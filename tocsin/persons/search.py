"""Person search that finds names the way frightened relatives type them, fast at a million.

Why this design (and not Person Finder's prefix match, nor a full scan):

1. **Index keys, in the database.** Each record adds a few rows to ``person_search_key``: one
   ``t:<token>`` per folded name word (accents, case, hyphens and particles gone; joined forms
   "jeanpierre", "delafontaine" added — see :mod:`tocsin.persons.phonetic`) and one
   ``p:<key>`` per French phonetic key (Gauthier = Gautier = Gaultier). Lookups are equality on
   a B-tree index (SQLite and PostgreSQL alike), so the cost of a query is the size of its own
   posting lists, not of the registry.
2. **Typos and partial names are expanded on the vocabulary, not on the records.** The set of
   distinct name words grows far slower than the records (a million French names use a few
   tens of thousands of words). Each worker keeps it in memory (:class:`Vocabulary`, refreshed
   incrementally from ``person_search_term`` by id, so words added by other workers show up),
   and expands a typed word to the words within Levenshtein distance 1 (words up to 4 letters)
   or 2 (longer), using rapidfuzz's bit-parallel Levenshtein, and to the words it begins
   ("Mari" -> marie, marion…). That turns typo search into a handful of exact key lookups.
3. **Candidates, then re-ranking.** Postings of all expanded keys give candidate records with a
   coarse score (how many query words they match, how well). The best few hundred are re-ranked
   with a finer score per query word: 1.0 for the same word, 0.95 for the same phonetic key,
   rapidfuzz's normalised Levenshtein ratio for a typo, a prefix score for a partial word;
   query words are matched to record words in any order (given and family names swapped), with
   a small bonus when the typed order is the record's and a penalty for record words the query
   left out. The score is in [0, 1]; results come best first.

``bench/person_search.py`` measures this against a naive rapidfuzz scan of every name.
"""

from __future__ import annotations

import bisect
import heapq
import threading
import weakref
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy import (
    Connection,
    Engine,
    distinct,
    func,
    intersect,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from tocsin.core.db import utcnow
from tocsin.persons.models import Person, PersonSearchKey, PersonSearchTerm
from tocsin.persons.phonetic import phonetic, query_tokens, split_tokens

MAX_QUERY_WORDS = 6
MAX_EXPANSIONS = 40
RERANK_POOL = 150
INTERSECT_CAP = 5_000
MIN_SCORE = 0.5
CONVINCING = 0.8


def record_tokens(names: Iterable[str | None]) -> tuple[list[str], list[str]]:
    """Return a record's plain words and joined forms over all its names, without repeats."""
    plain: dict[str, None] = {}
    joined: dict[str, None] = {}
    for name in names:
        for line in (name or "").splitlines():
            words, glued = split_tokens(line)
            for word in words:
                plain.setdefault(word[:80], None)
            for word in glued:
                joined.setdefault(word[:80], None)
    return list(plain), [w for w in joined if w not in plain]


def person_tokens(person: Person) -> tuple[list[str], list[str]]:
    """Return the tokens of every name a person record carries (PFIF 1.4 name fields)."""
    return record_tokens(
        [person.full_name, person.given_name, person.family_name, person.alternate_names]
    )


def stored_form(plain: Sequence[str], joined: Sequence[str]) -> str:
    """Return the ``search_tokens`` text the re-ranker reads: plain words | joined forms."""
    return " ".join(plain) + " | " + " ".join(joined)


def index_keys(words: Sequence[str]) -> list[str]:
    """Return the index keys of a record's tokens: the words and their phonetic keys."""
    keys: dict[str, None] = {}
    for word in words:
        keys.setdefault(f"t:{word}"[:80], None)
        keys.setdefault(f"p:{phonetic(word)}"[:80], None)
    return list(keys)


def deletes(word: str, depth: int) -> set[str]:
    """Return ``word`` and every string made by deleting up to ``depth`` of its letters."""
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w)) if len(w) > 1}
        out |= frontier
    return out


class Vocabulary:
    """Distinct name words with a deletion index, refreshed incrementally from the database.

    Typo lookup is a deletion neighbourhood (as in SymSpell, W. Garbe 2012): each word is stored
    under itself and its one-letter deletions; a typed word looks up its deletions up to two
    letters. Any word within one edit is found, and within two edits all but double
    substitutions/deletions on both sides; candidates are then checked with a real Levenshtein
    distance. Each lookup is a few dozen dict probes, whatever the size of the vocabulary (a
    linear scan of 100,000 words costs ~50 ms); only a word with no neighbour at all falls
    back to scanning the words of a close length.
    """

    def __init__(self) -> None:
        self.words: list[str] = []
        self._known: set[str] = set()
        self._by_delete: dict[str, list[str]] = {}
        self._by_length: dict[int, list[str]] = defaultdict(list)
        self._by_initial: dict[tuple[str, int], list[str]] = defaultdict(list)
        self._last_id = 0
        self._lock = threading.Lock()

    def __contains__(self, word: str) -> bool:
        return word in self._known

    def refresh(self, session: Session) -> None:
        """Load the words added since the last refresh (by any worker)."""
        rows = session.connection().execute(
            select(PersonSearchTerm.id, PersonSearchTerm.term)
            .where(PersonSearchTerm.id > self._last_id)
            .order_by(PersonSearchTerm.id)
        ).all()
        if not rows:
            return
        with self._lock:
            new = [t for _, t in rows if t not in self._known]
            self._known.update(new)
            for word in new:
                self._by_length[len(word)].append(word)
                self._by_initial[word[0], len(word)].append(word)
                for key in deletes(word, 1):
                    self._by_delete.setdefault(key, []).append(word)
            if len(new) > 64:
                self.words = sorted([*self.words, *new])
            else:
                for word in new:
                    bisect.insort(self.words, word)
            self._last_id = max(self._last_id, rows[-1][0])

    def similar(self, word: str) -> list[tuple[str, float]]:
        """Return vocabulary words within 1-2 edits of ``word`` with a weight in (0, 1)."""
        limit = 1 if len(word) <= 4 else 2
        seen: set[str] = set()
        for key in deletes(word, limit):
            seen.update(self._by_delete.get(key, ()))
        if limit == 2:
            # Two substitutions escape one-letter deletions: also scan the words that share
            # the first letter (rarely mistyped: Soundex keeps it for that reason) and a close
            # length, a few hundred words even for a large vocabulary.
            seen.update(self._scan(word, self._near(word, same_initial=True)))
        seen.discard(word)
        found = []
        for other in seen:
            dist = Levenshtein.distance(word, other, score_cutoff=limit)
            if dist <= limit:
                found.append((0.85 - 0.1 * dist, other))
        if not found and limit == 2:
            # Nothing near at all: scan every word of a close length (the only linear cost).
            found = [(0.85 - 0.1 * Levenshtein.distance(word, other), other)
                     for other in self._scan(word, self._near(word, same_initial=False))
                     if other != word]
        found.sort(reverse=True)
        return [(w, weight) for weight, w in found[:MAX_EXPANSIONS]]

    def _near(self, word: str, *, same_initial: bool) -> list[str]:
        lengths = range(len(word) - 2, len(word) + 3)
        if same_initial:
            return [w for n in lengths for w in self._by_initial.get((word[0], n), ())]
        return [w for n in lengths for w in self._by_length.get(n, ())]

    @staticmethod
    def _scan(word: str, choices: list[str]) -> list[str]:
        return [other for other, _, _ in process.extract(
            word, choices, scorer=Levenshtein.distance, score_cutoff=2, limit=MAX_EXPANSIONS)]

    def prefixed(self, word: str) -> list[tuple[str, float]]:
        """Return words that begin with ``word`` (a partial name), weighted by coverage."""
        if len(word) < 2:
            return []
        start = bisect.bisect_left(self.words, word)
        out: list[tuple[str, float]] = []
        for candidate in self.words[start : start + MAX_EXPANSIONS]:
            if not candidate.startswith(word):
                break
            if candidate != word:
                out.append((candidate, 0.6 + 0.3 * len(word) / len(candidate)))
        return out


_vocabularies: weakref.WeakKeyDictionary[Engine, Vocabulary] = weakref.WeakKeyDictionary()
_vocab_lock = threading.Lock()


def vocabulary_for(session: Session) -> Vocabulary:
    """Return the vocabulary cached for this session's engine (one per database per process)."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    with _vocab_lock:
        vocab = _vocabularies.get(engine)
        if vocab is None:
            vocab = _vocabularies[engine] = Vocabulary()
    vocab.refresh(session)
    return vocab


@dataclass(frozen=True)
class Hit:
    """One search result: the record's id and its score in [0, 1]."""

    person_id: int
    score: float


def word_score(query: str, word: str) -> float:
    """Score how well a typed word matches a record word (1 = same word)."""
    if query == word:
        return 1.0
    best = Levenshtein.normalized_similarity(query, word)
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
    for q in query:
        best, best_i = 0.0, -1
        for i, word in enumerate(record):
            score = word_score(q, word)
            if score > best or (score == best and best_i in used and i not in used):
                best, best_i = score, i
        total += best
        if best_i >= 0:
            used.add(best_i)
            positions.append(best_i)
    mean = total / len(query)
    # Record words the query left out cost a little (a search for "Marie" prefers "Marie
    # Dupont" to "Marie-Hélène Anne Dupont"); a joined form matched covers two words.
    covered = sum(1 if i < len(plain) else 2 for i in used)
    missing = max(0, len(plain) - covered)
    score = mean * (1.0 - 0.04 * min(missing, 3))
    if positions == sorted(positions):
        score += 0.01
    return round(min(score, 1.0), 4)


def _weights(
    rows: Iterable[Any], wanted: dict[str, list[tuple[int, float]]], size: int
) -> list[dict[int, float]]:
    """Return, per query word, the best weight each person reached through its keys."""
    best: list[dict[int, float]] = [{} for _ in range(size)]
    for key, person_id in rows:
        for qi, weight in wanted[key]:
            if weight > best[qi].get(person_id, 0.0):
                best[qi][person_id] = weight
    return best


def _fetch(connection: Connection, keys: list[str], ids: Sequence[int] | None = None
           ) -> Iterable[Any]:
    for start in range(0, len(keys), 400):
        query = select(PersonSearchKey.key, PersonSearchKey.person_id).where(
            PersonSearchKey.key.in_(keys[start : start + 400]))
        if ids is not None:
            query = query.where(PersonSearchKey.person_id.in_(ids))
        yield from connection.execute(query)


def _intersected(
    connection: Connection, words: list[str], wanted: dict[str, list[tuple[int, float]]]
) -> dict[int, float]:
    """Return records matching every query word, with a coarse score (sum of best weights).

    The database intersects the posting lists, so Python only sees the few records that can
    be right (a common given name alone has thousands of postings).
    """
    per_word = [[k for k, uses in wanted.items() if any(qi == i for qi, _ in uses)]
                for i in range(len(words))]
    both = intersect(*[
        select(PersonSearchKey.person_id).where(PersonSearchKey.key.in_(ks)) for ks in per_word
    ]).limit(INTERSECT_CAP)
    return _scored(connection, words, wanted, [row[0] for row in connection.execute(both)])


def _union(
    connection: Connection, words: list[str], wanted: dict[str, list[tuple[int, float]]]
) -> dict[int, float]:
    """Return records matching all query words but one (or the only one), coarsely scored.

    The database does the counting (GROUP BY ... HAVING), so the postings of a common word
    never cross into Python.
    """
    needed = max(1, len(words) - 1)
    per_word = [[k for k, uses in wanted.items() if any(qi == i for qi, _ in uses)]
                for i in range(len(words))]
    tagged = union_all(*[
        select(PersonSearchKey.person_id, literal(i).label("w"))
        .where(PersonSearchKey.key.in_(ks)) for i, ks in enumerate(per_word) if ks
    ]).subquery()
    query = (select(tagged.c.person_id).group_by(tagged.c.person_id)
             .having(func.count(distinct(tagged.c.w)) >= needed).limit(INTERSECT_CAP))
    return _scored(connection, words, wanted, [row[0] for row in connection.execute(query)])


def _scored(connection: Connection, words: list[str],
            wanted: dict[str, list[tuple[int, float]]], ids: list[int]) -> dict[int, float]:
    """Return the coarse score (sum over query words of the best key weight) of ``ids``."""
    best: list[dict[int, float]] = [{} for _ in words]
    for start in range(0, len(ids), 500):
        part = _weights(_fetch(connection, list(wanted), ids[start : start + 500]), wanted,
                        len(words))
        for mine, more in zip(best, part, strict=True):
            mine.update(more)
    return {pid: sum(w.get(pid, 0.0) for w in best) for pid in ids}


def _rerank(connection: Connection, words: list[str], coarse: dict[int, float]) -> list[Hit]:
    ids = heapq.nlargest(RERANK_POOL, coarse, key=coarse.__getitem__)
    now = utcnow()
    hits: list[Hit] = []
    for start in range(0, len(ids), 500):
        for person_id, stored in connection.execute(
            select(Person.id, Person.search_tokens).where(
                Person.id.in_(ids[start : start + 500]), Person.purge_at > now
            )
        ):
            score = rank_score(words, stored)
            if score >= MIN_SCORE:
                hits.append(Hit(person_id, score))
    return hits


def search(
    session: Session, text: str, *, limit: int = 20, vocab: Vocabulary | None = None
) -> list[Hit]:
    """Return the records best matching ``text``, best first (see the module docstring)."""
    words = query_tokens(text)[:MAX_QUERY_WORDS]
    if not words:
        return []
    vocab = vocab or vocabulary_for(session)
    # key -> [(query word index, weight)]
    wanted: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for qi, word in enumerate(words):
        wanted[f"t:{word}"].append((qi, 1.0))
        wanted[f"p:{phonetic(word)}"].append((qi, 0.9))
        expansions = vocab.similar(word)
        if word not in vocab:  # a partial name: the words it begins
            expansions += vocab.prefixed(word)
        for other, weight in expansions:
            wanted[f"t:{other}"].append((qi, weight))
    connection = session.connection()
    hits: list[Hit] = []
    if len(words) >= 2:
        hits = _rerank(connection, words, _intersected(connection, words, wanted))
    # One word, or no convincing record matching every word (one may be too mangled to
    # expand): widen to records matching all words but one.
    if not hits or max(h.score for h in hits) < CONVINCING:
        seen = {h.person_id for h in hits}
        hits += [h for h in _rerank(connection, words, _union(connection, words, wanted))
                 if h.person_id not in seen]
    hits.sort(key=lambda h: (-h.score, h.person_id))
    return hits[:limit]
