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
4. **Re-ranking** (:mod:`tocsin.persons.search_rank`). The found records (a pool of ~100)
   are re-scored per query word: 1.0 for the same word, 0.95 for the same phonetic key, the
   normalised Damerau-Levenshtein similarity for a typo, a prefix score for a partial word;
   query words are matched to record words in any order (given and family names swapped),
   record words the query left out cost a little (half as much for the other part of a
   compound given name: "Pierre" for Jean-Pierre), and the typed order is worth the last
   hundredth. The score is in [0, 1]; results come best first, and among equal scores (the
   query cannot tell them apart: "J. Dupont") the commonest name first and each name once
   before any twice, so the first ten cover as many of the names that fit as they can.

The record side (which keys a record is indexed under, its stored form) is
:mod:`tocsin.persons.search_keys`.

``bench/person_search.py`` measures this against a naive rapidfuzz scan and PostgreSQL pg_trgm.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator, Sequence
from functools import lru_cache

from sqlalchemy import Connection, TextClause, select, text
from sqlalchemy.orm import Session

from tocsin.core.db import utcnow
from tocsin.persons.models import Person
from tocsin.persons.phonetic import glued_forms, query_tokens
from tocsin.persons.search_keys import (
    index_keys,
    initial_key,
    pair_key,
    person_tokens,
    record_tokens,
    rows_keys,
    stored_form,
    word_key,
)
from tocsin.persons.search_rank import INITIAL_WEIGHT, Hit, diversify, rank_score, word_score
from tocsin.persons.vocabulary import Vocabulary, vocabulary_for

# The record side (keys, stored form) and the scoring live in their own modules; callers keep
# importing them from here.
__all__ = ["Hit", "diversify", "index_keys", "person_tokens", "rank_score", "record_tokens",
           "rows_keys", "search", "stored_form", "variants", "word_score"]

MAX_QUERY_WORDS = 6
MAX_PROBES = 2_000  # keys probed per query at most
BATCH = 48  # keys per round trip
PAIR_POSTINGS = 100  # postings read per pair key
WORD_POSTINGS = 150  # postings read per word key (the capped one-word path)
RERANK_POOL = 120
SLACK = 5  # records found beyond ``limit`` before probing may stop
MARGIN = 0.4  # ...or once unprobed keys weigh this much less than the best record found
MIN_SCORE = 0.5
CONVINCING = 0.8
# How many respellings of the whole query (words glued or split) are searched beside it.
MAX_VARIANTS = 2

# (key, ((query word index, weight), ...)): a key and the query words a posting of it covers.
Probe = tuple[str, tuple[tuple[int, float], ...]]



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
            particled: frozenset[str] = frozenset()) -> list[tuple[Hit, str]]:
    ids = heapq.nlargest(RERANK_POOL, coarse, key=coarse.__getitem__)
    now = utcnow()
    hits: list[tuple[Hit, str]] = []
    for start in range(0, len(ids), 500):
        for person_id, stored in connection.execute(
            select(Person.id, Person.search_tokens).where(
                Person.id.in_(ids[start : start + 500]), Person.purge_at > now
            )
        ):
            score = rank_score(words, stored)
            if particled and particled.isdisjoint(stored.split()):
                score = round(max(0.0, score - 0.005), 4)  # a typed particle it lacks
            if score >= MIN_SCORE:
                hits.append((Hit(person_id, score), stored.partition(" | ")[0]))
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
    best: dict[int, tuple[Hit, str]] = {}
    for spelling in [words, *variants(words, vocab, glued)]:
        for hit, name in _search(connection, spelling[:MAX_QUERY_WORDS], limit, vocab,
                                 particled):
            if hit.person_id not in best or hit.score > best[hit.person_id][0].score:
                best[hit.person_id] = (hit, name)
    return diversify(best.values())[:limit]


def _search(connection: Connection, words: list[str], limit: int, vocab: Vocabulary,
            particled: frozenset[str] = frozenset()) -> list[tuple[Hit, str]]:
    expansions = [[(word, INITIAL_WEIGHT)] if len(word) == 1 else vocab.expand(word)
                  for word in words]
    tops = sorted((found[0][1] if found else 0.0 for found in expansions), reverse=True)
    need = limit + SLACK
    hits: list[tuple[Hit, str]] = []
    if len(words) >= 2:
        probes = heapq.merge(_compound_initials(expansions), _pairs(expansions),
                             key=lambda probe: -probe[0])
        coarse = _collect(connection, probes, words=len(words), need=need,
                          postings=PAIR_POSTINGS, extra=sum(tops[: len(words) - 2]))
        hits = _rerank(connection, words, coarse, particled)
    # One word, or no convincing record matching a pair of the words (a one-word name, a
    # word too mangled to expand): the capped path over each word's keys.
    if not hits or max(h.score for h, _ in hits) < CONVINCING:
        seen = {h.person_id for h, _ in hits}
        coarse = _collect(connection, _words(expansions), words=len(words), need=need,
                          postings=WORD_POSTINGS, extra=sum(tops[1:]))
        hits += [(h, name) for h, name in _rerank(connection, words, coarse, particled)
                 if h.person_id not in seen]
    return hits


