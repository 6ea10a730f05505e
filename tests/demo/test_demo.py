"""The demo replays the evening end to end through the API, and the server holds the outcome.

It runs at full speed (``speed=0``) on a reduced scale, in both modes, against a started worker;
the checks read the API (as the replay does, the observatory's figures included) and then the
database directly.
"""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import text

from tocsin.core.db import make_engine
from tocsin.core.settings import Settings
from tocsin.demo.receiver import Receiver
from tocsin.demo.replay import Options, Outcome, Replay
from tocsin.demo.serve import bootstrap_admin


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver().start()
    yield found
    found.stop()


@pytest.fixture
def demo_client(make_app: Callable[..., FastAPI], receiver: Receiver,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("TOCSIN_ALERTS_WEBHOOK_HOSTS", receiver.host)
    # The observatory sweeps tables every 30 s by default: make it quick for the test.
    monkeypatch.setenv("TOCSIN_STATS_SWEEP_SECONDS", "0.5")
    with TestClient(make_app()) as client:
        yield client


def _replay(client: TestClient, settings: Settings,
            receiver: Receiver) -> tuple[Replay, Outcome, str]:
    admin, tag = bootstrap_admin(settings.resolved_database_url)
    log = io.StringIO()
    replay = Replay(client, admin, Options(speed=0, scale=0.15, workers=4, settle_seconds=40),
                    console=Console(file=log, width=120), receiver=receiver, tag=tag)
    outcome = replay.run()
    return replay, outcome, log.getvalue()


def test_the_evening_is_replayed_and_every_sos_dispatched(
        demo_client: TestClient, settings: Settings, receiver: Receiver) -> None:
    replay, outcome, log = _replay(demo_client, settings, receiver)
    assert outcome.problems == [], log
    # Silent SOS: every one in an incident, every incident with a unit that accepted it.
    assert outcome.sos_sent >= 60
    assert outcome.sos_in_incidents == outcome.sos_sent
    assert outcome.incidents == 8  # 3 at the Stade de France, 5 in Paris (one per site)
    assert outcome.incidents_with_unit == outcome.incidents
    # The alert: approved by a second authority, delivered to the platform, an update waiting.
    assert outcome.alert_state == "published"
    assert outcome.deliveries_sent == 1 and receiver.count() == 1
    assert receiver.received[0]["msg_type"] == "Alert" and receiver.rejected == 0
    assert outcome.update_waiting
    # The watch: the queue filled, decisions taken, removal orders issued and confirmed.
    assert outcome.queue_pending > 0 and outcome.decided > 0
    assert outcome.orders > outcome.confirmed > 0
    assert outcome.marks > 0 and outcome.persons > 0 and outcome.offers > 0
    assert "21:47" in log and "Bataclan" in log
    # The observatory counted the night (through the analyst's API).
    figures = outcome.observatory
    assert figures["sos.created"] == outcome.sos_sent
    assert figures["dispatch.incident"] == outcome.incidents
    assert figures["alerts.published"] >= 1 and figures["watch.order_issued"] == outcome.orders
    assert figures["persons.reported"] == outcome.persons and figures["safety.mark"] > 0
    if replay.has_cyber:  # the cyber desk, once its API is served
        assert outcome.cyber_incidents == 3 and outcome.advisory_state == "published"
        assert figures["cyber.incident"] == 3
        assert outcome.partner_indicators >= 2  # the confirmed phishing domain and address

    engine = make_engine(settings.resolved_database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            undispatched = conn.execute(text(
                "SELECT count(*) FROM sos s WHERE NOT EXISTS ("
                " SELECT 1 FROM dispatch_incident_sos i JOIN dispatch_assignment a"
                " ON a.incident_id = i.incident_id"
                " WHERE i.sos_id = s.id AND a.status IN ('accepted', 'on_scene'))")).scalar()
            total = conn.execute(text("SELECT count(*) FROM sos")).scalar()
            sent = conn.execute(text(
                "SELECT count(*) FROM alert_delivery WHERE status = 'sent'")).scalar()
            approver = conn.execute(text(
                "SELECT count(*) FROM alert WHERE approver IS NOT NULL "
                "AND approver <> author")).scalar()
            pending = conn.execute(text(
                "SELECT count(*) FROM watch_item WHERE status = 'pending'")).scalar()
    finally:
        engine.dispose()
    assert total == outcome.sos_sent and undispatched == 0
    assert sent == 1 and approver == 1 and pending > 0


def test_tocsin_demo_serves_replays_and_prints_the_banner(tmp_path: Path) -> None:
    """The command behind `make run`: its own fresh database, the banner, the accounts file."""
    port = _free_port()
    env = {**os.environ, "TOCSIN_VAR_DIR": str(tmp_path), "TOCSIN_STATS_SWEEP_SECONDS": "0.5",
           "COLUMNS": "200"}
    for name in ("TOCSIN_DATABASE_URL", "TOCSIN_BUS_URL", "TOCSIN_SEAL_KEY"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "tocsin", "demo", "--speed", "0", "--scale", "0.05",
         "--then-exit", "--port", str(port)],
        env=env, capture_output=True, text=True, timeout=240, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert f"http://127.0.0.1:{port}/dispatch" in output and "demo-dispatcher" in output
    assert "Evening replayed" in output and "problem" not in output
    accounts = tmp_path / "demo-accounts.txt"
    assert accounts.stat().st_mode & 0o777 == 0o600
    lines = accounts.read_text().splitlines()
    dispatcher = next(line for line in lines if " demo-dispatcher " in line)
    password = dispatcher.split()[-1]
    assert password in output  # the banner shows the password generated at this run
    # Each unit account says which unit its crew drives, in the banner and the file.
    assert re.search(r"/unit\s+unit PS 10-1\s+demo-unit01", output), output
    assert "# demo-unit01 drives the unit PS 10-1" in lines
    assert (tmp_path / "demo.db").exists() and not (tmp_path / "tocsin.db").exists()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
