"""Benchmark of SOS acknowledgement: the shipped server against a naive baseline, same run.

``python -m bench.sos_ack`` measures what a user gets: it starts ``tocsin serve`` itself (a
subprocess, the command line's own uvicorn settings, every domain mounted, embedded mode: a
SQLite file under a temporary ``TOCSIN_VAR_DIR``, a fresh ``TOCSIN_SEAL_KEY``). One thing is
changed, and printed: the load generator is one address minting a new device per SOS, so the
per-address new-device limit (``TOCSIN_SOS_ADDRESS_NEW_PER_MINUTE`` / ``_BURST``) is lifted.

Beside it, in the same run and with the same load:

- **naive**: ``bench.naive_sos:app``, the endpoint a developer would write first (FastAPI, the
  same JSON validated by a small pydantic model, stdlib ``sqlite3`` in WAL with
  ``synchronous=FULL``, one commit per request, a plain ``def`` run in the thread pool), served
  by ``uvicorn bench.naive_sos:app`` with uvicorn's defaults but the access log off;
- **ceiling**: ``bench.naive_sos:ceiling``, the same endpoint storing nothing.

Access log: off for all three (``--no-access-log`` for the two uvicorn commands; ``tocsin
serve`` as it ships, whose access log is off by default: the run says so if it finds access
lines in its log anyway).

Each step is an open loop at a fixed rate (``--rates``, requests sent at fixed times whatever
the server's speed, latency from the scheduled send time: no coordinated omission), then a
closed loop with ``--conns`` connections (the top throughput: the issue's "32 connections
posting distinct SOS, closed loop, 8 s"). After each server, the rows are counted in its
database: fewer rows than 201 answers fails the run.

Tocsin's dispatch is checked on a fresh server of its own: ``--units`` units on duty are seeded
over Paris and its suburbs before it starts, SOS are sent at ``--dispatch-rate`` per second for
``--dispatch-seconds`` from places far enough apart that each opens its own incident (dispatch
joins SOS within 200 m), and the time from each SOS's 201 to its incident's first offer is read
from dispatch's tables afterwards: every incident must be offered within 1 s.

``--modes embedded cluster`` also runs Tocsin on PostgreSQL + NATS (``tocsin serve --workers
3``, ``TOCSIN_BENCH_PG`` / ``TOCSIN_BENCH_NATS``), printed side by side (``--cluster``: alone).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import os
import platform
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
# One load generator is one address minting a device per SOS: this per-address limit is lifted.
LIFTED = {
    "TOCSIN_SOS_ADDRESS_NEW_PER_MINUTE": "100000000",
    "TOCSIN_SOS_ADDRESS_NEW_BURST": "100000000",
}
OFFER_WITHIN_S = 1.0


@dataclass
class Result:
    name: str
    rate: float | None
    sent: int = 0
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def row(self) -> str:
        rate = f"{self.rate:>6.0f}/s" if self.rate else "   max  "
        return (
            f"{self.name:<17} {rate} {self.throughput:>9.0f}/s {self.pct(0.5):>8.1f}"
            f" {self.pct(0.95):>8.1f} {self.pct(0.99):>8.1f} {self.errors:>6}"
        )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _request(port: int, lat: float = 48.8631, lon: float = 2.3708) -> bytes:
    body = json.dumps(
        {
            "lat": lat,
            "lon": lon,
            "accuracy_m": 12.5,
            "situation": "hidden",
            "people": 3,
            "text": "Nous sommes cachés dans les loges, au premier étage.",
            "client_id": uuid.uuid4().hex,
        }
    ).encode()
    head = (
        f"POST /api/v1/sos HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Conn:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def call(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def _connect(port: int, n: int) -> list[Conn]:
    conns = []
    for _ in range(n):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        conns.append(Conn(reader, writer))
    return conns


def _settle_collector() -> None:
    """Collect once, then freeze what is alive, before a timed step.

    Why: the generator's own full collections (up to 63 ms seen in this process, which holds
    every latency of earlier steps) stopped its sends and were counted as the server's latency.
    """
    gc.collect()
    gc.freeze()


async def open_loop(
    name: str, port: int, rate: float, seconds: float, conns: int,
    requests: list[bytes] | None = None, acks: dict[str, float] | None = None,
) -> Result:
    """Send ``rate`` SOS per second for ``seconds``; latency from the scheduled send time.

    ``acks``, when given, receives each acknowledged SOS id with the wall-clock time its 201
    was read (the dispatch check starts its clock there).
    """
    result = Result(name, rate)
    idle: asyncio.Queue[Conn] = asyncio.Queue()
    connections = await _connect(port, conns)
    for conn in connections:
        idle.put_nowait(conn)
    if requests is None:
        requests = [_request(port) for _ in range(int(rate * seconds))]
    _settle_collector()
    tasks: list[asyncio.Task[None]] = []

    async def one(at: float, request: bytes) -> None:
        conn = await idle.get()
        try:
            status, body = await conn.call(request)
        except (OSError, asyncio.IncompleteReadError):
            result.errors += 1
            return
        done = time.perf_counter()
        idle.put_nowait(conn)
        if status == 201:
            result.ok += 1
            result.latencies.append(done - at)
            if acks is not None:
                acks[json.loads(body)["id"]] = time.time()
        else:
            result.errors += 1

    start = time.perf_counter() + 0.05
    for i, request in enumerate(requests):
        at = start + i / rate
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(at, request)))
        result.sent += 1
    await asyncio.gather(*tasks)
    result.seconds = max(seconds, time.perf_counter() - start)
    for conn in connections:
        conn.close()
    return result


async def closed_loop(name: str, port: int, seconds: float, conns: int) -> Result:
    """Keep ``conns`` requests in flight for ``seconds``: the top throughput."""
    result = Result(name, None)
    deadline = time.perf_counter() + seconds

    async def worker(conn: Conn) -> None:
        while time.perf_counter() < deadline:
            request = _request(port)
            sent = time.perf_counter()
            try:
                status, _ = await conn.call(request)
            except (OSError, asyncio.IncompleteReadError):
                result.errors += 1
                return
            result.sent += 1
            if status == 201:
                result.ok += 1
                result.latencies.append(time.perf_counter() - sent)
            else:
                result.errors += 1

    connections = await _connect(port, conns)
    _settle_collector()
    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    result.seconds = time.perf_counter() - start
    for conn in connections:
        conn.close()
    return result


CANNED = (b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 2\r\n"
          b"\r\n{}")


def canned_server(port: int) -> None:
    """A server that answers every request at once with a fixed 201 (``--generator-ceiling``).

    It parses just enough (headers, then Content-Length bytes) to answer each request once,
    so what limits the closed loop against it is the load generator itself.
    """
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()

    class Canned(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport
            self.buffer = b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while True:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buffer[:end].lower()
                at = head.find(b"content-length:")
                length = int(head[at + 15:].split(b"\r\n", 1)[0]) if at >= 0 else 0
                if len(self.buffer) < end + 4 + length:
                    return
                self.buffer = self.buffer[end + 4 + length:]
                self.transport.write(CANNED)  # type: ignore[attr-defined]

    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(Canned, "127.0.0.1", port)
        await server.serve_forever()

    asyncio.run(serve())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the canned server did not start") from None
            time.sleep(0.05)


def generator_ceiling(args: argparse.Namespace) -> Result:
    """The load generator's own top rate: its closed loop against ``canned_server``."""
    port = _free_port()
    code = f"import bench.sos_ack as b; b.canned_server({port})"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    try:
        _wait_port(port, proc, 20)
        return asyncio.run(closed_loop("generator", port, args.seconds, args.conns))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextlib.contextmanager
def server(
    cmd: list[str], env: dict[str, str], port: int, log: Path, cwd: Path = ROOT
) -> Iterator[None]:
    """Run ``cmd`` (its output to ``log``) until ``GET /healthz`` answers 200; stop it after.

    The server gets a process group of its own, so its uvicorn workers are stopped with it.
    """
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                raise SystemExit(f"the server did not start: {' '.join(cmd)}\n{tail}")
            time.sleep(0.2)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        # Workers that outlived their parent (cluster mode) go with the group too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def _clean_env() -> dict[str, str]:
    """This environment without any ``TOCSIN_*`` setting: the server sees only ours."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}


@dataclass
class Target:
    """One Tocsin deployment: its environment, its command and how to count its rows."""

    mode: str
    url: str
    env: dict[str, str]
    workers: int
    drop: list[str] = field(default_factory=list)

    def cmd(self, port: int) -> list[str]:
        cmd = [sys.executable, "-m", "tocsin", "serve", "--host", "127.0.0.1", "--port",
               str(port)]
        return cmd + (["--workers", str(self.workers)] if self.workers > 1 else [])


@contextlib.contextmanager
def tocsin_target(mode: str, args: argparse.Namespace, var: Path) -> Iterator[Target]:
    """A fresh Tocsin deployment: a SQLite file under ``var``, or a new PostgreSQL database."""
    from tocsin.core.seal import generate_key

    env = _clean_env()
    env.update(TOCSIN_VAR_DIR=str(var), TOCSIN_SEAL_KEY=generate_key(), **LIFTED)
    env.update(dict(kv.split("=", 1) for kv in args.set))
    if mode == "embedded":
        yield Target(mode, f"sqlite:///{var / 'tocsin.db'}", env, 1)
        return
    dbname = f"tocsin_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    tag = uuid.uuid4().hex[:8]
    url = f"{args.pg}/{dbname}"
    env.update(TOCSIN_DATABASE_URL=url, TOCSIN_BUS_URL=args.nats,
               TOCSIN_BUS_STREAM=f"BENCH_{tag.upper()}", TOCSIN_BUS_PREFIX=f"bench{tag}")
    try:
        yield Target(mode, url, env, args.workers)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        admin.dispose()
        _drop_stream(args.nats, f"BENCH_{tag.upper()}")


def _drop_stream(url: str, stream: str) -> None:
    """Delete the run's JetStream stream (best effort)."""
    async def drop() -> None:
        import nats

        nc = await nats.connect(url)
        try:
            with contextlib.suppress(Exception):
                await nc.jetstream().delete_stream(stream)
        finally:
            await nc.close()

    with contextlib.suppress(Exception):
        asyncio.run(drop())


def _count(url: str, table: str = "sos") -> int:
    if url.startswith("sqlite:///"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        finally:
            db.close()
    engine = create_engine(url)
    with engine.connect() as conn:
        count = int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    engine.dispose()
    return count


def run_steps(label: str, port: int, args: argparse.Namespace, part: str) -> list[Result]:
    """``part`` "open": the open-loop steps; "top": the closed loop, against ``port``.

    Each part gets a fresh server (``run_tocsin``, ``run_naive``), as the issue measured it (a
    new ``tocsin serve``): after a saturating step Tocsin's consumers still have that step's
    backlog to catch up on (they give way to acknowledgements at saturation,
    ``tocsin.core.priority``), and the next step would measure the catching up.
    """
    if part == "top":
        top = asyncio.run(closed_loop(label, port, args.seconds, args.conns))
        print(top.row(), flush=True)
        return [top]
    results = []
    for rate in args.rates:
        result = asyncio.run(open_loop(label, port, rate, args.seconds, args.open_conns))
        print(result.row(), flush=True)
        results.append(result)
    return results


def check_rows(label: str, results: list[Result], stored: int) -> None:
    acked = sum(r.ok for r in results)
    print(f"{label:<17} {acked} acknowledged, {stored} rows in the database", flush=True)
    if stored < acked:
        raise SystemExit(f"{label}: an acknowledged SOS is missing from the database")


def _access_logged(log: Path) -> bool:
    return '"POST /api/v1/sos ' in log.read_text(errors="replace")


def run_tocsin(mode: str, args: argparse.Namespace) -> list[Result]:
    label = f"tocsin {mode}"
    results = []
    for part in ("open", "top"):
        with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as tmp, \
                tocsin_target(mode, args, Path(tmp)) as target:
            port = _free_port()
            log = Path(tmp) / "server.log"
            with server(target.cmd(port), target.env, port, log, cwd=args.root):
                done = run_steps(label, port, args, part)
            check_rows(label, done, _count(target.url))
            if _access_logged(log):
                print(f"{label:<17} note: this `tocsin serve` wrote an access log line per "
                      "request", flush=True)
        results += done
    return results


def run_naive(kind: str, args: argparse.Namespace) -> list[Result]:
    """``uvicorn bench.naive_sos:app`` (or ``:ceiling``), uvicorn's defaults, no access log."""
    results = []
    for part in ("open", "top"):
        with tempfile.TemporaryDirectory(prefix="tocsin-bench-naive-") as tmp:
            db = Path(tmp) / "naive.db"
            env = _clean_env()
            env["NAIVE_SOS_DB"] = str(db)
            port = _free_port()
            cmd = [sys.executable, "-m", "uvicorn", f"bench.naive_sos:{kind}", "--host",
                   "127.0.0.1", "--port", str(port), "--no-access-log"]
            with server(cmd, env, port, Path(tmp) / "server.log"):
                done = run_steps(kind if kind == "ceiling" else "naive", port, args, part)
            if kind == "app":
                check_rows("naive", done, _count(f"sqlite:///{db}"))
        results += done
    return results


# Paris and its inner suburbs: the dispatch check's SOS places and its units.
BOX = (48.70, 2.15, 49.00, 2.55)
SPACING_M = 450.0  # dispatch joins an SOS to an incident within 200 m of it


def _places(n: int, seed: int) -> list[tuple[float, float]]:
    """``n`` places at least ``SPACING_M`` apart in ``BOX`` (a grid, shuffled)."""
    dlat = SPACING_M / 111_320
    dlon = SPACING_M / (111_320 * 0.656)  # cos(49°)
    grid = [(BOX[0] + i * dlat, BOX[1] + j * dlon)
            for i in range(int((BOX[2] - BOX[0]) / dlat))
            for j in range(int((BOX[3] - BOX[1]) / dlon))]
    if n > len(grid):
        raise SystemExit(f"at most {len(grid)} SOS far enough apart in the box; ask for fewer")
    random.Random(seed).shuffle(grid)
    return grid[:n]


def _seed_units(target: Target, count: int, seed: int) -> None:
    """``count`` units on duty, anywhere in ``BOX``, before the server starts."""
    from tocsin.core import seal
    from tocsin.core.db import make_engine, make_sessionmaker, session_scope, utcnow
    from tocsin.core.migrate import upgrade
    from tocsin.dispatch import units

    upgrade(target.url)
    seal.configure(seal.Sealer(target.env["TOCSIN_SEAL_KEY"]))
    rng = random.Random(seed)
    engine = make_engine(target.url, pool_size=1)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            for n in range(count):
                units.create_unit(session, callsign=f"BENCH-{n:05d}", username=None,
                                  lat=rng.uniform(BOX[0], BOX[2]), lon=rng.uniform(BOX[1], BOX[3]),
                                  off_duty=False, now=utcnow())
    finally:
        engine.dispose()


def _first_offers(url: str, ids: set[str]) -> dict[str, tuple[str, dt.datetime | None]]:
    """For each SOS of ``ids`` dispatch has clustered: (its incident, the first offer's time)."""
    from sqlalchemy import func, select

    from tocsin.core.db import make_engine, make_sessionmaker
    from tocsin.dispatch.models import DispatchAssignment, DispatchIncidentSos

    engine = make_engine(url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            first = dict(session.execute(
                select(DispatchAssignment.incident_id, func.min(DispatchAssignment.offered_at))
                .group_by(DispatchAssignment.incident_id)).all())
            clustered = session.execute(
                select(DispatchIncidentSos.sos_id, DispatchIncidentSos.incident_id)).all()
            return {sos: (incident, first.get(incident)) for sos, incident in clustered
                    if sos in ids}
    finally:
        engine.dispose()


@dataclass
class DispatchCheck:
    mode: str
    sent: int = 0
    acked: int = 0
    incidents: int = 0
    offered: int = 0
    delays: list[float] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (self.acked == self.sent and self.offered == self.incidents
                and all(d <= OFFER_WITHIN_S for d in self.delays))

    def line(self) -> str:
        late = sum(d > OFFER_WITHIN_S for d in self.delays)
        return (f"dispatch ({self.mode}): {self.sent} SOS, {self.acked} acknowledged, "
                f"{self.incidents} incidents, {self.offered} offered; 201 -> first offer p50 "
                f"{percentile(self.delays, 0.5) * 1000:.0f} ms, p99 "
                f"{percentile(self.delays, 0.99) * 1000:.0f} ms, max "
                f"{max(self.delays, default=float('nan')) * 1000:.0f} ms; over "
                f"{OFFER_WITHIN_S:.0f} s: {late} -> {'PASS' if self.passed else 'FAIL'}")


def run_dispatch(mode: str, args: argparse.Namespace) -> DispatchCheck:
    """Units on duty, SOS at distinct places at ``--dispatch-rate``: 201 -> first offer."""
    check = DispatchCheck(mode)
    total = int(args.dispatch_rate * args.dispatch_seconds)
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-dispatch-") as tmp, \
            tocsin_target(mode, args, Path(tmp)) as target:
        _seed_units(target, args.units, args.seed)
        port = _free_port()
        requests = [_request(port, lat, lon) for lat, lon in _places(total, args.seed)]
        acks: dict[str, float] = {}
        with server(target.cmd(port), target.env, port, Path(tmp) / "server.log",
                    cwd=args.root):
            result = asyncio.run(open_loop(f"dispatch {mode}", port, args.dispatch_rate,
                                           args.dispatch_seconds, args.open_conns,
                                           requests=requests, acks=acks))
            # Let dispatch finish (an incident not offered yet is retried every second).
            deadline = time.monotonic() + 10
            while True:
                found = _first_offers(target.url, set(acks))
                done = len(found) == len(acks) and all(t for _, t in found.values())
                if done or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
        check.sent, check.acked = result.sent, result.ok
        check.incidents = len({incident for incident, _ in found.values()})
        offered = {incident: at for incident, at in found.values() if at is not None}
        check.offered = len(offered)
        # Each incident's clock starts at the 201 of its first SOS.
        first_ack: dict[str, float] = {}
        for sos, (incident, _) in found.items():
            first_ack[incident] = min(first_ack.get(incident, acks[sos]), acks[sos])
        check.delays = [at.timestamp() - first_ack[incident] for incident, at in offered.items()]
        # An SOS acknowledged but never clustered counts as an incident never offered.
        missing = len(acks) - len(found)
        check.incidents += missing
    print(check.line(), flush=True)
    return check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[500, 1000, 2000],
                        help="open-loop steps, SOS per second")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each step")
    parser.add_argument("--conns", type=int, default=32, help="closed-loop connections")
    parser.add_argument("--open-conns", type=int, default=64,
                        help="connections the open loop sends on (a request waits for one)")
    parser.add_argument("--modes", nargs="+", choices=["embedded", "cluster"],
                        default=["embedded"], help="Tocsin: embedded, cluster, or both")
    parser.add_argument("--cluster", action="store_true", help="Tocsin's cluster mode alone")
    parser.add_argument("--workers", type=int, default=3, help="cluster worker processes")
    parser.add_argument("--pg", default=os.environ.get(
        "TOCSIN_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432"))
    parser.add_argument("--nats", default=os.environ.get("TOCSIN_BENCH_NATS",
                                                         "nats://127.0.0.1:4222"))
    parser.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the naive server and the store-nothing ceiling")
    parser.add_argument("--generator-ceiling", action=argparse.BooleanOptionalAction,
                        default=True,
                        help="first measure the load generator alone against a canned server")
    parser.add_argument("--dispatch-rate", type=float, default=500,
                        help="SOS per second of the dispatch check (0: skip it)")
    parser.add_argument("--dispatch-seconds", type=float, default=3.0)
    parser.add_argument("--units", type=int, default=2000, help="units on duty, dispatch check")
    parser.add_argument("--seed", type=int, default=13_11_2015)
    parser.add_argument("--set", action="append", default=[], metavar="TOCSIN_NAME=VALUE",
                        help="a setting of Tocsin's server other than as shipped (printed; for "
                             "a comparison such as TOCSIN_SOS_WRITER=thread)")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the checkout whose `tocsin serve` runs (an older commit in a git "
                             "worktree, for a before/after); the baselines always run from here")
    args = parser.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    modes = ["cluster"] if args.cluster else args.modes
    for kv in args.set:
        if "=" not in kv or not kv.startswith("TOCSIN_"):
            parser.error(f"--set takes TOCSIN_NAME=VALUE, not {kv!r}")
    print(f"SOS ack benchmark on {platform.node()}: {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.seconds:g} s per step; open "
          f"loop on {args.open_conns} connections, closed loop on {args.conns}")
    print("tocsin: `python -m tocsin serve` as shipped (every domain; "
          + ", ".join(f"{m}" + (f": {args.workers} workers, PostgreSQL + NATS"
                                if m == "cluster" else ": SQLite") for m in modes)
          + "), with " + " and ".join(f"{k}={v}" for k, v in LIFTED.items())
          + " (one generator address mints a new device per SOS)"
          + (f"; NOT as shipped: {' '.join(args.set)}" if args.set else ""))
    if args.baselines:
        print("naive: `uvicorn bench.naive_sos:app --no-access-log` (sqlite3, WAL, "
              "synchronous=FULL, a commit per request); ceiling: `uvicorn "
              "bench.naive_sos:ceiling --no-access-log` (validates, stores nothing)")
    print(f"{'server':<17} {'offered':>8} {'acked':>11} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'errors':>6}", flush=True)
    if args.generator_ceiling:
        gen = generator_ceiling(args)
        print(f"load generator alone (closed loop against a canned-201 server): "
              f"{gen.throughput:.0f} requests/s, p99 {gen.pct(0.99):.1f} ms", flush=True)
    runs: dict[str, list[Result]] = {}
    for mode in modes:
        runs[mode] = run_tocsin(mode, args)
    if args.baselines:
        naive = run_naive("app", args)
        ceiling = run_naive("ceiling", args)
    checks = []
    if args.dispatch_rate > 0:
        checks = [run_dispatch(mode, args) for mode in modes]
    print()
    head = f"{'step':>8}"
    for mode in runs:
        name = "tocsin" if len(runs) == 1 else f"tocsin {mode}"
        head += f" | {name + ' acked/s':>16} {'p50 ms':>7} {'p99 ms':>7}"
    if args.baselines:
        head += f" | {'naive acked/s':>13} {'p99 ms':>7} | {'ceiling/s':>9} | "
        head += " ".join(f"{'tocsin/naive' + ('' if len(runs) == 1 else f' ({m[:3]})'):>13}"
                         for m in runs)
    print(head)
    for index in range(len(args.rates) + 1):
        rate = args.rates[index] if index < len(args.rates) else None
        line = f"{(f'{rate:.0f}/s' if rate else 'max'):>8}"
        for results in runs.values():
            r = results[index]
            line += f" | {r.throughput:>16.0f} {r.pct(0.5):>7.1f} {r.pct(0.99):>7.1f}"
        if args.baselines:
            n, c = naive[index], ceiling[index]
            line += f" | {n.throughput:>13.0f} {n.pct(0.99):>7.1f} | {c.throughput:>9.0f} | "
            line += " ".join(
                f"{(r[index].throughput / n.throughput if n.throughput else float('inf')):>13.2f}"
                for r in runs.values())
        print(line)
    for check in checks:
        print(check.line())
    if not all(check.passed for check in checks):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
