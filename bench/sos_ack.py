"""Benchmark of SOS acknowledgement: group commit against a naive baseline, in the same run.

``python -m bench.sos_ack`` starts a real uvicorn worker (a subprocess, embedded mode: SQLite in
WAL with ``synchronous=FULL``) twice, once with group commit and once with the hidden
``TOCSIN_SOS_GROUP_COMMIT=0`` switch (one transaction per SOS, the rest of the endpoint
unchanged), and drives each with an open-loop load generator on loopback: requests are sent at
fixed times whatever the server's speed, and a latency runs from the scheduled send time to the
complete answer (no coordinated omission). A closed-loop burst measures the top throughput.
Every SOS counted was answered 201, and the rows are counted in the database afterwards.

``--modes embedded cluster`` runs the same against PostgreSQL + NATS (``TOCSIN_BENCH_PG`` /
``TOCSIN_BENCH_NATS``) with ``--workers`` uvicorn worker processes too, in the same run, and
prints both side by side (``--cluster`` alone: the cluster only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]


def make_app() -> Any:
    """App factory for the benchmark's uvicorn: ``TOCSIN_BENCH_DOMAINS`` picks the domains.

    By default only ``sos`` is mounted, so the figure is the acknowledgement path itself and not
    the dispatch consumers that share the process (``--domains all`` keeps every domain).
    """
    import tocsin.app

    domains = os.environ.get("TOCSIN_BENCH_DOMAINS", "sos")
    if domains != "all":
        tocsin.app.DOMAINS = tuple(d for d in domains.split(",") if d)
    return tocsin.app.create_app(freeze_gc=True)  # as ``tocsin serve`` (``serve_app``)


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
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def row(self) -> str:
        rate = f"{self.rate:>6.0f}/s" if self.rate else "   max  "
        return (
            f"{self.name:<13} {rate} {self.throughput:>9.0f}/s {self.pct(0.5):>8.1f}"
            f" {self.pct(0.95):>8.1f} {self.pct(0.99):>8.1f} {self.errors:>6}"
        )


def _request(port: int) -> bytes:
    body = json.dumps(
        {
            "lat": 48.8631,
            "lon": 2.3708,
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

    async def call(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status


async def _connect(port: int, n: int) -> list[Conn]:
    conns = []
    for _ in range(n):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        conns.append(Conn(reader, writer))
    return conns


def _settle_collector() -> None:
    """Collect once, then freeze what is alive, before a timed step.

    Why: the generator's own full collections (up to 63 ms seen in this process, which holds the
    write-path run's objects and every latency of earlier steps) stopped its sends and were
    counted as the server's latency (a p99 of 34 ms at 1,000/s against 7-10 ms without).
    """
    gc.collect()
    gc.freeze()


async def open_loop(name: str, port: int, rate: float, seconds: float, conns: int) -> Result:
    """Send ``rate`` SOS per second for ``seconds``; latency from the scheduled send time."""
    result = Result(name, rate)
    idle: asyncio.Queue[Conn] = asyncio.Queue()
    for conn in await _connect(port, conns):
        idle.put_nowait(conn)
    total = int(rate * seconds)
    requests = [_request(port) for _ in range(total)]
    _settle_collector()
    tasks: list[asyncio.Task[None]] = []

    async def one(at: float, request: bytes) -> None:
        conn = await idle.get()
        try:
            status = await conn.call(request)
        except (OSError, asyncio.IncompleteReadError):
            result.errors += 1
            return
        done = time.perf_counter()
        idle.put_nowait(conn)
        if status == 201:
            result.ok += 1
            result.latencies.append(done - at)
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
                status = await conn.call(request)
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


def generator_ceiling(args: argparse.Namespace) -> Result:
    """The load generator's own top rate: its closed loop against ``canned_server``."""
    port = _free_port()
    code = f"import bench.sos_ack as b; b.canned_server({port})"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the canned server did not start") from None
                time.sleep(0.05)
        return asyncio.run(closed_loop("generator", port, args.seconds, args.conns))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(env: dict[str, str], port: int, workers: int):  # type: ignore[no-untyped-def]
    """Run uvicorn (no access log: it would dominate the measure) until it answers."""
    import httpx

    app = os.environ.get("BENCH_APP", "bench.sos_ack:make_app")  # scratch profiling hook
    cmd = [sys.executable, "-m", "uvicorn", app, "--factory",
           "--port", str(port), "--log-level", "warning", "--no-access-log",
           "--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


DOMAINS = "sos"


def _env(url: str, var: Path, group: bool, extra: dict[str, str]) -> dict[str, str]:
    from tocsin.core.seal import generate_key

    env = dict(os.environ)
    env.update(
        TOCSIN_DATABASE_URL=url,
        TOCSIN_VAR_DIR=str(var),
        TOCSIN_SEAL_KEY=generate_key(),
        TOCSIN_SOS_GROUP_COMMIT="1" if group else "0",
        # One load generator is one address minting a device per SOS: lift the limits.
        TOCSIN_SOS_ADDRESS_NEW_PER_MINUTE="100000000",
        TOCSIN_SOS_ADDRESS_NEW_BURST="100000000",
        TOCSIN_DB_POOL_SIZE="20",
    )
    env.update(extra)
    env["TOCSIN_BENCH_DOMAINS"] = DOMAINS
    return env


def _count(url: str) -> int:
    engine = create_engine(url.replace("postgresql+psycopg", "postgresql+psycopg"))
    with engine.connect() as conn:
        count = int(conn.execute(text("SELECT count(*) FROM sos")).scalar_one())
    engine.dispose()
    return count


def run_mode(
    label: str, group: bool, args: argparse.Namespace, *, cluster: bool, workers: int
) -> list[Result]:
    from tocsin.core.migrate import upgrade

    results = []
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as tmp:
        var = Path(tmp)
        extra: dict[str, str] = {}
        if cluster:
            dbname = f"tocsin_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.pg + "/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{dbname}"'))
            url = f"{args.pg}/{dbname}"
            tag = uuid.uuid4().hex[:8]
            extra = {"TOCSIN_BUS_URL": args.nats, "TOCSIN_BUS_STREAM": f"BENCH_{tag.upper()}",
                     "TOCSIN_BUS_PREFIX": f"bench{tag}"}
        else:
            url = f"sqlite:///{var / 'bench.db'}"
        upgrade(url)
        port = _free_port()
        try:
            with server(_env(url, var, group, extra), port, workers):
                for rate in args.rates:
                    result = asyncio.run(open_loop(label, port, rate, args.seconds, args.conns))
                    print(result.row(), flush=True)
                    results.append(result)
                top = asyncio.run(closed_loop(label, port, args.seconds, args.conns))
                print(top.row(), flush=True)
                results.append(top)
            stored = _count(url)
            acked = sum(r.ok for r in results)
            print(f"{label:<13} {acked} acknowledged, {stored} rows in the database", flush=True)
            if stored < acked:
                raise SystemExit("an acknowledged SOS is missing from the database")
        finally:
            if cluster:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
                admin.dispose()
    return results


def commit_path(n: int) -> None:
    """The durable-write path alone (no HTTP): group-commit writer vs one transaction per SOS."""
    from tocsin.core import seal
    from tocsin.core.db import make_engine, make_sessionmaker
    from tocsin.core.migrate import upgrade
    from tocsin.sos import service
    from tocsin.sos.intake import SosBatcher
    from tocsin.sos.schemas import SosIn

    seal.configure(seal.Sealer(seal.generate_key()))
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'path.db'}"
        upgrade(url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)

        def item() -> service.NewSos:
            body = json.loads(_request(0).split(b"\r\n\r\n", 1)[1])
            return service.prepare(SosIn.model_validate(body))

        batcher = SosBatcher(factory)
        batcher.start()
        items = [item() for _ in range(n)]

        async def burst() -> None:
            await asyncio.gather(*(batcher.submit(i) for i in items))

        start = time.perf_counter()
        asyncio.run(burst())
        group = n / (time.perf_counter() - start)
        batcher.stop()
        stats = batcher.stats
        naive_n = max(50, n // 10)
        items = [item() for _ in range(naive_n)]
        start = time.perf_counter()
        for one in items:
            with factory() as session:
                service.insert_batch(session, [one])
                session.commit()
        naive = naive_n / (time.perf_counter() - start)
        engine.dispose()
    print(f"commit path only: group commit {group:.0f} SOS/s ({stats.batches} transactions for "
          f"{stats.items} SOS, largest {stats.largest}); one per transaction {naive:.0f} SOS/s; "
          f"x{group / naive:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--conns", type=int, default=64)
    parser.add_argument("--modes", nargs="+", choices=["embedded", "cluster"],
                        default=["embedded"], help="embedded, cluster, or both in one run")
    parser.add_argument("--cluster", action="store_true", help="the cluster alone")
    parser.add_argument("--workers", type=int, default=3, help="cluster worker processes")
    parser.add_argument(
        "--pg", default=os.environ.get("TOCSIN_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
    )
    parser.add_argument("--nats", default=os.environ.get("TOCSIN_BENCH_NATS", "nats://127.0.0.1:4222"))
    parser.add_argument("--domains", default="sos", help="domains to mount, or 'all'")
    parser.add_argument("--generator-ceiling", action=argparse.BooleanOptionalAction, default=True,
                        help="first measure the load generator alone against a canned server")
    parser.add_argument("--commit-path", type=int, default=5000, metavar="N",
                        help="also time N SOS through the write path alone (0: skip)")
    args = parser.parse_args()
    global DOMAINS
    DOMAINS = args.domains
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    modes = ["cluster"] if args.cluster else args.modes
    print(f"SOS ack benchmark ({', '.join(modes)}; cluster: {args.workers} worker(s); domains: "
          f"{args.domains}) on {platform.node()}: {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; {args.seconds:.0f} s per step, "
          f"{args.conns} connections")
    print(f"{'mode':<13} {'offered':>8} {'acked':>11} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'errors':>6}")
    if args.commit_path and "embedded" in modes:
        commit_path(args.commit_path)
    if args.generator_ceiling:
        ceiling = generator_ceiling(args)
        print(f"load generator alone (closed loop against a canned-201 server): "
              f"{ceiling.throughput:.0f} requests/s, p99 {ceiling.pct(0.99):.1f} ms", flush=True)
    runs: dict[str, tuple[list[Result], list[Result]]] = {}
    for mode in modes:
        cluster = mode == "cluster"
        workers = args.workers if cluster else 1
        if len(modes) > 1:
            print(f"-- {mode}" + (f", {workers} workers" if cluster else ""), flush=True)
        group = run_mode("group-commit", True, args, cluster=cluster, workers=workers)
        naive = run_mode("naive", False, args, cluster=cluster, workers=workers)
        runs[mode] = (group, naive)
    print()
    head = f"{'step':>8}"
    for mode in runs:
        head += f" | {mode + ': acked/s':>17} {'p99 ms':>8} {'naive p99':>10} {'x naive':>7}"
    print(head)
    steps = len(next(iter(runs.values()))[0])
    for index in range(steps):
        rate = next(iter(runs.values()))[0][index].rate
        line = f"{(f'{rate:.0f}/s' if rate else 'max'):>8}"
        for group, naive in runs.values():
            g, n = group[index], naive[index]
            ratio = g.throughput / n.throughput if n.throughput else float("inf")
            line += (f" | {g.throughput:>17.0f} {g.pct(0.99):>8.1f} {n.pct(0.99):>10.1f}"
                     f" {ratio:>7.1f}")
        print(line)


if __name__ == "__main__":
    main()
