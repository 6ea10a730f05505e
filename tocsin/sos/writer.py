"""The SOS group commit in a process of its own: the worker's event loop no longer shares its
interpreter lock with the SQL of every SOS.

Why: in embedded mode one worker process acknowledges SOS, runs the consumers of what they cause
and writes every SOS batch. With the writer as a thread, the event loop, the writer and the
consumers took turns on one GIL, and each batch's statements waited for the loop's turns
(BENCHMARKS.md, "SOS writer process", has the profiles and figures). Here the worker keeps what
needs its memory (limits, validation, building and sealing the rows, the relay) and a child
process (``tocsin.sos.writer_child``) does the transaction: it checks which ``client_hash`` are
known, inserts the new SOS and their ``sos.created`` outbox rows, marks published what the
worker's relay published, and commits with the same fsync as before. A 201 still follows the
commit: the worker answers when the child says the batch committed.

``WriterProcess`` is ``SosBatcher`` with its ``_commit`` sent over a socket pair, pipelined: a
sender thread forwards each batch as soon as it forms without waiting for the previous answer,
and a receiver thread settles the answers; the child takes every batch waiting into one
transaction, so batches grow while one commits and the child never waits for the worker between
two commits. If the child dies, the batches in flight are answered 503 (the phones retry with
the same ``client_id``: idempotent) and the next batch starts another child.

The writers of one SQLite file in the worker and in the child exclude each other through the
file lock of ``tocsin.core.db.write_lock``, so neither sleeps in SQLite's busy polling.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tocsin.core.bus import Event
from tocsin.core.db import encode_rows, sqlite_insert_sql, sqlite_pragmas, utcnow
from tocsin.core.outbox import RELAY, outbox_rows
from tocsin.core.relay import OutboxRelay
from tocsin.sos import service
from tocsin.sos.intake import IntakeUnavailable, SosBatcher, _Job, _settle
from tocsin.sos.writer_child import COMMITTED, CONFLICT, FAILED

log = logging.getLogger("tocsin.sos.writer")


class WriterProcess(SosBatcher):
    """``SosBatcher`` whose transactions run in a child process (see the module docstring).

    Pipelined: a sender thread forwards each batch as soon as it forms, without waiting for
    the previous one's answer, and a receiver thread settles the answers. The child takes every
    request waiting on its socket into one transaction, so batches grow while one commits, as
    in the thread writer, and the child never waits for the worker between two commits.
    """

    def __init__(
        self, factory: sessionmaker[Session], *, batch_max: int = 500, linger_ms: float = 0.0,
    ) -> None:
        super().__init__(factory, batch_max=batch_max, linger_ms=linger_ms)
        engine = factory.kw["bind"]
        database = os.path.abspath(engine.url.database)
        # What the child needs, once: it has no SQLAlchemy (``tocsin.sos.writer_child``).
        self._setup = {
            "database": database,
            "pragmas": sqlite_pragmas(durable=True),
            "sos": sqlite_insert_sql(engine.dialect, service.SOS_TABLE),
            "outbox": sqlite_insert_sql(engine.dialect, service.OUTBOX_TABLE),
        }
        stamp = service.OUTBOX_TABLE.c.published_at.type.bind_processor(engine.dialect)
        self._encode_stamp = stamp or (lambda value: value)
        self._child: subprocess.Popen[bytes] | None = None
        self._link: Connection | None = None
        self._send_lock = threading.Lock()
        self._pending: dict[int, _InFlight] = {}
        self._pending_lock = threading.Lock()
        self._sequence = 0
        self._receiver: threading.Thread | None = None
        # Rows are sealed with the worker's keyring, attached to its engine's dialect.
        self._dialect = engine.dialect

    def start(self) -> None:
        """Start the child, then the threads that feed it and read its answers."""
        self._spawn()
        super().start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop the threads and the child."""
        super().stop(timeout)
        deadline = time.monotonic() + timeout
        while self._pending and time.monotonic() < deadline:  # answers still to come
            time.sleep(0.005)
        self._close_child(timeout)

    @property
    def child_pid(self) -> int | None:
        """The child's process id (tests kill it to see the worker recover)."""
        return self._child.pid if self._child is not None else None

    def _spawn(self) -> None:
        ours, theirs = socket.socketpair()
        try:
            self._child = subprocess.Popen(  # noqa: S603 - our own module, no input
                [sys.executable, "-m", "tocsin.sos.writer_child", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        link = Connection(ours.detach())
        link.send_bytes(pickle.dumps(self._setup))
        ready = link.recv_bytes()  # the child has its engine: the first batch waits less
        if ready != b"ready":
            raise IntakeUnavailable(f"SOS writer process did not start: {ready!r}")
        self._link = link
        self._receiver = threading.Thread(target=self._receive, args=(link,),
                                          name="sos-writer-answers", daemon=True)
        self._receiver.start()

    def _close_child(self, timeout: float) -> None:
        link, child, self._link, self._child = self._link, self._child, None, None
        if link is not None:
            with contextlib.suppress(OSError):
                link.send_bytes(b"")  # the child's signal to exit
        if child is not None:
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout)
        if link is not None:
            link.close()

    def _relay(self) -> OutboxRelay | None:
        relay = (self.factory.kw.get("info") or {}).get(RELAY)
        return relay if isinstance(relay, OutboxRelay) else None

    def _commit(self, batch: list[_Job]) -> None:
        """Send ``batch`` (the sender thread): its answer is settled by ``_receive``."""
        self._send(_InFlight(batch, attempt=1))

    def _send(self, flight: _InFlight) -> None:
        # The CPU of a batch (rows, events, sealing) is spent here, beside the child's commit
        # of the previous batch, so the child's transaction holds only SQL.
        relay = self._relay()
        relay_id = relay.worker_id if relay is not None else None
        items = [job.item for job in flight.batch]
        flight.events = [service.created_event(item) for item in items]
        dialect = self._dialect
        marks = relay.take_marks() if relay is not None else []
        request = (
            [(item.client_hash, item.id, item.received_at) for item in items],
            _picklable(encode_rows(dialect, service.SOS_TABLE,
                                   [service.sos_row(item) for item in items])),
            _picklable(encode_rows(dialect, service.OUTBOX_TABLE,
                                   outbox_rows(flight.events, relay_id=relay_id))),
            marks,
            self._encode_stamp(utcnow()),
        )
        flight.relay, flight.marks = relay, marks
        with self._send_lock:
            try:
                if self._link is None:  # the last child died: start another
                    self._spawn()
                assert self._link is not None
                self._sequence += 1
                with self._pending_lock:
                    self._pending[self._sequence] = flight
                self._link.send_bytes(pickle.dumps((self._sequence, request),
                                                   pickle.HIGHEST_PROTOCOL))
            except Exception as exc:
                with self._pending_lock:
                    self._pending.pop(self._sequence, None)
                log.error("SOS writer process unavailable: %s", exc)
                self._finish(flight, (FAILED, "the SOS writer process is unavailable"))

    def _receive(self, link: Connection) -> None:
        """The receiver thread of one child: settle each answer, in order."""
        while True:
            try:
                sequence, answer = pickle.loads(link.recv_bytes())  # noqa: S301 - our child
            except (EOFError, OSError):
                break
            with self._pending_lock:
                flight = self._pending.pop(sequence, None)
            if flight is not None:
                self._finish(flight, answer)
        # The child is gone (stopped, killed, out of memory). Whether the batches in flight
        # committed is unknown: they are answered 503 and the phones retry (same client_id:
        # no duplicate). The next batch starts another child.
        with self._send_lock:
            if self._link is link:
                log.error("SOS writer process lost; the next SOS starts another")
                self._link = None
                child, self._child = self._child, None
                if child is not None:
                    with contextlib.suppress(Exception):
                        child.kill()
                        child.wait(2.0)
                link.close()
            with self._pending_lock:
                lost, self._pending = list(self._pending.values()), {}
        for flight in lost:
            self._finish(flight, (FAILED, "the SOS writer process stopped"))

    def _finish(self, flight: _InFlight, answer: tuple[Any, ...]) -> None:
        if answer[0] != COMMITTED and flight.relay is not None:
            flight.relay.give_back_marks(flight.marks)
        if answer[0] == CONFLICT:  # another worker committed one of these client_ids
            self.stats.retries += 1
            if flight.attempt == 1:
                self._send(_InFlight(flight.batch, attempt=2))
            else:
                self._fail(flight.batch, IntakeUnavailable("SOS intake conflict; retry"))
            return
        if answer[0] == FAILED:
            self._fail(flight.batch, IntakeUnavailable(answer[1]))
            return
        items = [job.item for job in flight.batch]
        known = {key: (sos_id, _utc(at)) for key, (sos_id, at) in answer[1].items()}
        fresh, acks = service.plan_batch(items, known)
        if flight.relay is not None and fresh:
            new = {item.id for item in fresh}
            flight.relay.receive_committed(
                [event for event in flight.events if event.data["sos_id"] in new])
        self.stats.items += len(flight.batch)
        self.stats.batches += 1
        self.stats.largest = max(self.stats.largest, len(flight.batch))
        _settle([(job, ack, None) for job, ack in zip(flight.batch, acks, strict=True)])


def _utc(value: Any) -> dt.datetime:
    # The child reads SQLite's text; an SOS of this batch comes back as the datetime sent.
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _picklable(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    # Sealed columns are bound as the ``memoryview`` sqlite3 takes, which does not pickle.
    return [tuple(bytes(v) if type(v) is memoryview else v for v in row) for row in rows]


@dataclass
class _InFlight:
    batch: list[_Job]
    attempt: int
    relay: OutboxRelay | None = None
    marks: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
