"""persons: initial keys in the search index ("J. Dupont", "JP Martin"), existing records too

Revision ID: 20261205_persons_initials
Revises: 20261123_persons_pairs
Create Date: 2026-12-05

The search (tocsin.persons.search, issue 22) now also indexes each record word with the initial
of another plain word of the record (``i:j dupont``) and, for a compound given name written with
a hyphen (its two words glued are among the record's joined forms), the two initials with each
other word (``i:jp martin``). Existing records get these keys here, in batches, from the stored
form each record already has (``search_tokens``: "plain words | joined forms"), so nothing is
re-tokenised. The key rules are frozen below as they were when this revision was written (a
migration must do the same on every database; see 20261123_persons_pairs).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from alembic import op
from sqlalchemy import Connection, text

revision: str = '20261205_persons_initials'
down_revision: str | Sequence[str] | None = '20261123_persons_pairs'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000
MAX_RECORD_WORDS = 12


def initial_keys(stored: str) -> list[str]:
    """The ``i:`` keys of a record, from its stored form ("plain words | joined forms")."""
    plain_text, _, joined_text = (stored or "").partition(" | ")
    plain, joined = plain_text.split(), joined_text.split()
    head = [*plain, *joined][:MAX_RECORD_WORDS]
    glued = set(joined)
    firsts = plain[:MAX_RECORD_WORDS]
    keys: dict[str, None] = {}
    for a in firsts:
        for b in head:
            if a != b and not (b in glued and a in b):
                keys.setdefault(f"i:{a[0]} {b}"[:80], None)
    for a, b in pairwise(firsts):
        if a + b in glued:
            for other in firsts:
                if other not in (a, b):
                    keys.setdefault(f"i:{a[0]}{b[0]} {other}"[:80], None)
    return list(keys)


def add_keys(connection: Connection, batch: int = BATCH) -> int:
    """Add the initial keys of every record (those it already has are left)."""
    connection.execute(text("DELETE FROM person_search_key WHERE key LIKE 'i:%'"))
    last, done = 0, 0
    while True:
        rows = connection.execute(text(
            "SELECT id, search_tokens FROM person WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": batch}).all()
        if not rows:
            return done
        keys = [{"k": k, "p": person_id} for person_id, stored in rows
                for k in initial_keys(stored)]
        if keys:
            connection.execute(
                text("INSERT INTO person_search_key (key, person_id) VALUES (:k, :p)"), keys)
        last = rows[-1][0]
        done += len(rows)


def upgrade() -> None:
    add_keys(op.get_bind())


def downgrade() -> None:
    op.get_bind().execute(text("DELETE FROM person_search_key WHERE key LIKE 'i:%'"))
