"""One alert's deliveries split across two real cluster workers (private PostgreSQL and NATS,
``tocsin serve`` processes), one SIGKILLed mid-way: nothing lost, nothing planned twice, and the
only repeats are the sends that were in flight on the killed worker, under the same idempotency
key (the ``Topic`` header)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.alerts.helpers import alert_body
from tests.alerts.receivers import Receiver, serve
from tests.alerts.test_fanout import Browser
from tests.reliability.harness import NATS_SERVER, Cluster, cluster, pg_bin
from tocsin.alerts import service, targeting
from tocsin.alerts.models import AlertDelivery, AlertSubscription
from tocsin.alerts.schemas import AlertIn
from tocsin.core import seal
from tocsin.core.auth.permissions import Principal
from tocsin.core.auth.roles import Role
from tocsin.core.db import make_engine, make_sessionmaker, session_scope, utcnow

N = 800
CONCURRENCY = 8  # per worker: at most 2 x 8 claimed, so a kill leaves a small share to redo

pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.skipif(pg_bin() is None or not (os.path.exists(NATS_SERVER)
                                                or shutil.which("nats-server")),
                       reason="needs Debian's PostgreSQL and nats-server"),
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve(keep_alive=True) as r:
        yield r


def _local_ports(pid: int, remote_port: int) -> set[int]:
    """Local ports of the TCP connections that process ``pid`` holds to ``remote_port``."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if inode in inodes and int(remote.split(":")[1], 16) == remote_port:
            ports.add(int(local.split(":")[1], 16))
    return ports


def _seed(made: Cluster, base: str, browser: Browser) -> None:
    seal.configure(seal.Sealer(made.seal_key))
    engine = make_engine(made.pg.url, pool_size=1)
    now = utcnow()
    with session_scope(make_sessionmaker(engine)) as session:
        for n in range(N):
            lat, lon = 48.855 + (n % 40) * 0.00025, 2.34 + (n // 40) * 0.001
            session.add(AlertSubscription(
                id=uuid.uuid4().hex, kind="push", endpoint=f"{base}/lag/{n}",
                keys=browser.keys, lat=lat, lon=lon, h3_cell=targeting.cell_of(lat, lon),
                radius_km=0.0, all_areas=False, token_hash="x", created_at=now,
                expires_at=now + dt.timedelta(days=1)))
    engine.dispose()


def _publish(made: Cluster) -> str:
    engine = make_engine(made.pg.url, pool_size=1)
    first = Principal(user_id=None, username="autorite-a", role=Role.authority)
    second = Principal(user_id=None, username="autorite-b", role=Role.authority)
    with session_scope(make_sessionmaker(engine)) as session:
        row = service.compose(session, who=first, data=AlertIn.model_validate(alert_body()),
                              sender="tocsin@test.invalid", sender_name="Préfecture")
        service.approve(session, who=second, alert_id=row.id)
        alert_id = row.id
    engine.dispose()
    return alert_id


def test_two_workers_share_an_alert_and_redo_a_killed_ones_share(
        tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    browser = Browser()
    monkeypatch.setenv("TOCSIN_ALERTS_PUSH_HOSTS", f"127.0.0.1:{receiver.port}")
    monkeypatch.setenv("TOCSIN_ALERTS_CONCURRENCY", str(CONCURRENCY))
    monkeypatch.setenv("TOCSIN_ALERTS_LEASE_SECONDS", "3")
    monkeypatch.setenv("TOCSIN_ALERTS_POLL_SECONDS", "0.2")
    monkeypatch.setenv("TOCSIN_ALERTS_TIMEOUT_SECONDS", "5")
    with cluster(tmp_path, workers=2,
                 before_workers=lambda made: _seed(made, receiver.base, browser)) as made:
        alert_id = _publish(made)
        killed, survivor = made.workers
        deadline = time.monotonic() + 60
        while len(receiver.requests) < N // 4:
            assert time.monotonic() < deadline, len(receiver.requests)
            time.sleep(0.01)
        before_kill = len(receiver.requests)
        assert killed.proc is not None and survivor.proc is not None
        killed_ports = _local_ports(killed.proc.pid, receiver.port)
        killed.kill()
        engine = make_engine(made.pg.url, pool_size=1)
        sessions = make_sessionmaker(engine)
        deadline = time.monotonic() + 120
        while True:
            with sessions() as session:
                states = dict(session.execute(
                    select(AlertDelivery.status, func.count()).where(
                        AlertDelivery.alert_id == alert_id).group_by(AlertDelivery.status)
                ).all())
            if states.get("sent") == N:
                break
            assert time.monotonic() < deadline, states
            time.sleep(0.2)
        engine.dispose()
        survivor_ports = _local_ports(survivor.proc.pid, receiver.port)
    assert states == {"sent": N}  # one row per subscriber (unique), every one sent
    assert before_kill < N  # the kill came mid-way
    per_path = Counter(r.path for r in receiver.requests)
    assert set(per_path) == {f"/lag/{n}" for n in range(N)}  # no loss
    repeats = sum(per_path.values()) - N
    # Repeats only for what the killed worker had claimed (its window) and not yet recorded.
    assert repeats <= 2 * CONCURRENCY, repeats
    assert {r.headers["topic"] for r in receiver.requests} == {alert_id}
    assert browser.decrypt(receiver.requests[-1].body)["alert_id"] == alert_id
    # Both workers sent part of this alert, each over its own kept-alive connections.
    by_killed = sum(1 for r in receiver.requests[:before_kill] if r.peer_port in killed_ports)
    by_survivor = sum(1 for r in receiver.requests if r.peer_port in survivor_ports)
    assert by_killed > 0 and by_survivor > 0, (by_killed, by_survivor)
    assert by_survivor >= N - before_kill  # it took the rest, the killed one's share included
