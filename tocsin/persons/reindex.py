"""Rebuild the search index of every person record (after a change of index keys).

Used by the migration that introduced pair keys and by ``tocsin persons reindex``. Plain SQL on a
connection, not the ORM, so a migration can run it whatever the models become later.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, text

from tocsin.persons.search_keys import rows_keys

BATCH = 5_000


def reindex(connection: Connection, *, progress: Callable[[int, int], None] | None = None,
            batch: int = BATCH) -> int:
    """Replace every record's index keys (and stored form, and missing vocabulary words).

    Runs in the caller's transaction; calls ``progress(done, total)`` after each batch and
    returns the number of records indexed.
    """
    total = int(connection.execute(text("SELECT count(*) FROM person")).scalar_one())
    connection.execute(text("DELETE FROM person_search_key"))
    known = set(connection.execute(text("SELECT term FROM person_search_term")).scalars())
    last, done = 0, 0
    while True:
        rows = connection.execute(text(
            "SELECT id, full_name, given_name, family_name, alternate_names FROM person "
            "WHERE id > :last ORDER BY id LIMIT :n"), {"last": last, "n": batch}).all()
        if not rows:
            break
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
        if progress is not None:
            progress(done, total)
    return done
