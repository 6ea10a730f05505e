"""The decision lock: one dispatch decision (cluster, offer, escalate) at a time, cluster-wide.

Exclusivity of a *unit* does not depend on it (conditional UPDATEs guarantee that); the lock
keeps *decisions* consistent: two workers must not both open an incident for the same building
or both offer the same incident to two units. PostgreSQL: a transaction-scoped advisory lock,
released by the commit. SQLite (one process): a process-wide lock held around the block, so the
caller commits inside the ``with``. Acquire it before writing anything in the session, or a
SQLite writer could wait on it while holding the database's write lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session

LOCK_KEY = 0x70C5_1D15  # arbitrary, constant: "tocsin dispatch"
_local = threading.RLock()


@contextmanager
def decision_lock(session: Session) -> Iterator[None]:
    """Hold the dispatch decision lock for the block; commit inside it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        yield
        return
    with _local:
        yield
