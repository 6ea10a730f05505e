"""Person search that finds names the way frightened relatives type them, fast at a million.

Why this design (and not Person Finder's prefix match, nor a full scan):

1. **Typos, phonetics and partial names are expanded on the vocabulary, not on the records.**
   The distinct name words grow far slower than the records (a million French names use a few
   tens of thousands of words). Each worker keeps them in memory
   (:class:`~tocsin.persons.vocabulary.Vocabulary`) and turns each typed word into the
   weighted words it may mean: itself (1.0), its French phonetic twins (0.9: Gautier ->
   gauthier, gaultier), its neighbours within one or two Damerau-Levenshtein edits (0.75,
   0.65; a swap of two letters is one slip) and, for a word the vocabulary lacks, the words it
   begins ("Mari" -> marie, marion…).
2. **The index holds pairs of name words.** Each record stores, in ``person_search_key``,
   one ``t:<word>`` key per folded name word (accents, case, hyphens and particles gone;
   joined forms "jeanpierre", "delafontaine" added — :mod:`tocsin.persons.phonetic`) and one
   ``2:<a> <b>`` key per unordered pair of those words: a handful of rows per record. A
   common given name or the phonetic key of a common family name has tens of thousands of
   postings at a million records, and intersecting such lists in the database was the whole
   cost of the previous design; a *pair* ("marie martin") has a few. A query of two or more
   words forms the candidate pairs of its expansions and probes them best first (by summed
   weight, lazily, from a heap), a batch of exact B-tree lookups per round trip, each capped
   (a compound given name such as "jean pierre" is itself a common pair), and stops as soon
   as enough records are found that no unprobed pair could beat: the cost follows the number
   of probes, not the size of the registry or of any posting list.
3. **One-word queries, and words nothing matches, take a capped path**: the ``t:`` keys of
   the expansions, best first, a bounded number of postings each (a search for "Marie" alone
   cannot rank six thousand Maries anyway). A multi-word query falls back to it when no pair
   gives a convincing record (a name of one word, a word mangled beyond two edits).
4. **Re-ranking.** The found records (a pool of ~100) are re-scored per query word: 1.0 for
   the same word, 0.95 for the same phonetic key, the normalised Damerau-Levenshtein
   similarity for a typo, a prefix score for a partial word; query words are matched to
   record words in any order (given and family names swapped), with a small bonus when the
   typed order is the record's and a penalty for record words the query left out. The score
   is in [0, 1]; results come best first.

``bench/person_search.py`` measures this against a naive rapidfuzz scan and PostgreSQL pg_trgm.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import DamerauLevenshtein
from sqlalchemy import Connection, TextClause, select, text
from sqlalchemy.orm import Session

from tocsin.core.db import utcnow
from tocsin.persons.models import Person
from tocsin.persons.phonetic import glued_forms, phonetic, query_tokens, split_tokens
from tocsin.persons.vocabulary import Vocabulary, vocabulary_for

MAX_QUERY_WORDS = 6
MAX_RECORD_WORDS = 12  # pairs of a record's first 12 words at most (66 keys)
MAX_PROBES = 2_000  # keys probed per query at most
BATCH = 48  # keys per round trip
PAIR_POSTINGS = 100  # postings read per pair key
WORD_POSTINGS = 150  # postings read per word key (the capped one-word path)
RERANK_POOL = 120
SLACK = 5  # records found beyond ``limit`` before probing may stop
MARGIN = 0.4  # ...or once unprobed keys weigh this much less than the best record found
MIN_SCORE = 0.5
CONVINCING = 0.8
# An initial matches any word it begins: worth less than the word typed in full.
INITIAL_WEIGHT = 0.85
# How many respellings of the whole query (words glued or split) are searched beside it.
MAX_VARIANTS = 2

# (key, ((query word index, weight), ...)): a key and the query words a posting of it covers.
Probe = tuple[str, tuple[tuple[int, float], ...]]


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


def word_key(word: str) -> str:
    """Return the index key of one name word."""
    return f"t:{word}"[:80]


def pair_key(a: str, b: str) -> str:
    """Return the index key of an unordered pair of name words."""
    return (f"2:{a} {b}" if a < b else f"2:{b} {a}")[:80]


def initial_key(initial: str, word: str) -> str:
    """Return the index key of a word with the initial of another word of the same record."""
    return f"i:{initial} {word}"[:80]


def index_keys(plain: Sequence[str], joined: Sequence[str] = ()) -> list[str]:
    """Return a record's index keys: each word, each pair of words, and each word with the
    initial of another plain word ("J. Dupont": ``i:j dupont``; see the docstring).

    A joined form is not paired with a word it contains ("delafontaine" with "fontaine"):
    nobody types both.
    """
    words = [*plain, *joined]
    keys = dict.fromkeys(word_key(w) for w in words)
    head = words[:MAX_RECORD_WORDS]
    glued = set(joined)
    for i, a in enumerate(head):
        for b in head[i + 1 :]:
            if a != b and not ((a in glued and b in a) or (b in glued and a in b)):
                keys.setdefault(pair_key(a, b), None)
    firsts = plain[:MAX_RECORD_WORDS]
    for a in firsts:
        for b in head:
            if a != b and not (b in glued and a in b):
                keys.setdefault(initial_key(a[0], b), None)
    # A compound given name by its initials ("J.-P. Martin", "JP Martin"): the two parts'
    # initials with each other word, for the records whose two words make a joined form.
    for a, b in itertools.pairwise(firsts):
        if a + b in glued:
            for other in firsts:
                if other not in (a, b):
                    keys.setdefault(initial_key(a[0] + b[0], other), None)
    return list(keys)


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
    score = mean * (1.0 - 0.04 * min(missing, 3))
    # The typed order is a hint, except that an initial stands for a given name, which
    # records write first, wherever it was typed ("Dupont J.").
    short = [p for q, p in zip(query, positions, strict=False) if len(q) == 1]
    full = [p for q, p in zip(query, positions, strict=False) if len(q) > 1]
    if (short == sorted(short) and max(short) < min(full) if short and full
            else positions == sorted(positions)):
        score += 0.01
    return round(min(score, 1.0), 4)


Expansions = list[list[tuple[str, float]]]


def _pairs(expansions: Expansions) -> Iterator[tuple[float, Probe]]:
    """Yield the pair keys of the expanded query words, best summed weight first.

    Each expansion list is sorted, so the best pairs come from a heap walk over the grid of
    (i-th word of one list, j-th of the other): only the pairs actually probed are formed.
    """
    heap: list[tuple[float, int, int, int, int]] = []
    for i, first in enumerate(expansions):
        for j in range(i + 1, len(expansions)):
            if first and expansions[j]:
                heap.append((-(first[0][1] + expansions[j][0][1]), i, j, 0, 0))
    heapq.heapify(heap)
    seen = {(i, j, 0, 0) for _, i, j, _, _ in heap}
    while heap:
        negative, i, j, x, y = heapq.heappop(heap)
        (a, wa), (b, wb) = expansions[i][x], expansions[j][y]
        if len(a) == 1 and len(b) > 1:
            yield -negative, (initial_key(a, b), ((i, wa), (j, wb)))
        elif len(b) == 1 and len(a) > 1:
            yield -negative, (initial_key(b, a), ((i, wa), (j, wb)))
        elif a != b and len(a) > 1:
            yield -negative, (pair_key(a, b), ((i, wa), (j, wb)))
        for nx, ny in ((x + 1, y), (x, y + 1)):
            if nx < len(expansions[i]) and ny < len(expansions[j]) and (i, j, nx, ny) not in seen:
                seen.add((i, j, nx, ny))
                heapq.heappush(heap, (-(expansions[i][nx][1] + expansions[j][ny][1]),
                                      i, j, nx, ny))


def _compound_initials(expansions: Expansions) -> Iterator[tuple[float, Probe]]:
    """Yield ``i:<xy> <word>`` keys for two initials typed in a row, best weight first."""
    probes: list[tuple[float, Probe]] = []
    for i in range(len(expansions) - 1):
        if not expansions[i] or not expansions[i + 1]:
            continue
        (a, wa), (b, wb) = expansions[i][0], expansions[i + 1][0]
        if len(a) == 1 and len(b) == 1 and len(expansions[i]) == len(expansions[i + 1]) == 1:
            for k, found in enumerate(expansions):
                if k in (i, i + 1):
                    continue
                for word, weight in found:
                    if len(word) > 1:
                        probes.append((wa + wb + weight, (initial_key(a + b, word), (
                            (i, wa), (i + 1, wb), (k, weight)))))
    probes.sort(key=lambda p: -p[0])
    yield from probes


def _words(expansions: Expansions) -> Iterator[tuple[float, Probe]]:
    """Yield the word keys of the expanded query words, best weight first."""
    probes = [(w, (word_key(word), ((qi, w),)))
              for qi, found in enumerate(expansions) for word, w in found if len(word) > 1]
    probes.sort(key=lambda p: -p[0])
    yield from probes


@lru_cache(maxsize=64)
def _probe_sql(count: int) -> TextClause:
    # One round trip, one capped index range per key (SQLite and PostgreSQL alike). Only
    # parameter names are formatted in; the keys and the cap are bound values.
    return text(" UNION ALL ".join(
        f"SELECT * FROM (SELECT key, person_id FROM person_search_key "  # noqa: S608
        f"WHERE key = :k{i} LIMIT :n) AS a{i}" for i in range(count)))


def _collect(connection: Connection, probes: Iterator[tuple[float, Probe]], *, words: int,
             need: int, postings: int, extra: float) -> dict[int, float]:
    """Probe keys best first; return found records with a coarse score (summed weights).

    Stops when the pool is full, when ``need`` records score at least what a record not yet
    found could reach (the next key's weight plus ``extra``, the most the query words outside
    that key could add), or when that reach falls ``MARGIN`` below the best record found (a
    rare name typed right need not be padded out with two-typo neighbours).
    """
    cover: dict[int, list[float]] = {}
    certain: set[int] = set()
    probed = 0
    upcoming = next(probes, None)
    while upcoming is not None and probed < MAX_PROBES:
        batch: dict[str, list[tuple[int, float]]] = {}
        while upcoming is not None and len(batch) < BATCH:
            key, covers = upcoming[1]
            batch.setdefault(key, []).extend(covers)
            upcoming = next(probes, None)
        keys = list(batch)
        params: dict[str, object] = {f"k{i}": k for i, k in enumerate(keys)}
        params["n"] = postings
        rows = connection.execute(_probe_sql(len(keys)), params).all()
        sizes = Counter(key for key, _ in rows)
        for key, person_id in rows:
            weights = cover.get(person_id)
            if weights is None:
                weights = cover[person_id] = [0.0] * words
            for qi, weight in batch[key]:
                if weight > weights[qi]:
                    weights[qi] = weight
            if sizes[key] < postings:
                certain.add(person_id)
        probed += len(keys)
        if len(cover) >= RERANK_POOL or upcoming is None:
            break
        bound = upcoming[0] + extra
        if cover and max(sum(w) for w in cover.values()) - bound >= MARGIN:
            break  # what is left would rank well below what was found
        if len(cover) >= need:
            kth = heapq.nlargest(need, (sum(w) for w in cover.values()))[-1]
            if kth >= bound:
                break
    # A key cut at ``postings`` gave an arbitrary part of its records: among equal scores,
    # records that a key gave in full ("marc michel", not "pierre michel") go first.
    return {pid: sum(weights) + (0.01 if pid in certain else 0.0)
            for pid, weights in cover.items()}


def _rerank(connection: Connection, words: list[str], coarse: dict[int, float],
            particled: frozenset[str] = frozenset()) -> list[Hit]:
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
            if particled and not particled.isdisjoint(stored.split()):
                score = round(score + 0.005, 4)
            if score >= MIN_SCORE:
                hits.append(Hit(person_id, score))
    return hits


def initials(words: list[str], vocab: Vocabulary) -> list[str]:
    """Spell out a compound's initials typed together ("JP Martin", "AM Faure": two
    initials), when the letters are no known word; three letters only without a vowel."""
    out: list[str] = []
    for word in words:
        if word not in vocab and (len(word) == 2 or (
                len(word) == 3 and not set(word) & set("aeiouy"))):
            out.extend(word)
        else:
            out.append(word)
    return out


def variants(words: list[str], vocab: Vocabulary,
             glued: Sequence[tuple[str, str]] = ()) -> list[list[str]]:
    """Other spellings of the whole query that the vocabulary makes plausible: a typed
    particle glued to its word ("de la Tour" for a record "Delatour"), two adjacent words
    glued ("Jean Pierre" for "Jeanpierre"), or one word split in two known words
    ("Jeanpierre" for "Jean Pierre")."""
    out: list[list[str]] = []
    done: set[str] = set()
    for word, form in glued:
        if word in words and word not in done and form in vocab:
            done.add(word)
            out.append([form if w == word else w for w in words])
    for i in range(len(words) - 1):
        pair = words[i] + words[i + 1]
        if len(words[i]) > 1 and len(words[i + 1]) > 1 and pair in vocab:
            out.append([*words[:i], pair, *words[i + 2 :]])
    for i, word in enumerate(words):
        for cut in range(3, len(word) - 2):
            if word[:cut] in vocab and word[cut:] in vocab:
                out.append([*words[:i], word[:cut], word[cut:], *words[i + 1 :]])
                break
    return out[:MAX_VARIANTS]


def search(
    session: Session, text: str, *, limit: int = 20, vocab: Vocabulary | None = None
) -> list[Hit]:
    """Return the records best matching ``text``, best first (see the module docstring)."""
    vocab = vocab or vocabulary_for(session)
    words = initials(query_tokens(text), vocab)[:MAX_QUERY_WORDS]
    if not words:
        return []
    connection = session.connection()
    glued = glued_forms(text)
    # A record that has the particle typed ("Le Breton", "Lebreton") goes before one that
    # has not ("Breton") when the words otherwise score the same.
    particled = frozenset(form for _, form in glued)
    best: dict[int, float] = {}
    for spelling in [words, *variants(words, vocab, glued)]:
        for hit in _search(connection, spelling[:MAX_QUERY_WORDS], limit, vocab, particled):
            if hit.score > best.get(hit.person_id, 0.0):
                best[hit.person_id] = hit.score
    hits = [Hit(person_id, score) for person_id, score in best.items()]
    hits.sort(key=lambda h: (-h.score, h.person_id))
    return hits[:limit]


def _search(connection: Connection, words: list[str], limit: int, vocab: Vocabulary,
            particled: frozenset[str] = frozenset()) -> list[Hit]:
    expansions = [[(word, INITIAL_WEIGHT)] if len(word) == 1 else vocab.expand(word)
                  for word in words]
    tops = sorted((found[0][1] if found else 0.0 for found in expansions), reverse=True)
    need = limit + SLACK
    hits: list[Hit] = []
    if len(words) >= 2:
        probes = heapq.merge(_compound_initials(expansions), _pairs(expansions),
                             key=lambda probe: -probe[0])
        coarse = _collect(connection, probes, words=len(words), need=need,
                          postings=PAIR_POSTINGS, extra=sum(tops[: len(words) - 2]))
        hits = _rerank(connection, words, coarse, particled)
    # One word, or no convincing record matching a pair of the words (a one-word name, a
    # word too mangled to expand): the capped path over each word's keys.
    if not hits or max(h.score for h in hits) < CONVINCING:
        seen = {h.person_id for h in hits}
        coarse = _collect(connection, _words(expansions), words=len(words), need=need,
                          postings=WORD_POSTINGS, extra=sum(tops[1:]))
        hits += [h for h in _rerank(connection, words, coarse, particled)
                 if h.person_id not in seen]
    return hits


def rows_keys(rows: Iterable[Any]) -> Iterator[tuple[int, list[str], str]]:
    """Yield (person id, index keys, stored form) for rows of (id, full, given, family, alt)."""
    for person_id, *names in rows:
        plain, joined = record_tokens(names)
        yield person_id, index_keys(plain, joined), stored_form(plain, joined)
