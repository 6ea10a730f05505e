"""Open-loop SOS load over real HTTP, spread over the workers, in a background thread.

SOS are sent at fixed times whatever the servers do (no coordinated omission: a latency runs
from the scheduled time). Each goes to the next worker that is up; a worker whose connection
breaks is skipped for a moment. Every answer is kept: status, ``Retry-After``, the SOS id of a
201. Positions are drawn around a few sites (the 13 November ones), so they cluster into a known
number of incidents that the units on duty can all take.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

SITES = [  # lat, lon
    (48.8631, 2.3708),  # Bataclan
    (48.9245, 2.3602),  # Stade de France
    (48.8722, 2.3698),  # Le Carillon / Le Petit Cambodge
    (48.8534, 2.3793),  # La Belle Équipe
    (48.8506, 2.3853),  # Comptoir Voltaire
    (48.8613, 2.3732),  # rue de la Fontaine-au-Roi
]
MAX_IN_FLIGHT = 400
TIMEOUT_S = 15.0


@dataclass
class Answer:
    at: float  # scheduled send time, seconds since the load started
    latency: float
    status: int  # 0: no HTTP answer (connection refused or broken, timeout)
    worker: int
    sos_id: str | None = None
    retry_after: str | None = None
    error: str | None = None  # why there was no HTTP answer


@dataclass
class Load:
    """``rate`` SOS per second over ``ports`` until ``stop()``."""

    ports: list[int]
    rate: float
    answers: list[Answer] = field(default_factory=list)
    skipped: int = 0  # not sent: too many in flight (the servers had fallen behind)
    started_at: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _down_until: dict[int, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self.started_at = time.perf_counter()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=TIMEOUT_S + 30)

    def snapshot(self) -> list[Answer]:
        with self._lock:
            return list(self.answers)

    def acked(self) -> set[str]:
        return {a.sos_id for a in self.snapshot() if a.status == 201 and a.sos_id}

    async def _run(self) -> None:
        idle: dict[int, list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {
            i: [] for i in range(len(self.ports))}
        in_flight: set[asyncio.Task[None]] = set()
        rr = 0
        n = 0
        start = self.started_at
        while not self._stop.is_set():
            at = n / self.rate
            delay = start + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            n += 1
            if len(in_flight) >= MAX_IN_FLIGHT:
                self.skipped += 1
                continue
            now = time.perf_counter()
            up = [i for i in range(len(self.ports)) if self._down_until.get(i, 0) <= now]
            worker = up[rr % len(up)] if up else rr % len(self.ports)
            rr += 1
            task = asyncio.create_task(self._one(worker, at, idle[worker]))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.wait(in_flight, timeout=TIMEOUT_S + 5)
        for conns in idle.values():
            for _, writer in conns:
                writer.close()

    async def _one(self, worker: int, at: float,
                   idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]) -> None:
        lat, lon = random.choice(SITES)
        body = json.dumps({
            "lat": round(lat + random.uniform(-0.0003, 0.0003), 6),
            "lon": round(lon + random.uniform(-0.0003, 0.0003), 6),
            "accuracy_m": 15, "situation": "hidden", "people": 2,
            "text": "Nous sommes cachés, ne rappelez pas.", "client_id": uuid.uuid4().hex,
        }).encode()
        port = self.ports[worker]
        request = (
            f"POST /api/v1/sos HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nX-Device-Token: {uuid.uuid4().hex}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        answer = Answer(at=at, latency=0.0, status=0, worker=worker)
        # Like any HTTP client: a kept-alive connection the server closed while idle fails
        # before an answer; the request is then sent again on a fresh connection (the same
        # body, so the same client_id: an SOS retry is idempotent).
        for attempt in range(2):
            reused = bool(idle) and attempt == 0
            conn = None
            try:
                conn = idle.pop() if reused else await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", port), timeout=2)
                status, headers, payload = await asyncio.wait_for(self._call(conn, request),
                                                                  timeout=TIMEOUT_S)
                answer.status, answer.error = status, None
                answer.retry_after = headers.get("retry-after")
                if status == 201:
                    answer.sos_id = json.loads(payload)["id"]
                if headers.get("connection", "").lower() == "close":
                    conn[1].close()
                else:
                    idle.append(conn)
                break
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                answer.error = type(exc).__name__
                if conn is not None:
                    conn[1].close()
                stale = reused and isinstance(exc, asyncio.IncompleteReadError | ConnectionError)
                if not stale:
                    self._down_until[worker] = time.perf_counter() + 0.3
                    break
        answer.latency = time.perf_counter() - self.started_at - at
        with self._lock:
            self.answers.append(answer)

    @staticmethod
    async def _call(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                    request: bytes) -> tuple[int, dict[str, str], bytes]:
        reader, writer = conn
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
        payload = await reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers, payload


def pct(values: list[float], q: float) -> float:
    """Return the ``q`` quantile of ``values`` in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def summary(answers: list[Answer], seconds: float) -> str:
    """One line: acked rate, latency quantiles, statuses."""
    ok = [a.latency for a in answers if a.status == 201]
    statuses: dict[int | str, int] = {}
    for a in answers:
        key: int | str = a.status or f"no answer ({a.error})"
        statuses[key] = statuses.get(key, 0) + 1
    return (f"{len(ok) / seconds if seconds else 0:.0f} SOS/s acked over {seconds:.0f} s, "
            f"p50 {pct(ok, 0.5):.0f} ms, p99 {pct(ok, 0.99):.0f} ms, statuses {statuses}")
