"""The in-memory vocabulary of name words: typo, phonetic and prefix expansion of a typed word.

The distinct name words of a registry grow far slower than its records (a million French
names use a few tens of thousands of words), so each worker keeps them in memory, refreshed
incrementally from ``person_search_term`` by id (words added by other workers show up), and
turns one typed word into the weighted vocabulary words it may mean. The database then only
sees exact keys (:mod:`tocsin.persons.search`).
"""

from __future__ import annotations

import bisect
import threading
import weakref
from collections import defaultdict
from collections.abc import Iterable

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tocsin.persons.models import PersonSearchTerm
from tocsin.persons.phonetic import phonetic

# Words one typed word may stand for (after weighting): enough for two typos in a common
# word of a 40,000-word vocabulary, few enough that pairs of them stay cheap to probe.
MAX_EXPANSIONS = 60
# Weights of an expansion (the typed word itself weighs 1.0). A typo costs more than a
# phonetic respelling: "Gautier" for Gauthier is a spelling, "Gauhtier" a slip.
PHONETIC_WEIGHT = 0.9
# A name with or without its particle ("Fontaine" for Delafontaine, "Lacroix" for Croix): the
# same family name as often as not.
PARTICLE_WEIGHT = 0.85
# Particle runs people glue to a family name, longest first.
GLUED_PARTICLES = ("dela", "des", "del", "de", "du", "la", "le", "les", "d", "l", "van", "von")
TYPO_WEIGHT = {1: 0.75, 2: 0.65}


def deletes(word: str, depth: int) -> set[str]:
    """Return ``word`` and every string made by deleting up to ``depth`` of its letters."""
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w)) if len(w) > 1}
        out |= frontier
    return out


def typo_limit(word: str) -> int:
    """Edits forgiven in a typed word: one up to 3 letters, two from 4 ("Rxoy" for Roux)."""
    return 1 if len(word) <= 3 else 2


class Vocabulary:
    """Distinct name words with a deletion index and a phonetic index.

    Typo lookup is a deletion neighbourhood (as in SymSpell, W. Garbe 2012): each word is stored
    under itself and its one-letter deletions; a typed word looks up its deletions up to two
    letters, which finds every word within one edit and most within two. The distance is
    Damerau-Levenshtein (a swap of two letters is one slip, not two), so the rest — two
    substitutions, two swaps — is caught by scanning the words of a close length that share
    the first letter (rarely mistyped: Soundex keeps it for that reason), a few hundred words
    at most, in rapidfuzz's C++ scan. Phonetic variants come from a key -> words map.
    """

    def __init__(self) -> None:
        self.words: list[str] = []
        self._known: set[str] = set()
        self._by_delete: dict[str, list[str]] = {}
        self._by_phonetic: dict[str, list[str]] = defaultdict(list)
        self._by_length: dict[int, list[str]] = defaultdict(list)
        self._by_initial: dict[tuple[str, int], list[str]] = defaultdict(list)
        # Scan lists by (initial or "", length), rebuilt after words are added.
        self._near_cache: dict[tuple[str, int], list[str]] = {}
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
        if rows:
            self.add((t for _, t in rows), last_id=rows[-1][0])

    def add(self, terms: Iterable[str], *, last_id: int = 0) -> None:
        """Add words to the indexes."""
        with self._lock:
            new = [t for t in dict.fromkeys(terms) if t and t not in self._known]
            self._known.update(new)
            if new:
                self._near_cache = {}
            for word in new:
                self._by_length[len(word)].append(word)
                self._by_initial[word[0], len(word)].append(word)
                self._by_phonetic[phonetic(word)].append(word)
                for key in deletes(word, 1):
                    self._by_delete.setdefault(key, []).append(word)
            if len(new) > 64:
                self.words = sorted([*self.words, *new])
            else:
                for word in new:
                    bisect.insort(self.words, word)
            self._last_id = max(self._last_id, last_id)

    def expand(self, word: str) -> list[tuple[str, float]]:
        """Return the vocabulary words ``word`` may mean, best first, with a weight in (0, 1].

        The word itself (1.0), its phonetic twins (0.9), its typo neighbours (0.75 one edit,
        0.65 two), and, for a word the vocabulary lacks, the words it begins (a partial name).
        """
        weights: dict[str, float] = {}
        if word in self._known:
            weights[word] = 1.0
        for other in self._by_phonetic.get(phonetic(word), ()):
            weights.setdefault(other, PHONETIC_WEIGHT)
        for other, weight in self.similar(word):
            if weight > weights.get(other, 0.0):
                weights[other] = weight
        for other in self.particled(word):
            weights.setdefault(other, PARTICLE_WEIGHT)
        if word not in self._known:
            for other, weight in self.prefixed(word):
                if weight > weights.get(other, 0.0):
                    weights[other] = weight
        # Ties (many words two edits away) go to the closest spelling, then the shortest.
        ranked = sorted(weights.items(),
                        key=lambda kv: (-kv[1], -fuzz.ratio(word, kv[0]), len(kv[0]), kv[0]))
        return ranked[:MAX_EXPANSIONS]

    def similar(self, word: str) -> list[tuple[str, float]]:
        """Return vocabulary words within 1-2 edits of ``word`` with a weight in (0, 1)."""
        limit = typo_limit(word)
        seen: set[str] = set()
        for key in deletes(word, limit):
            seen.update(self._by_delete.get(key, ()))
        if limit == 2 and word not in self._known:
            # A typed word that is no name at all is likelier a bad slip: look further.
            seen.update(self._scan(word, self._near(word, same_initial=True)))
        seen.discard(word)
        found = []
        for other in seen:
            dist = DamerauLevenshtein.distance(word, other, score_cutoff=limit)
            if dist <= limit:
                found.append((other, TYPO_WEIGHT[max(dist, 1)]))
        if not found and limit == 2 and word not in self._known:
            # Nothing near at all (the first letter itself mistyped?): scan every word of a
            # close length, the only cost that grows with the vocabulary.
            found = [(other, TYPO_WEIGHT[max(1, DamerauLevenshtein.distance(word, other))])
                     for other in self._scan(word, self._near(word, same_initial=False))
                     if other != word]
        return found

    def _near(self, word: str, *, same_initial: bool) -> list[str]:
        lengths = range(max(1, len(word) - 2), len(word) + 3)
        initial = word[0] if same_initial else ""
        cached = self._near_cache.get((initial, len(word)))
        if cached is None:
            if same_initial:
                cached = [w for n in lengths for w in self._by_initial.get((initial, n), ())]
            else:
                cached = [w for n in lengths for w in self._by_length.get(n, ())]
            self._near_cache[initial, len(word)] = cached
        return cached

    @staticmethod
    def _scan(word: str, choices: list[str]) -> list[str]:
        return [other for other, _, _ in process.extract(
            word, choices, scorer=DamerauLevenshtein.distance, score_cutoff=2,
            limit=MAX_EXPANSIONS)]

    def particled(self, word: str) -> list[str]:
        """Known words that are ``word`` with a particle glued on, or without its particle."""
        out = [p + word for p in GLUED_PARTICLES if p + word in self._known]
        for particle in GLUED_PARTICLES:
            rest = word[len(particle) :]
            if word.startswith(particle) and len(rest) >= 4 and rest in self._known:
                out.append(rest)
                break
        return out

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
