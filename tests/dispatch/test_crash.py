"""After a SIGKILL under load, every acknowledged SOS is dispatched on restart (issue 4).

The worker is a real ``tocsin serve`` subprocess (the sos domain's harness); threads post SOS,
the worker is killed mid-load, restarted, and every SOS that got a 201 must end up attached to
an incident, and the incident offered to the unit on duty.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import select

from tests.served import free_port
from tests.sos.factories import sos_body
from tests.sos.test_crash import serve
from tocsin.core.db import make_engine, make_sessionmaker, session_scope, utcnow
from tocsin.core.settings import Settings
from tocsin.dispatch import units
from tocsin.dispatch.models import DispatchAssignment, DispatchIncidentSos


def test_sigkill_under_load_then_every_acknowledged_sos_is_dispatched(
    settings: Settings, tmp_path: Path
) -> None:
    engine = make_engine(settings.resolved_database_url, pool_size=2)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        units.create_unit(session, callsign="PS-CRASH", username=None, lat=48.864, lon=2.371,
                          off_duty=False, now=utcnow())
    port = free_port()
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            while not stop.is_set():
                try:
                    response = http.post("/api/v1/sos", json=sos_body(),
                                         headers={"X-Device-Token": uuid.uuid4().hex})
                except httpx.HTTPError:
                    continue
                if response.status_code == 201:
                    with lock:
                        acked.append(response.json()["id"])

    log = tmp_path / "serve.log"
    try:
        with serve(settings, port, log) as proc:
            threads = [threading.Thread(target=load, daemon=True) for _ in range(8)]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 30
            while len(acked) < 150 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            time.sleep(0.3)
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
        acknowledged = set(acked)
        assert len(acknowledged) >= 150

        with serve(settings, port, log):
            deadline = time.monotonic() + 30
            while True:
                with sessions() as session:
                    attached = set(session.scalars(select(DispatchIncidentSos.sos_id)))
                    offers = session.scalars(select(DispatchAssignment.status)).all()
                missing = acknowledged - attached
                if not missing and offers:
                    break
                assert time.monotonic() < deadline, (
                    f"{len(missing)} of {len(acknowledged)} acknowledged SOS not dispatched"
                )
                time.sleep(0.2)
        assert "offered" in offers or "expired" in offers
    finally:
        engine.dispose()
