"""Benchmark of alert targeting and fan-out (issue 5): ``python -m bench.alert_targeting``.

1. Targeting: which of 1,000,000 subscribers (spread over greater Paris, 1,200 km²) lie inside a
   Paris-sized polygon (~100 km²)? Ours (``tocsin.alerts.targeting``: H3 cover, interior cells
   taken whole by range lookup, exact vectorised test only at the border) beside the naive
   per-point shapely test, and a vectorised shapely test of every point, in the same run; the
   three answers are checked to be identical.
2. Fan-out: deliveries per second from the real ``Deliverer`` (SQLite, one worker) to a local
   webhook receiver (a real HTTP server on loopback), and the time from publication to the first
   delivery.
3. Latency: time from an approval (HTTP call to the real app, in-process bus) to the arrival of
   the webhook at the receiver: outbox, bus, planning and sending included.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import shapely

from tocsin.alerts import geo, targeting

# A rough outline of Paris intra-muros (lat, lon), closed; about 100 km².
PARIS = [
    (48.9016, 2.3200), (48.9005, 2.3700), (48.8950, 2.3980), (48.8790, 2.4110),
    (48.8460, 2.4160), (48.8350, 2.4120), (48.8240, 2.3900), (48.8160, 2.3600),
    (48.8170, 2.3320), (48.8260, 2.2950), (48.8400, 2.2700), (48.8560, 2.2550),
    (48.8700, 2.2580), (48.8800, 2.2800), (48.8950, 2.3000), (48.9016, 2.3200),
]
BOX = (48.70, 2.08, 49.02, 2.62)  # greater Paris: lat_min, lon_min, lat_max, lon_max


def _best(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def bench_targeting(n: int, repeat: int) -> None:
    rng = np.random.default_rng(13_11_2015)
    lat = rng.uniform(BOX[0], BOX[2], n)
    lon = rng.uniform(BOX[1], BOX[3], n)
    shape = geo.polygon_shape(PARIS)
    print(f"targeting: {n:,} subscribers over greater Paris, polygon of "
          f"{len(PARIS) - 1} vertices (~{_area_km2(shape):.0f} km²)")
    start = time.perf_counter()
    index = targeting.SubscriberIndex.from_points(lat, lon)
    print(f"  index build (H3 cells, stored per subscription in the database): "
          f"{time.perf_counter() - start:.1f} s, once")

    ours_s, ours = _best(lambda: index.within(shape), repeat)
    vec_s, vec = _best(lambda: np.flatnonzero(shapely.intersects_xy(shape, lon, lat)), repeat)
    base_s, base = _best(lambda: targeting.baseline_within(shape, lat, lon), 1)
    assert isinstance(ours, np.ndarray) and isinstance(base, np.ndarray)
    assert isinstance(vec, np.ndarray)
    assert np.array_equal(ours, base) and np.array_equal(vec, base), "answers differ"
    interior, border = targeting.cover(shape)
    print(f"  cover: {len(interior)} interior + {len(border)} border cells (H3 res "
          f"{targeting.RESOLUTION}); {len(ours):,} subscribers inside")
    print(f"  ours (H3 cover + border test)      {ours_s * 1000:8.1f} ms  (best of {repeat})")
    print(f"  vectorised shapely, every point    {vec_s * 1000:8.1f} ms  (best of {repeat})")
    print(f"  baseline: per-point shapely        {base_s * 1000:8.1f} ms")
    print(f"  ratio baseline / ours: {base_s / ours_s:.0f}x; target < 200 ms: "
          f"{'met' if ours_s < 0.2 else 'NOT met'}")


def _area_km2(shape: shapely.Polygon) -> float:
    lat0 = np.radians(shape.centroid.y)
    return float(shape.area * 111.32**2 * np.cos(lat0))


def bench_fanout(n: int) -> None:
    from sqlalchemy import insert

    from tocsin.alerts import fanout
    from tocsin.alerts.config import AlertSettings
    from tocsin.alerts.models import Alert, AlertDelivery, AlertSubscription
    from tocsin.core import seal
    from tocsin.core.db import make_engine, make_sessionmaker, utcnow
    from tocsin.core.migrate import upgrade
    from tocsin.core.webpush import load_vapid

    # The receiver runs in its own process, as a platform would: it must not share our GIL.
    receiver = subprocess.Popen(
        [sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    assert receiver.stdout is not None
    port = int(receiver.stdout.readline())
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        seal.configure(seal.Sealer(seal.generate_key()))
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        now = utcnow()
        alert_id = uuid.uuid4().hex
        with factory() as s:
            s.add(Alert(id=alert_id, identifier="bench", sender="bench", status="Actual",
                        msg_type="Alert", state="published", origin="composed",
                        content={"identifier": "bench", "sender": "bench",
                                 "sent": now.replace(microsecond=0).isoformat(),
                                 "status": "Actual", "msg_type": "Alert", "scope": "Public"},
                        cap_xml="<alert/>", author="a", created_at=now, published_at=now))
            s.execute(insert(AlertSubscription), [
                {"id": uuid.uuid4().hex, "kind": "webhook",
                 "endpoint": f"http://127.0.0.1:{port}/hook/{i}", "keys": {"secret": "s"},
                 "all_areas": True, "token_hash": "x", "created_at": now,
                 "expires_at": now + dt.timedelta(days=1)} for i in range(n)])
            s.commit()
        config = AlertSettings(webhook_hosts=f"127.0.0.1:{port}", concurrency=64)
        vapid = load_vapid("", Path(tmp))

        async def run() -> tuple[float, float]:
            deliverer = fanout.Deliverer(factory, config, base_url="http://bench", vapid=vapid)
            start = time.time()
            with factory() as s:
                fanout.plan(s, alert_id)
                s.commit()
            deliverer.start()
            while True:
                with factory() as s:
                    left = s.query(AlertDelivery).filter(AlertDelivery.status == "pending").count()
                if left == 0:
                    break
                await asyncio.sleep(0.05)
            total = time.time() - start
            await deliverer.stop()
            return start, total

        start, total = asyncio.run(run())
        raw_rate = asyncio.run(_raw_httpx(port, n, config.concurrency))
        engine.dispose()
    receiver.terminate()
    out, _ = receiver.communicate(timeout=10)
    received = sorted(float(x) for x in out.split())[:n]  # the deliverer's, before the raw run
    first = min(received) - start
    print(f"fan-out: {n:,} webhooks to a loopback receiver, one worker, SQLite")
    print(f"  {len(received):,} delivered in {total:.2f} s = {len(received) / total:,.0f}/s; "
          f"publication to first delivery {first * 1000:.0f} ms "
          f"(median arrival {statistics.median(received) - start:.2f} s)")
    print(f"  same receiver, bare httpx posts (no database, no signing): {raw_rate:,.0f}/s "
          "— the ceiling of this machine")


async def _raw_httpx(port: int, n: int, concurrency: int) -> float:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    body = b"x" * 2000
    async with httpx.AsyncClient(limits=limits) as client:

        async def one(i: int) -> None:
            async with gate:
                await client.post(f"http://127.0.0.1:{port}/raw/{i}", content=body)

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - start)


def bench_latency(rounds: int) -> None:
    """Time from an approval (HTTP call to the real app) to the webhook's arrival."""
    from fastapi.testclient import TestClient

    from tocsin.app import create_app
    from tocsin.core import seal
    from tocsin.core.auth import service as auth_service
    from tocsin.core.db import session_scope
    from tocsin.core.migrate import upgrade
    from tocsin.core.settings import Settings

    receiver = subprocess.Popen(
        [sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    assert receiver.stdout is not None
    port = int(receiver.stdout.readline())
    os.environ["TOCSIN_ALERTS_WEBHOOK_HOSTS"] = f"127.0.0.1:{port}"
    password = "Correct-Horse-42"
    approved: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(var_dir=Path(tmp), database_url=f"sqlite:///{tmp}/t.db",
                            bus_url="memory://", seal_key=seal.generate_key())
        upgrade(settings.resolved_database_url)
        with TestClient(create_app(settings)) as client:
            with session_scope(client.app.state.runtime.sessions) as session:  # type: ignore[attr-defined]
                for name, role in (("a", "authority"), ("b", "authority"), ("p", "platform")):
                    auth_service.create_user(session, username=f"bench-{name}",
                                             password=password, role=role)
            headers = {}
            for name in ("a", "b", "p"):
                token = client.post("/api/v1/auth/token", data={
                    "username": f"bench-{name}", "password": password}).json()["access_token"]
                headers[name] = {"Authorization": f"Bearer {token}"}
            client.post("/api/v1/alerts/webhooks", json={"url": f"http://127.0.0.1:{port}/h"},
                        headers=headers["p"]).raise_for_status()
            expires = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
            body = {"expires": expires, "area": {"desc": "Paris", "polygon": PARIS},
                    "infos": [{"event": "Attaque", "headline": "Attaque", "description": "x"}]}
            for _ in range(rounds):
                draft = client.post("/api/v1/alerts", json=body, headers=headers["a"]).json()
                approved.append(time.time())
                client.post(f"/api/v1/alerts/{draft['id']}/approve",
                            headers=headers["b"]).raise_for_status()
                time.sleep(1.0)
    receiver.terminate()
    out, _ = receiver.communicate(timeout=10)
    arrivals = sorted(float(x) for x in out.split())
    delays = [min(a for a in arrivals if a >= t) - t for t in approved]
    print(f"approval to first delivery (real app: HTTP approve, outbox, bus, plan, send), "
          f"{rounds} rounds: median {statistics.median(delays) * 1000:.0f} ms, "
          f"max {max(delays) * 1000:.0f} ms")


RECEIVER = """
import signal, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
arrivals = []
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        arrivals.append(time.time())
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
class Server(ThreadingHTTPServer):
    request_queue_size = 1024  # the default backlog of 5 resets bursts of connections
    daemon_threads = True
server = Server(("127.0.0.1", 0), H)
def stop(*_):
    print(" ".join(repr(a) for a in arrivals), flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--webhooks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5, help="approval-to-delivery rounds")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, shapely {shapely.__version__}")
    bench_targeting(args.subscribers, args.repeat)
    if args.webhooks:
        bench_fanout(args.webhooks)
    if args.rounds:
        bench_latency(args.rounds)


if __name__ == "__main__":
    main()
