"""The outbox relay: publishes committed outbox rows to the bus, then marks them published.

See ``tocsin.core.outbox`` for the table, ``add_event`` and ``hand_over``; this module is the
worker-side loop that empties it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
import time
import uuid
from typing import Any, cast

from sqlalchemy import Engine, Table, delete, event, or_, select, update
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from starlette.concurrency import run_in_threadpool

from tocsin.core.bus import Bus, Event
from tocsin.core.db import utcnow, write_lock
from tocsin.core.outbox import (
    HANDED_OVER,
    KEEP_PUBLISHED,
    MARKS,
    RELAY,
    RELAY_ID,
    OutboxEvent,
)

log = logging.getLogger("tocsin.outbox")

# Published events nobody marked for this long are marked by the relay itself
# (``OutboxRelay._flush_marks``); rows published over ``keep_published`` ago are deleted this often.
MARK_EVERY = 0.1
CLEAN_EVERY = 5.0


class OutboxRelay:
    """Publish committed outbox rows to the bus, in creation order, with retries.

    ``bookkeeping``: an engine of its own for the relay's claim/published/release updates, which
    the relay disposes of when it stops. Embedded mode passes a SQLite engine that commits
    without fsync: those marks are not worth a disk flush each (lost on power loss, the events
    are published again, and consumers drop duplicates by event id), and each fsync'd one held
    SQLite's single write lock for a flush that the SOS group commit then queued behind. The
    events themselves are written by their producers' durable transactions, as before.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        bus: Bus,
        *,
        poll_seconds: float = 0.5,
        batch: int = 200,
        keep_published: dt.timedelta = KEEP_PUBLISHED,
        bookkeeping: Engine | None = None,
    ) -> None:
        self.factory = factory
        self._own_engine = bookkeeping
        self._work = (
            sessionmaker(bind=bookkeeping, expire_on_commit=False)
            if bookkeeping is not None
            else factory
        )
        self.bus = bus
        self._write_lock = write_lock(bookkeeping or factory.kw.get("bind"))
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.keep_published = keep_published
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.published = 0
        self._stopping = False
        self.worker_id = uuid.uuid4().hex
        self.lease = dt.timedelta(seconds=30)
        self._handed: list[Event] = []
        self._unmarked: list[str] = []
        self._unmarked_lock = threading.Lock()  # the writer thread takes marks too (``mark_in``)
        self._marked_at = 0.0
        self._cleaned_at = float("-inf")
        self._claim_asked = False

    def start(self) -> None:
        """Start relaying in the running event loop and wake up on every outbox commit."""
        self._loop = asyncio.get_running_loop()
        event.listen(self.factory, "after_commit", self._after_commit)
        event.listen(self.factory, "after_transaction_end", _forget_handed_over)
        # Sessions opened from now on lease what they hand over to this relay (``hand_over``).
        info = dict(self.factory.kw.get("info") or {})
        info[RELAY_ID] = self.worker_id
        info[RELAY] = self
        self.factory.configure(info=info)
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Stop relaying; unpublished rows stay for the next start.

        The loop is asked to finish its batch rather than cancelled mid-way, so no database call
        is left running in a worker thread after the engine is disposed.
        """
        if event.contains(self.factory, "after_commit", self._after_commit):
            event.remove(self.factory, "after_commit", self._after_commit)
        if event.contains(self.factory, "after_transaction_end", _forget_handed_over):
            event.remove(self.factory, "after_transaction_end", _forget_handed_over)
        info = dict(self.factory.kw.get("info") or {})
        if info.get(RELAY) is self:
            info.pop(RELAY)
            info.pop(RELAY_ID, None)
            self.factory.configure(info=info)
        try:
            if self._task is None:
                return
            self._stopping = True
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=10)
            except TimeoutError:
                self._task.cancel()
            except asyncio.CancelledError:
                pass
            if self._handed:  # leased to this relay, not published: free them for the next
                left, self._handed = [evt.id for evt in self._handed], []
                await run_in_threadpool(self._release, left)
        finally:
            if self._own_engine is not None:
                self._own_engine.dispose()

    def _after_commit(self, session: Session) -> None:
        session.info.pop(MARKS, None)  # committed with the transaction
        handed = session.info.pop(HANDED_OVER, None)
        if session.info.pop("outbox_dirty", False) and self._loop is not None:
            # Commits happen in worker threads; wake the relay in its own loop.
            if handed and session.info.get(RELAY_ID) == self.worker_id:
                self._loop.call_soon_threadsafe(self._receive, handed)
            else:
                self._loop.call_soon_threadsafe(self._ask_claim)

    def _receive(self, events: list[Event]) -> None:
        self._handed.extend(events)
        self._wake.set()

    def _ask_claim(self) -> None:
        self._claim_asked = True
        self._wake.set()

    def wake(self) -> None:
        """Ask the relay to look at the outbox now."""
        self._ask_claim()

    async def _run(self) -> None:
        backoff = self.poll_seconds
        next_claim = 0.0  # time.monotonic() of the next look at the table
        while not self._stopping:
            # Cleared before looking at the work, so a commit during the work wakes the wait.
            self._wake.clear()
            try:
                if self._handed:
                    await self._relay_step()
                    continue
                if self._marks_due():
                    await self._flush_marks()
                if self._claim_asked or time.monotonic() >= next_claim:
                    self._claim_asked = False
                    sent = await self._relay_step()
                    await self._flush_marks()
                    backoff = self.poll_seconds
                    # A batch came from the table: more may wait there, look again at once.
                    next_claim = time.monotonic() + (0.0 if sent else backoff)
                    if sent:
                        continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the bus or the database is down: wait and retry
                log.warning("outbox relay paused: %s", exc)
                backoff = min(backoff * 2, 5.0)
                next_claim = time.monotonic() + backoff
            if self._stopping:
                break
            timeout = max(0.0, next_claim - time.monotonic())
            if self._unmarked:
                timeout = min(timeout, MARK_EVERY)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
        try:
            await self._flush_marks()
        except Exception as exc:  # the rows stay leased; the lease runs out, they go again
            log.warning("outbox relay stopped without marking %d event(s): %s",
                        len(self._unmarked), exc)

    def _marks_due(self) -> bool:
        now = time.monotonic()
        marks_waited = bool(self._unmarked) and now - self._marked_at >= MARK_EVERY
        return marks_waited or now - self._cleaned_at >= CLEAN_EVERY

    async def relay_once(self) -> int:
        """Publish one batch of pending events and mark them; return how many were published.

        What commits handed over comes first (from memory); then rows claimed from the table.
        """
        sent = await self._relay_step()
        await self._flush_marks()
        return sent

    async def _relay_step(self) -> int:
        if self._handed:
            handed = self._handed[: self.batch * 5]
            del self._handed[: len(handed)]
            return await self._publish([(evt.id, evt) for evt in handed])
        claimed = await run_in_threadpool(self._claim)
        return await self._publish(
            [(row_id, Event.model_validate(payload)) for row_id, payload in claimed]
        )

    async def _publish(self, claimed: list[tuple[str, Event]]) -> int:
        if not claimed:
            return 0
        done: list[str] = []
        try:
            for row_id, evt in claimed:
                await self.bus.publish(evt)
                done.append(row_id)
        finally:
            with self._unmarked_lock:
                self._unmarked.extend(done)
            self.published += len(done)
            if len(done) < len(claimed):
                left = [row_id for row_id, _ in claimed[len(done) :]]
                await run_in_threadpool(self._release, left)
        return len(done)

    async def _flush_marks(self) -> None:
        """Mark what was published, and every ``CLEAN_EVERY`` s delete what was kept long enough.

        Under load the SOS writer carries the marks in its own transactions (``mark_in``); the
        relay marks only what nobody took for ``MARK_EVERY`` seconds: each mark of the relay's is
        a write transaction, SQLite has one writer at a time, and the SOS group commit waited
        for them.
        """
        ids = self._take_unmarked()
        now = time.monotonic()
        if not ids and now - self._cleaned_at < CLEAN_EVERY:
            return
        try:
            await run_in_threadpool(self._mark, ids)
        except BaseException:
            self._give_back_unmarked(ids)  # kept for the next try
            raise
        self._cleaned_at = now

    def mark_in(self, session: Session) -> None:
        """Mark published, in ``session``'s transaction, what this relay published since.

        If that transaction does not commit, the marks come back to the relay.
        """
        ids = self._take_unmarked()
        if not ids:
            return
        session.info.setdefault(MARKS, []).extend(ids)
        table = cast(Table, OutboxEvent.__table__)
        # Core, on the session's connection: the ORM's bulk-update path cost more than the update.
        session.connection().execute(
            update(table).where(table.c.id.in_(ids)).values(published_at=utcnow())
        )

    # For a writer that commits in another process (``tocsin.sos.writer``): it takes the marks
    # with its request, and either they commit there or it gives them back; what it committed
    # is handed over here as a local commit's would be (``_after_commit``).

    def take_marks(self) -> list[str]:
        """The ids published since the last marks, for another process's transaction."""
        return self._take_unmarked()

    def give_back_marks(self, ids: list[str]) -> None:
        """Marks taken with ``take_marks`` whose transaction did not commit."""
        if ids:
            self._give_back_unmarked(ids)

    def receive_committed(self, events: list[Event]) -> None:
        """Events another process committed leased to this relay (thread-safe)."""
        if events and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the lease runs out
                self._loop.call_soon_threadsafe(self._receive, events)

    def _take_unmarked(self) -> list[str]:
        with self._unmarked_lock:
            ids, self._unmarked = self._unmarked, []
            self._marked_at = time.monotonic()
        return ids

    def _give_back_unmarked(self, ids: list[str]) -> None:
        with self._unmarked_lock:
            self._unmarked[:0] = ids

    def _claim(self) -> list[tuple[str, dict[str, Any]]]:
        with self._write_lock, self._work() as session:
            now = utcnow()
            free = (
                select(OutboxEvent.id)
                .where(
                    OutboxEvent.published_at.is_(None),
                    or_(OutboxEvent.claimed_until.is_(None), OutboxEvent.claimed_until < now),
                )
                .order_by(OutboxEvent.created_at, OutboxEvent.id)
                .limit(self.batch)
            )
            if session.get_bind().dialect.name == "postgresql":
                free = free.with_for_update(skip_locked=True)
            ids = list(session.scalars(free))
            if not ids:
                session.rollback()
                return []
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_(ids))
                .values(claimed_by=self.worker_id, claimed_until=now + self.lease)
            )
            session.commit()
            rows = session.execute(
                select(OutboxEvent.id, OutboxEvent.payload)
                .where(OutboxEvent.id.in_(ids))
                .order_by(OutboxEvent.created_at, OutboxEvent.id)
            ).all()
            return [(row.id, row.payload) for row in rows]

    def _mark(self, ids: list[str]) -> None:
        with self._write_lock, self._work() as session:
            now = utcnow()
            if ids:
                session.execute(
                    update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(published_at=now)
                )
            session.execute(
                delete(OutboxEvent).where(
                    OutboxEvent.published_at.is_not(None),
                    OutboxEvent.published_at < now - self.keep_published,
                )
            )
            session.commit()

    def _release(self, ids: list[str]) -> None:
        with self._write_lock, self._work() as session:
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_(ids))
                .values(attempts=OutboxEvent.attempts + 1, claimed_until=None)
            )
            session.commit()


def _forget_handed_over(session: Session, transaction: SessionTransaction) -> None:
    # After the commit hook took them, or after a rollback: nothing stays for a later commit,
    # and marks that did not commit go back to the relay.
    if transaction.parent is None:
        session.info.pop(HANDED_OVER, None)
        marks = session.info.pop(MARKS, None)
        relay = session.info.get(RELAY)
        if marks and isinstance(relay, OutboxRelay):
            relay._give_back_unmarked(marks)
