"""SQLite pieces in the standard library only, shared by the engine's writers
(``tocsin.core.db``) and the SOS writer process, which runs without SQLAlchemy
(``tocsin.sos.writer_child``) so that it starts in a few tens of milliseconds: multi-row
INSERTs as plain data, and the write lock of one database file across processes.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from typing import Any, NamedTuple


class InsertSql(NamedTuple):
    """A multi-row SQLite INSERT: its head, one row's placeholders, rows per statement."""

    head: str
    row: str
    per_statement: int


def sqlite_inserts(
    sql: InsertSql, rows: list[tuple[Any, ...]]
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The statements (SQL, parameters) inserting ``rows`` with ``sql``, a chunk each."""
    for start in range(0, len(rows), sql.per_statement):
        chunk = rows[start : start + sql.per_statement]
        placeholders = ", ".join([sql.row] * len(chunk))
        yield f"{sql.head} VALUES {placeholders}", tuple(value for row in chunk for value in row)


class FileWriteLock:
    """A thread lock for one process's writers of a SQLite file, then an ``flock`` on a file
    beside it for other processes' (the SOS writer process, a CLI import beside the server).

    Why both: ``flock`` is held by an open file, so threads of one process sharing it would not
    exclude each other; and a waiter on either wakes as soon as the holder lets go, where SQLite
    alone would make it poll with sleeps (see ``tocsin.core.db.write_lock``).
    """

    def __init__(self, database: str) -> None:
        self._thread = threading.Lock()
        self._path = os.path.abspath(database) + "-writelock"
        self._fd: int | None = None

    def __enter__(self) -> None:
        self._thread.acquire()
        try:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread.release()

    def locked(self) -> bool:
        """Whether a writer of this process holds the lock."""
        return self._thread.locked()

    def close(self) -> None:
        """Let go of the lock file (a process that stops writing)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
