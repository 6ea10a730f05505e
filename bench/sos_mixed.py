"""Mixed-load benchmark: SOS latency while heavy requests hit the same server.

``python -m bench.sos_mixed`` starts ``tocsin serve`` as shipped (embedded mode: a SQLite file
under a temporary ``TOCSIN_VAR_DIR``, a fresh ``TOCSIN_SEAL_KEY``; the per-address new-device
limit of the SOS is lifted, as in ``bench.sos_ack``, because the generator is one address
minting a device per SOS), creates its accounts with ``tocsin users add``, and in each scenario
posts one SOS every 20 ms (open loop: latency from the scheduled send time) for ``--seconds``
while the heavy load runs:

0. nothing else (SOS alone);
1. one authority imports a PFIF 1.4 document of 3,500 persons (``POST /api/v1/persons/import``),
   again and again; if the server refuses that many records at once (413/422 naming a record
   limit), the refusal is reported and the largest document allowed is sent instead;
2. 8 anonymous clients upload a small PNG declaring 6,000 x 6,000 pixels
   (``POST /api/v1/persons/photos``), again and again;
3. 8 anonymous clients validate a ~600 kB CAP document of 60,000 attributes
   (``POST /api/v1/alerts/validate``), again and again;
4. one partner adds 500-object STIX 2.1 bundles to the TAXII exchange collection, again and
   again (a ``pending`` status is followed until it completes).

Anonymous clients each send their own ``X-Forwarded-For`` (the server trusts it from loopback,
uvicorn's default), so they are 8 people, each with its own rate-limit budget; a client refused
(429, 503, ...) waits ``--refusal-pause`` before trying again rather than spinning. Heavy clients
stop starting requests at the end of the window; the SOS keep coming until every heavy request
in flight has its answer, so each one is measured against the SOS in full.

Self-contained on purpose (only HTTP against the server, ``tocsin`` used through its command
line): ``--root`` runs the ``tocsin serve`` of another checkout (an older commit in a worktree)
with this same file, ``--python`` with another interpreter::

    git worktree add /tmp/tocsin-old <commit>
    .venv/bin/python -m bench.sos_mixed --root /tmp/tocsin-old   # the old server
    .venv/bin/python -m bench.sos_mixed                           # this one
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import multiprocessing
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

import httpx

from bench.deployment import LIFTED, clean_env, server
from bench.sos_load import ROOT, Conn, free_port, sos_request

PASSWORD = "Bench-Correct-Horse-1311"  # a throwaway database; the heavy process needs it too
SCENARIOS = ("alone", "pfif-import", "photos", "cap-validate", "taxii-add")
TAXII = "application/taxii+json;version=2.1"
TLP_GREEN = {
    "type": "marking-definition", "spec_version": "2.1",
    "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": "TLP:GREEN",
    "definition": {"tlp": "green"},
}
GIVEN = ("Camille", "Léa", "Hugo", "Louis", "Chloé", "Nathan", "Inès", "Jules", "Manon", "Lucas",
         "Sarah", "Adam", "Emma", "Karim", "Yasmine", "Thomas", "Julie", "Mehdi", "Anaïs", "Paul")
FAMILY = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
          "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David",
          "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
          "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Benali")


# ---------------------------------------------------------------------------- documents

def pfif_document(n: int, tag: str) -> bytes:
    """A PFIF 1.4 document of ``n`` persons, record ids unique to ``tag``."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4">']
    for i in range(n):
        given, family = GIVEN[i % len(GIVEN)], FAMILY[(i // len(GIVEN)) % len(FAMILY)]
        out.append(
            f"<pfif:person><pfif:person_record_id>bench.example.org/{tag}.{i}"
            f"</pfif:person_record_id><pfif:source_date>2015-11-14T01:{i % 60:02d}:00Z"
            f"</pfif:source_date><pfif:full_name>{given} {family}</pfif:full_name>"
            f"<pfif:home_city>Paris</pfif:home_city></pfif:person>")
    out.append("</pfif:pfif>\n")
    return "\n".join(out).encode()


def big_png() -> bytes:
    """A PNG of one colour declaring 6,000 x 6,000 pixels: a few hundred kB on the wire."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (6000, 6000), (200, 30, 30)).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def cap_document(attributes: int = 60_000) -> bytes:
    """A CAP 1.2 alert whose root element carries ``attributes`` attributes (~600 kB)."""
    attrs = "".join(f' a{i}=""' for i in range(attributes))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"{attrs}>'
        "<identifier>bench-1</identifier><sender>bench@example.org</sender>"
        "<sent>2026-11-13T21:40:00+01:00</sent><status>Exercise</status>"
        "<msgType>Alert</msgType><scope>Public</scope><info><category>Safety</category>"
        "<event>Exercice</event><urgency>Immediate</urgency><severity>Extreme</severity>"
        "<certainty>Observed</certainty></info></alert>"
    ).encode()


def stix_bundle(objects: int, tag: int) -> bytes:
    """A STIX 2.1 bundle of ``objects`` objects: the TLP:GREEN marking and indicators."""
    items: list[dict[str, Any]] = [TLP_GREEN]
    for i in range(objects - 1):
        n = tag * objects + i
        items.append({
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": "2026-11-13T20:00:00.000Z", "modified": "2026-11-13T20:00:00.000Z",
            "name": f"C2 {n}", "indicator_types": ["malicious-activity"],
            "pattern": f"[ipv4-addr:value = '10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}']",
            "pattern_type": "stix", "valid_from": "2026-11-13T20:00:00Z",
            "object_marking_refs": [TLP_GREEN["id"]],
        })
    return json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                       "objects": items}).encode()


# ---------------------------------------------------------------------------- server

@dataclass
class Server:
    root: Path
    python: str
    var: Path
    port: int
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tocsin(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run([self.python, "-m", "tocsin", *args], cwd=self.root,
                              env={**self.env, **(env or {})}, capture_output=True, text=True,
                              timeout=120)
        if done.returncode != 0:
            raise SystemExit(f"tocsin {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout


@contextlib.contextmanager
def tocsin_server(root: Path, python: str) -> Iterator[Server]:
    """``tocsin serve`` on a fresh embedded deployment, in its own process group."""
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-mixed-") as tmp:
        var = Path(tmp)
        key = subprocess.run(
            [python, "-c", "from tocsin.core.seal import generate_key; print(generate_key())"],
            cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        env = clean_env()
        env.update(TOCSIN_VAR_DIR=str(var), TOCSIN_SEAL_KEY=key, **LIFTED)
        srv = Server(root, python, var, free_port(), env)
        srv.tocsin("db", "upgrade")
        for name, role in (("bench-authority", "authority"), ("bench-partner", "partner")):
            srv.tocsin("users", "add", name, "--role", role, env={"TOCSIN_PASSWORD": PASSWORD})
        cmd = [python, "-m", "tocsin", "serve", "--host", "127.0.0.1", "--port", str(srv.port)]
        with server(cmd, env, srv.port, var / "server.log", cwd=root):
            yield srv


# ---------------------------------------------------------------------------- SOS stream

@dataclass
class SosStats:
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def not_201(self) -> int:
        return self.sent - self.statuses[201]


async def sos_stream(port: int, start: float, interval: float, seconds: float,
                     busy: EventType | None, cap: float) -> SosStats:
    """One SOS every ``interval`` from ``start`` (a ``time.time()``) for ``seconds``, and on
    while ``busy`` is set (a heavy request still in flight), at most ``cap`` seconds."""
    stats = SosStats()
    idle: asyncio.Queue[Conn] = asyncio.Queue()
    for _ in range(16):
        idle.put_nowait(Conn(*await asyncio.open_connection("127.0.0.1", port)))
    tasks = []

    async def one(at: float) -> None:
        conn = await idle.get()
        try:
            status, _ = await conn.call(sos_request(port))
        except (OSError, asyncio.IncompleteReadError):
            stats.statuses[0] += 1  # 0: the connection failed
            idle.put_nowait(Conn(*await asyncio.open_connection("127.0.0.1", port)))
            return
        done = time.perf_counter()
        idle.put_nowait(conn)
        stats.statuses[status] += 1
        if status == 201:
            stats.latencies.append(done - at)

    origin = time.perf_counter() + max(0.0, start - time.time())
    i = 0
    while True:
        at = origin + i * interval
        elapsed = at - origin
        if elapsed >= cap or (elapsed >= seconds and not (busy is not None and busy.is_set())):
            break
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(at)))
        stats.sent += 1
        i += 1
    await asyncio.gather(*tasks)
    while not idle.empty():
        idle.get_nowait().writer.close()
    return stats


# ---------------------------------------------------------------------------- heavy load

@dataclass
class Outcome:
    """What one kind of heavy request got: statuses, durations, and notes (refusals)."""

    statuses: Counter[int] = field(default_factory=Counter)
    durations: dict[int, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, status: int, seconds: float) -> None:
        self.statuses[status] += 1
        self.durations.setdefault(status, []).append(seconds)

    def summary(self) -> str:
        parts = []
        for status, n in sorted(self.statuses.items()):
            times = sorted(self.durations[status])
            parts.append(f"{status}x{n} ({times[len(times) // 2]:.2f}s med, "
                         f"{times[-1]:.2f}s max)")
        return ", ".join(parts) or "none"


def _limit_of(response: httpx.Response) -> int | None:
    """The record limit a refusal names (``details.max_records``, or its message), if any."""
    with contextlib.suppress(ValueError, KeyError, TypeError):
        error = response.json()["error"]
        details = error.get("details")
        if isinstance(details, dict) and "max_records" in details:
            return int(details["max_records"])
        found = re.search(r"at most ([\d,_ ]+) records", str(error.get("message", "")))
        if found:
            return int(re.sub(r"\D", "", found.group(1)))
    return None


def _failed(out: Outcome, began: float, exc: Exception, what: str) -> None:
    """A request that got no answer (the server closed the connection): status 0."""
    out.add(0, time.perf_counter() - began)
    if len(out.notes) < 5:
        out.notes.append(f"{what}: no answer ({type(exc).__name__}: {exc})")


async def _pfif_importer(client: httpx.AsyncClient, out: Outcome, stop: float,
                         token: str, persons: int) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
    size, n, retry = persons, 0, False
    while time.time() < stop or retry:  # after a refusal, the allowed size is sent at least once
        n += 1
        retry = False
        doc = pfif_document(size, f"r{n}-{uuid.uuid4().hex[:6]}")
        began = time.perf_counter()
        try:
            r = await client.post("/api/v1/persons/import", content=doc, headers=headers)
        except httpx.TransportError as exc:
            _failed(out, began, exc, f"{size:,} persons ({len(doc):,} bytes)")
            continue
        took = time.perf_counter() - began
        out.add(r.status_code, took)
        limit = _limit_of(r) if r.status_code in (413, 422) else None
        if limit is not None and limit < size:
            out.notes.append(f"{size:,} persons ({len(doc):,} bytes) refused with "
                             f"{r.status_code} in {took:.2f}s: {r.json()['error']['message']}; "
                             f"then {limit:,} persons a request")
            size, retry = limit, True
        elif r.status_code == 200:
            report = r.json()
            if n == 1 or len(out.notes) < 2:
                out.notes.append(f"{size:,} persons ({len(doc):,} bytes): "
                                 f"{report.get('persons_created')} created, "
                                 f"{len(report.get('rejected', []))} rejected in {took:.2f}s")
        elif len(out.notes) < 5:
            out.notes.append(f"{r.status_code}: {r.text[:200]}")


async def _anonymous(client: httpx.AsyncClient, out: Outcome, stop: float, address: str,
                     pause: float, kind: str, body: bytes) -> None:
    headers = {"X-Forwarded-For": address}
    while time.time() < stop:
        began = time.perf_counter()
        try:
            if kind == "photos":
                r = await client.post("/api/v1/persons/photos", headers=headers,
                                      files={"photo": ("photo.png", body, "image/png")})
            else:
                r = await client.post("/api/v1/alerts/validate", content=body,
                                      headers={**headers, "Content-Type": "application/xml"})
        except httpx.TransportError as exc:
            _failed(out, began, exc, address)
            await asyncio.sleep(pause)
            continue
        out.add(r.status_code, time.perf_counter() - began)
        if r.status_code not in (200, 201):
            if r.status_code not in (429, 503) and len(out.notes) < 3:
                out.notes.append(f"{r.status_code}: {r.text[:160]}")
            await asyncio.sleep(pause)


async def _taxii_partner(client: httpx.AsyncClient, out: Outcome, stop: float,
                         objects: int) -> None:
    auth = ("bench-partner", PASSWORD)
    r = await client.get("/taxii2/tocsin/collections/", auth=auth, headers={"Accept": TAXII})
    r.raise_for_status()
    writable = [c["id"] for c in r.json().get("collections", []) if c.get("can_write")]
    url = f"/taxii2/tocsin/collections/{writable[0]}/objects/"
    n = 0
    while time.time() < stop:
        n += 1
        bundle = stix_bundle(objects, n)
        began = time.perf_counter()
        try:
            r = await client.post(url, content=bundle, auth=auth,
                                  headers={"Accept": TAXII, "Content-Type": TAXII})
        except httpx.TransportError as exc:
            _failed(out, began, exc, f"bundle of {len(bundle):,} bytes")
            continue
        answered = time.perf_counter() - began
        status = r.json() if r.status_code == 202 else {}
        while status.get("status") == "pending" and time.perf_counter() - began < 60:
            await asyncio.sleep(0.1)
            polled = await client.get(f"/taxii2/tocsin/status/{status['id']}/", auth=auth,
                                      headers={"Accept": TAXII})
            status = polled.json() if polled.status_code == 200 else {}
        out.add(r.status_code, time.perf_counter() - began)
        if len(out.notes) < 2 or r.status_code != 202:
            out.notes.append(
                f"{len(bundle):,} bytes: {r.status_code} after {answered:.2f}s, status "
                f"{status.get('status')!r} ({status.get('success_count')} stored, "
                f"{status.get('failure_count')} failed) after "
                f"{time.perf_counter() - began:.2f}s" if r.status_code == 202
                else f"{r.status_code}: {r.text[:200]}")


def heavy_main(scenario: str, base: str, seconds: float, token: str, pause: float,
               clients: int, body: bytes, ready: EventType, go: EventType, busy: EventType,
               results: Any) -> None:
    """The heavy load of ``scenario``, in a process of its own so it never stalls the SOS
    generator: ready, then waits for ``go``; ``busy`` stays set until its last answer; puts its
    ``Outcome`` on ``results``."""
    out = Outcome()

    async def run() -> None:
        limits = httpx.Limits(max_connections=clients + 2)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
            ready.set()
            while not go.wait(0):  # the SOS stream starts at the same moment
                await asyncio.sleep(0.005)
            stop = time.time() + seconds
            if scenario == "pfif-import":
                jobs = [_pfif_importer(client, out, stop, token, 3500)]
            elif scenario in ("photos", "cap-validate"):
                net = 2 if scenario == "photos" else 3
                jobs = [_anonymous(client, out, stop, f"10.{net}.0.{k + 1}", pause, scenario,
                                   body) for k in range(clients)]
            else:
                jobs = [_taxii_partner(client, out, stop, 500)]
            await asyncio.gather(*jobs)

    try:
        asyncio.run(run())
    except Exception as exc:  # reported, not raised: the SOS figures stay meaningful
        out.notes.append(f"heavy client failed: {type(exc).__name__}: {exc}")
    finally:
        ready.set()
        results.put(out)
        busy.clear()


# ---------------------------------------------------------------------------- scenarios

def login(base: str, username: str) -> str:
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": username, "password": PASSWORD},
                   timeout=30)
    if r.status_code != 200:
        raise SystemExit(f"login of {username} refused: {r.status_code} {r.text[:200]}")
    return str(r.json()["access_token"])


def run_scenario(srv: Server, scenario: str, args: argparse.Namespace, body: bytes
                 ) -> tuple[SosStats, Outcome | None]:
    if scenario == "alone":
        stats = asyncio.run(sos_stream(srv.port, time.time(), args.interval, args.seconds, None,
                                       args.seconds))
        return stats, None
    token = login(srv.base, "bench-authority") if scenario == "pfif-import" else ""
    ctx = multiprocessing.get_context("spawn")
    ready, go, busy, results = ctx.Event(), ctx.Event(), ctx.Event(), ctx.Queue()
    busy.set()  # until the heavy process has its last answer
    proc = ctx.Process(target=heavy_main, args=(
        scenario, srv.base, args.seconds, token, args.refusal_pause, args.clients, body,
        ready, go, busy, results))
    proc.start()
    try:
        if not ready.wait(60):
            raise SystemExit(f"the heavy clients of {scenario} did not start")
        go.set()
        stats = asyncio.run(sos_stream(srv.port, time.time(), args.interval, args.seconds, busy,
                                       args.seconds + 120))
        outcome: Outcome = results.get(timeout=180)
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
            proc.join()
    return stats, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="window of each scenario")
    parser.add_argument("--interval", type=float, default=0.020, help="seconds between SOS")
    parser.add_argument("--clients", type=int, default=8, help="anonymous heavy clients")
    parser.add_argument("--refusal-pause", type=float, default=0.25,
                        help="a heavy client refused waits this long before trying again")
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--quick", action="store_true", help="2 s windows (smoke test)")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the checkout whose `tocsin serve` runs (default: this one)")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter that runs `tocsin` (default: this one)")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 2.0
    root = args.root.resolve()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                            capture_output=True, text=True).stdout.strip() or "?"
    print(f"SOS under mixed load on {platform.node()}: {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"server: `python -m tocsin serve` of {root} (commit {commit}), embedded, with "
          + " and ".join(f"{k}={v}" for k, v in LIFTED.items())
          + f"; one SOS every {args.interval * 1000:.0f} ms, {args.seconds:g} s windows "
          f"(longer while a heavy request is in flight); {args.clients} anonymous clients with "
          f"distinct X-Forwarded-For, {args.refusal_pause:g} s pause after a refusal",
          flush=True)
    bodies = {"photos": big_png() if "photos" in args.scenarios else b"",
              "cap-validate": cap_document() if "cap-validate" in args.scenarios else b""}
    rows = []
    with tocsin_server(root, args.python) as srv:
        for scenario in args.scenarios:
            stats, outcome = run_scenario(srv, scenario, args, bodies.get(scenario, b""))
            if scenario in ("photos", "cap-validate") and outcome:
                outcome.notes.insert(0, f"{len(bodies[scenario]):,} bytes a request" + (
                    ", a PNG declaring 6000 x 6000 pixels" if scenario == "photos" else
                    ", a CAP alert with 60,000 attributes"))
            heavy = outcome.summary() if outcome else "-"
            print(f"[{scenario}] SOS {stats.sent} sent, statuses {dict(stats.statuses)}; "
                  f"p50 {stats.pct(0.5):.1f} ms, p99 {stats.pct(0.99):.1f} ms, max "
                  f"{stats.pct(1.0):.1f} ms; heavy: {heavy}", flush=True)
            for note in outcome.notes if outcome else []:
                print(f"[{scenario}]   {note}", flush=True)
            rows.append((scenario, stats, heavy))
        acked = sum(stats.statuses[201] for _, stats, _ in rows)
        db = sqlite3.connect(srv.var / "tocsin.db")
        try:
            stored = int(db.execute("SELECT count(*) FROM sos").fetchone()[0])
        finally:
            db.close()
    print(f"\n{acked} SOS acknowledged, {stored} rows in the database")
    print(f"\n{'scenario':<13} {'SOS p50 ms':>10} {'p99 ms':>8} {'max ms':>8} "
          f"{'non-201':>7}  heavy op statuses (duration median, max)")
    for scenario, stats, heavy in rows:
        print(f"{scenario:<13} {stats.pct(0.5):>10.1f} {stats.pct(0.99):>8.1f} "
              f"{stats.pct(1.0):>8.1f} {stats.not_201:>7}  {heavy}")
    if stored < acked:
        raise SystemExit("an acknowledged SOS is missing from the database")


if __name__ == "__main__":
    main()
