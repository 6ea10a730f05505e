"""The SOS writer process itself (``python -m tocsin.sos.writer_child FD``): SQL and fsync only.

The worker (``tocsin.sos.writer.WriterProcess``) sends it, over a private socket pair, the
database and the statements once, then batches of SOS rows already built and sealed. This
process takes every batch waiting on its socket into one transaction (one fsync for all:
the group commit), checks which ``client_hash`` are known, inserts the new SOS and their
``sos.created`` outbox rows, marks published what the worker's relay published, commits, and
answers each batch. It holds no key and imports no SQLAlchemy: the standard library and
``tocsin.core.sqlite_plain``, so it starts in tens of milliseconds.

Messages are pickles: the socket is a pair made at spawn, so they come only from the worker.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import sqlite3
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

from tocsin.core.sqlite_plain import FileWriteLock, InsertSql, sqlite_inserts

log = logging.getLogger("tocsin.sos.writer")

COMMITTED, CONFLICT, FAILED = "committed", "conflict", "failed"
# One request: (keys [(client_hash, id, received_at)], sos rows, outbox rows, marks, stamp).
Request = tuple[list[tuple[str, str, Any]], list[tuple[Any, ...]], list[tuple[Any, ...]],
                list[str], Any]


class Store:
    """The child's one connection and the statements the worker sent."""

    def __init__(self, setup: dict[str, Any]) -> None:
        self.connection = sqlite3.connect(setup["database"], isolation_level=None, timeout=10)
        for statement in setup["pragmas"]:
            self.connection.execute(statement)
        # No SQLite busy handler here (see ``begin``).
        self.connection.execute("PRAGMA busy_timeout=0")
        self.sos: InsertSql = setup["sos"]
        self.outbox: InsertSql = setup["outbox"]
        # ``tocsin.core.db.write_lock`` of the same file: the worker's writers take it too.
        self.write_lock = FileWriteLock(setup["database"])

    def close(self) -> None:
        self.connection.close()
        self.write_lock.close()


#: How long ``begin`` waits between two tries, and in all.
RETRY_S, BUSY_TIMEOUT_S = 0.0005, 10.0


def begin(cursor: sqlite3.Cursor) -> None:
    """``BEGIN IMMEDIATE`` (the file's one writer slot), retried every half millisecond.

    Why not SQLite's own busy handler: it sleeps 1, 2, 5, 10, 15, 20, 25 ms and more between
    tries, so a batch that met one of the worker's consumer transactions (dispatch, the
    observatory, which do not take ``write_lock``) slept up to tens of milliseconds after the
    file was free: that was the p99 of an SOS at 500/s. Once the slot is held, no later
    statement of the transaction waits.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(RETRY_S)


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)  # only "?" marks: the values are bound


def _known(cursor: sqlite3.Cursor, hashes: list[str]) -> dict[str, tuple[str, Any]]:
    found: dict[str, tuple[str, Any]] = {}
    for start in range(0, len(hashes), 500):
        chunk = hashes[start:start + 500]
        cursor.execute("SELECT client_hash, id, received_at FROM sos "  # noqa: S608
                       f"WHERE client_hash IN ({_placeholders(len(chunk))})", chunk)
        for client_hash, sos_id, received in cursor.fetchall():
            found[client_hash] = (sos_id, received)
    return found


def _mark(cursor: sqlite3.Cursor, ids: list[str], stamp: Any) -> None:
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        cursor.execute("UPDATE outbox_event SET published_at = ? "  # noqa: S608
                       f"WHERE id IN ({_placeholders(len(chunk))})", [stamp, *chunk])


def commit(store: Store, requests: list[Request]) -> list[tuple[Any, ...]]:
    """Write ``requests`` in one transaction; one answer per request.

    A committed answer carries, for its request, the SOS already known by ``client_hash``
    (committed before, or by an earlier request of this transaction), from which the worker
    derives each acknowledgement (``tocsin.sos.service.plan_batch``).
    """
    answers: list[tuple[Any, ...]] = []
    cursor = store.connection.cursor()
    try:
        with store.write_lock:
            begin(cursor)
            try:
                known = _known(cursor, list({k[0] for request in requests for k in request[0]}))
                sos_rows: list[tuple[Any, ...]] = []
                outbox_rows: list[tuple[Any, ...]] = []
                for keys, sos, outbox, _marks, _stamp in requests:
                    answers.append((COMMITTED, dict(known)))
                    for key, sos_row, outbox_row in zip(keys, sos, outbox, strict=True):
                        if key[0] not in known:
                            known[key[0]] = (key[1], key[2])
                            sos_rows.append(sos_row)
                            outbox_rows.append(outbox_row)
                for sql, rows in ((store.sos, sos_rows), (store.outbox, outbox_rows)):
                    for statement, values in sqlite_inserts(sql, rows):
                        cursor.execute(statement, values)
                for _keys, _sos, _outbox, marks, stamp in requests:
                    if marks:
                        _mark(cursor, marks, stamp)
                cursor.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    cursor.execute("ROLLBACK")
                raise
        return answers
    except sqlite3.IntegrityError:  # another worker committed one of these client_ids
        return [(CONFLICT,)] * len(requests)
    except Exception as exc:  # the worker answers 503; the phones retry
        log.warning("SOS batch not committed: %s", exc)
        return [(FAILED, f"{type(exc).__name__}: {exc}")] * len(requests)
    finally:
        cursor.close()


def serve(link: Connection, *, batch_max: int = 2000) -> None:
    """Answer the worker's batches until it says stop (an empty message) or goes away."""
    store = Store(pickle.loads(link.recv_bytes()))  # noqa: S301 - our worker
    link.send_bytes(b"ready")
    try:
        while True:
            # Every batch waiting (they queued while the last transaction committed) goes into
            # one transaction: one fsync for all.
            waiting: list[tuple[int, Request]] = []
            size = 0
            stop = False
            while not waiting or (size < batch_max and link.poll(0)):
                try:
                    message = link.recv_bytes()
                except EOFError:  # the worker is gone
                    return
                if not message:
                    stop = True
                    break
                sequence, request = pickle.loads(message)  # noqa: S301 - our worker
                waiting.append((sequence, request))
                size += len(request[0])
            if waiting:
                answers = commit(store, [request for _, request in waiting])
                for (sequence, _), answer in zip(waiting, answers, strict=True):
                    link.send_bytes(pickle.dumps((sequence, answer), pickle.HIGHEST_PROTOCOL))
            if stop:
                return
    finally:
        store.close()


def main() -> None:
    """Entry point: ``python -m tocsin.sos.writer_child FD``."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    link = Connection(int(sys.argv[1]))
    try:
        serve(link)
    finally:
        link.close()


if __name__ == "__main__":
    main()
