"""Per-window figures of a cluster run: CPU per process group, PostgreSQL's outbox, load.

The soak prints them beside latency and memory, so a window that got slower can be read against
what the machine was doing (all processes share the same cores as the load generator).
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg

from tests.reliability.harness import Cluster

HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / HZ


def _children(ppid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == ppid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


class Probe:
    """CPU used per group since the last call (per cent of one core), and outbox rows."""

    def __init__(self, made: Cluster) -> None:
        """Start counting now (time 0 of the caller's clock)."""
        self.made = made
        self.last = self._groups()
        self.at = 0.0

    def _groups(self) -> dict[str, float]:
        pg_pid = int((self.made.pg.data / "postmaster.pid").read_text().split()[0])
        nats = self.made.nats.proc.pid if self.made.nats.proc else 0
        return {
            "workers": sum(cpu_seconds(w.proc.pid) for w in self.made.workers if w.proc),
            "postgres": cpu_seconds(pg_pid) + sum(cpu_seconds(p) for p in _children(pg_pid)),
            "nats": cpu_seconds(nats),
            "generator": cpu_seconds(os.getpid()),
        }

    def cpu(self, now: float) -> dict[str, float]:
        groups = self._groups()
        span = now - self.at
        shares = {k: 100 * (v - self.last.get(k, 0.0)) / span for k, v in groups.items()}
        self.last, self.at = groups, now
        return shares

    def outbox(self) -> tuple[int, int]:
        """Rows in the outbox and, of them, not yet published."""
        with psycopg.connect(self.made.pg.dsn, autocommit=True) as conn:
            row = conn.execute("SELECT count(*), count(*) FILTER (WHERE published_at IS NULL)"
                               " FROM outbox_event").fetchone()
        assert row is not None
        return int(row[0]), int(row[1])
