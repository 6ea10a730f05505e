"""persons: search index of name-word pairs (existing records reindexed)

Revision ID: 20261123_persons_pairs
Revises: 20261123_persons
Create Date: 2026-11-23

The table is unchanged; its keys are not: phonetic ``p:`` keys give way to ``2:`` pair keys
(see tocsin.persons.search), so every existing record is reindexed here, in batches.

The indexer is frozen below, copied from tocsin.persons (phonetic.split_tokens,
search.record_tokens/index_keys/stored_form, reindex.reindex) as they were when this revision was
written: a migration must do the same thing on every database whenever it runs, and the live
indexer may change its keys later (a later change ships its own migration, or the operator runs
``tocsin persons reindex``). Only plain SQL and unidecode (pinned) are used.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from alembic import op
from sqlalchemy import Connection, text
from unidecode import unidecode

revision: str = '20261123_persons_pairs'
down_revision: str | Sequence[str] | None = '20261123_persons'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000
MAX_RECORD_WORDS = 12
PARTICLES = frozenset(
    {"de", "du", "des", "la", "le", "les", "d", "l", "van", "von", "der", "den", "di", "da", "del"}
)
_NON_LETTER = re.compile(r"[^a-z]+")


def _raw_tokens(name: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", name)
    return _NON_LETTER.sub(" ", unidecode(folded).lower()).strip().split()


def _split_tokens(line: str) -> tuple[list[str], list[str]]:
    words = _raw_tokens(line)
    plain: list[str] = []
    for word in words:
        if word not in PARTICLES and word not in plain:
            plain.append(word)
    if not plain:
        plain = list(dict.fromkeys(words))
    joined: list[str] = []

    def add(part: list[str]) -> None:
        glued = "".join(part)
        if (len(part) > 1 and any(w not in PARTICLES for w in part) and len(glued) <= 40
                and glued not in plain and glued not in joined):
            joined.append(glued)

    for chunk in line.split():
        add(_raw_tokens(chunk))
    for i, word in enumerate(words):
        if word in PARTICLES:
            j = i
            while j < len(words) and words[j] in PARTICLES:
                j += 1
            if j < len(words):
                add(words[i : j + 1])
    return plain, joined


def _record_tokens(names: Iterable[str | None]) -> tuple[list[str], list[str]]:
    plain: dict[str, None] = {}
    joined: dict[str, None] = {}
    for name in names:
        for line in (name or "").splitlines():
            words, glued = _split_tokens(line)
            for word in words:
                plain.setdefault(word[:80], None)
            for word in glued:
                joined.setdefault(word[:80], None)
    return list(plain), [w for w in joined if w not in plain]


def _index_keys(plain: Sequence[str], joined: Sequence[str]) -> list[str]:
    words = [*plain, *joined]
    keys = dict.fromkeys(f"t:{w}"[:80] for w in words)
    head = words[:MAX_RECORD_WORDS]
    glued = set(joined)
    for i, a in enumerate(head):
        for b in head[i + 1 :]:
            if a != b and not ((a in glued and b in a) or (b in glued and a in b)):
                keys.setdefault((f"2:{a} {b}" if a < b else f"2:{b} {a}")[:80], None)
    return list(keys)


def rows_keys(rows: Iterable[Any]) -> Iterator[tuple[int, list[str], str]]:
    """Yield (person id, index keys, stored form) for rows of (id, full, given, family, alt)."""
    for person_id, *names in rows:
        plain, joined = _record_tokens(names)
        yield person_id, _index_keys(plain, joined), " ".join(plain) + " | " + " ".join(joined)


def reindex(connection: Connection, batch: int = BATCH) -> int:
    """Replace every record's index keys, stored form and missing vocabulary words."""
    connection.execute(text("DELETE FROM person_search_key"))
    known = set(connection.execute(text("SELECT term FROM person_search_term")).scalars())
    last, done = 0, 0
    while True:
        rows = connection.execute(text(
            "SELECT id, full_name, given_name, family_name, alternate_names FROM person "
            "WHERE id > :last ORDER BY id LIMIT :n"), {"last": last, "n": batch}).all()
        if not rows:
            return done
        keys: list[dict[str, object]] = []
        forms: list[dict[str, object]] = []
        words: dict[str, None] = {}
        for person_id, record_keys, form in rows_keys(rows):
            keys.extend({"k": k, "p": person_id} for k in record_keys)
            forms.append({"f": form, "p": person_id})
            words.update((k[2:], None) for k in record_keys if k.startswith("t:"))
        if keys:
            connection.execute(
                text("INSERT INTO person_search_key (key, person_id) VALUES (:k, :p)"), keys)
        connection.execute(text("UPDATE person SET search_tokens = :f WHERE id = :p"), forms)
        new = [{"t": w} for w in words if w not in known]
        if new:
            connection.execute(text("INSERT INTO person_search_term (term) VALUES (:t)"), new)
            known.update(words)
        last = rows[-1][0]
        done += len(rows)


def upgrade() -> None:
    reindex(op.get_bind())


def downgrade() -> None:
    # The previous keys (word and phonetic) can only be rebuilt by the previous code: run
    # its indexer after downgrading. Here the pair keys are left, harmless to it.
    pass
