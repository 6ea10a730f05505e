"""A worker killed with SIGKILL under load loses no acknowledged SOS (issue 4, "done when").

The worker is a real ``tocsin serve`` subprocess on this test's database (SQLite file in the
embedded mode; PostgreSQL and NATS in the cluster mode). Threads post SOS; once some have been
acknowledged the process is killed mid-load, restarted, and every SOS that got a 201 must be
in the database. (Re-dispatch after the restart is the dispatch domain's test.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import select

from tests import served
from tests.served import free_port
from tests.sos.factories import sos_body
from tocsin.core.db import make_engine, make_sessionmaker
from tocsin.core.settings import Settings
from tocsin.sos.models import Sos


@contextlib.contextmanager
def serve(settings: Settings, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``tocsin serve`` until it answers /healthz; kill it (SIGKILL) on exit if alive."""
    with served.serve(settings, log, port=port, graceful=False) as server:
        yield server.proc


def test_sigkill_under_load_loses_no_acknowledged_sos(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            while not stop.is_set():
                headers = {"X-Device-Token": uuid.uuid4().hex}
                try:
                    response = http.post("/api/v1/sos", json=sos_body(), headers=headers)
                except httpx.HTTPError:
                    continue  # the worker is dead: this one was never acknowledged
                if response.status_code == 201:
                    with lock:
                        acked.append(response.json()["id"])

    log = tmp_path / "serve.log"
    with serve(settings, port, log) as proc:
        threads = [threading.Thread(target=load, daemon=True) for _ in range(8)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acked) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)  # mid-load: requests are in flight
        proc.wait(timeout=10)
        time.sleep(0.3)
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    with lock:
        acknowledged = set(acked)
    assert len(acknowledged) >= 200

    with serve(settings, port, log):
        engine = make_engine(settings.resolved_database_url, pool_size=1)
        try:
            with make_sessionmaker(engine)() as session:
                stored = set(session.scalars(select(Sos.id).where(Sos.id.in_(acknowledged))))
        finally:
            engine.dispose()
    assert len(stored) == len(acknowledged), f"lost {len(acknowledged - stored)} SOS"
