"""The keys a person record is found by in ``person_search_key``, and the form it is re-ranked on.

Each record stores one ``t:<word>`` key per folded name word (accents, case, hyphens and
particles gone; joined forms "jeanpierre", "delafontaine" added — :mod:`tocsin.persons.phonetic`),
one ``2:<a> <b>`` key per unordered pair of those words, and ``i:<initial> <word>`` keys for
initials ("J. Dupont", "JP Martin"): see :mod:`tocsin.persons.search` for why pairs. The stored
form ("plain words | joined forms", ``person.search_tokens``) is what the re-ranker reads.
Migrations copy the rules they apply (a migration must do the same on every database).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from tocsin.persons.models import Person
from tocsin.persons.phonetic import split_tokens

MAX_RECORD_WORDS = 12  # pairs of a record's first 12 words at most (66 keys)


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


def rows_keys(rows: Iterable[Any]) -> Iterator[tuple[int, list[str], str]]:
    """Yield (person id, index keys, stored form) for rows of (id, full, given, family, alt)."""
    for person_id, *names in rows:
        plain, joined = record_tokens(names)
        yield person_id, index_keys(plain, joined), stored_form(plain, joined)
