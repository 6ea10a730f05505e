"""Faults under sustained SOS load, cluster mode, real processes and real signals (issue 10).

PostgreSQL (private ``initdb``), NATS JetStream (private ``nats-server``) and three
``tocsin serve`` workers on loopback; an open-loop load spread over the workers. One fault per
test: SIGKILL a worker, SIGKILL and restart NATS, crash (``pg_ctl stop -m immediate``) and
restart PostgreSQL. Then: every acknowledged SOS is in the database and dispatched (attached to an
incident that a unit was offered), nothing waits in the outbox, and the figures are printed.

``make test-long`` runs them. The rate is ``TOCSIN_FAULT_RATE`` SOS/s (default 150: the project
machine has 2 cores shared with other sessions; the issue's target is 500).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select

from tests.reliability.harness import Cluster
from tests.reliability.load import Load, summary
from tests.reliability.verify import pending, report, stored, wait_dispatched
from tocsin.core.db import make_engine
from tocsin.sos.models import Sos

# Each test runs a cluster for about a minute, then waits for dispatch (up to 600 s).
pytestmark = [pytest.mark.long, pytest.mark.timeout(1200)]

RATE = float(os.environ.get("TOCSIN_FAULT_RATE", "150"))


def test_sigkill_a_worker_under_load_loses_no_acknowledged_sos(rig: Cluster) -> None:
    load = Load([w.port for w in rig.workers], RATE)
    load.start()
    time.sleep(10)
    before = len(load.acked())
    rig.workers[0].kill()
    killed_at = time.perf_counter() - load.started_at
    time.sleep(5)
    rig.workers[0].start()
    time.sleep(10)
    load.stop()
    seconds = time.perf_counter() - load.started_at
    answers = load.snapshot()
    acked = load.acked()
    assert before >= 100 and len(acked) >= 300, summary(answers, seconds)
    kept = stored(rig, acked)
    assert kept == acked, f"lost {len(acked - kept)} acknowledged SOS"
    took = wait_dispatched(rig, acked)
    failed = sum(1 for a in answers if a.status != 201)
    report("sigkill worker", offered=f"{RATE:.0f}/s", load=summary(answers, seconds),
            killed_at=f"{killed_at:.1f}s", acked=len(acked), not_acked=failed,
            skipped=load.skipped, lost=0, all_dispatched_after=f"{took:.1f}s")


class Tail:
    """``tocsin bus tail`` in its own process: what a durable consumer of another process gets."""

    def __init__(self, made: Cluster, subject: str) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tocsin", "bus", "tail", subject, "--durable", "faulttail",
             "--timeout", "3600"],
            env=made.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr is not None and self.proc.stdout is not None
        assert self.proc.stderr.readline().strip() == "listening"
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def events(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in list(self.lines) if line.startswith("{")]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.thread.join(timeout=5)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


def test_nats_restart_under_load_outbox_holds_every_event(rig: Cluster) -> None:
    tail = Tail(rig, "sos.created")
    try:
        load = Load([w.port for w in rig.workers], RATE)
        load.start()
        time.sleep(8)
        rig.nats.kill()
        down_at = time.perf_counter() - load.started_at
        most_pending = 0
        while time.perf_counter() - load.started_at < down_at + 8:
            most_pending = max(most_pending, pending(rig))
            time.sleep(0.5)
        rig.nats.start()
        up_at = time.perf_counter() - load.started_at
        time.sleep(10)
        load.stop()
        seconds = time.perf_counter() - load.started_at
        answers = load.snapshot()
        acked = load.acked()
        during = [a for a in answers if down_at <= a.at < up_at]
        assert len(acked) >= 300, summary(answers, seconds)
        assert during and all(a.status == 201 for a in during), (
            f"SOS intake needs no bus; during the outage: {summary(during, up_at - down_at)}")
        assert most_pending > 0, "events must have waited in the outbox"
        assert stored(rig, acked) == acked
        took = wait_dispatched(rig, acked)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            seen = {e["data"]["sos_id"] for e in tail.events()}  # type: ignore[index]
            if acked <= seen:
                break
            time.sleep(1.0)
    finally:
        tail.stop()
    events = tail.events()
    ids = [str(e["id"]) for e in events]
    sos_ids = [e["data"]["sos_id"] for e in events]  # type: ignore[index]
    assert acked <= set(sos_ids), f"{len(acked - set(sos_ids))} sos.created events lost"
    assert len(ids) == len(set(ids)) and len(sos_ids) == len(set(sos_ids)), "duplicates"
    report("nats restart", offered=f"{RATE:.0f}/s", load=summary(answers, seconds),
            outage=f"{down_at:.1f}-{up_at:.1f}s", acked_during_outage=len(during),
            most_events_waiting_in_outbox=most_pending, acked=len(acked),
            events_received_by_other_process=len(ids), duplicates_delivered=0, lost=0,
            all_dispatched_after=f"{took:.1f}s")


def test_postgres_crash_under_load_fails_cleanly_and_recovers(rig: Cluster) -> None:
    load = Load([w.port for w in rig.workers], RATE)
    load.start()
    time.sleep(8)
    rig.pg.crash()
    down_at = time.perf_counter() - load.started_at
    time.sleep(5)
    rig.pg.start()
    up_at = time.perf_counter() - load.started_at
    time.sleep(15)
    load.stop()
    seconds = time.perf_counter() - load.started_at
    answers = load.snapshot()
    acked = load.acked()
    statuses = {a.status for a in answers}
    refused = [a for a in answers if a.status == 503]
    assert statuses <= {201, 503}, f"unexpected answers: {summary(answers, seconds)}"
    assert refused, "the outage must have been seen"
    assert all(a.retry_after for a in refused), "every 503 says when to retry"
    # No false 201: every acknowledged SOS survived the crash (WAL replay).
    kept = stored(rig, acked)
    assert kept == acked, f"{len(acked - kept)} SOS acknowledged but not stored"
    after = [a for a in answers if a.at >= up_at]
    first_ok = min((a.at for a in after if a.status == 201), default=None)
    assert first_ok is not None, "the service did not recover by itself"
    tail = [a for a in answers if a.at >= seconds - 5]
    assert tail and all(a.status == 201 for a in tail), "still failing 5 s before the end"
    took = wait_dispatched(rig, acked)
    engine = make_engine(rig.pg.url, pool_size=1)
    try:
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(Sos)).scalar_one()
    finally:
        engine.dispose()  # a pooled connection left to the GC fails the run (ResourceWarning)
    report("postgres crash", offered=f"{RATE:.0f}/s", load=summary(answers, seconds),
            outage=f"{down_at:.1f}-{up_at:.1f}s", answered_503=len(refused),
            false_201=0, recovered_after=f"{first_ok - up_at:.1f}s", acked=len(acked),
            rows=total, all_dispatched_after=f"{took:.1f}s")
