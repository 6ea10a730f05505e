"""The SOS load generator of ``bench.sos_ack`` and ``bench.sos_mixed``: raw HTTP/1.1, no client.

Why raw: an HTTP client library costs more CPU per request than the server under test at these
rates (thousands a second on two cores), and its own pauses would be read as the server's
latency. Open loops send at fixed times whatever the server's speed (no coordinated omission);
closed loops keep a number of requests in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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


def sos_request(port: int, lat: float = 48.8631, lon: float = 2.3708) -> bytes:
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
        requests = [sos_request(port) for _ in range(int(rate * seconds))]
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
            request = sos_request(port)
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


def free_port() -> int:
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


def generator_ceiling(seconds: float, conns: int) -> Result:
    """The load generator's own top rate: its closed loop against ``canned_server``."""
    port = free_port()
    code = f"import bench.sos_load as b; b.canned_server({port})"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    try:
        _wait_port(port, proc, 20)
        return asyncio.run(closed_loop("generator", port, seconds, conns))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
