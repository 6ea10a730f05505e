"""Diagnose a soak (not a test): the soak's cluster, with what PostgreSQL and NATS do per window.

    .venv/bin/python -m tests.reliability.diagnose RATE SECONDS [PY_SPY_AT_SECONDS ...]

Every 30 s it prints one JSON line: acknowledged rate, p50/p99, each worker's RSS, CPU per
process group, live and dead rows and size of the busiest tables, autovacuum runs, unpublished
outbox rows, what the database sessions wait on (``pg_stat_activity``) and each JetStream
consumer's pending / unacknowledged / redelivered counts. PostgreSQL runs with
``pg_stat_statements``: the statements' mean time after the first minute and at the end are
written to ``$DIAG_OUT`` (default ``/tmp/diag``), so a query that slows down as tables grow
shows. At each ``PY_SPY_AT_SECONDS`` it records 25 s of worker 0 with py-spy (``--gil``: only
the thread holding the GIL, i.e. the CPU the worker's Python spends), if py-spy is installed
(``.venv/bin/pip install py-spy``; a diagnosis tool, not a dependency).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from tests.reliability.harness import Cluster, cluster, seed_units_on_duty
from tests.reliability.load import Load, pct
from tests.reliability.probe import Probe

TABLES = ("sos", "outbox_event", "stats_fact", "stats_rollup", "dispatch_incident",
          "dispatch_incident_sos", "dispatch_assignment", "dispatch_unit")
PG_CONF = "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\n"
WINDOW = 30.0


def _seed_with_statements(made: Cluster) -> None:
    with psycopg.connect(made.pg.dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    seed_units_on_duty(made)


def _pg(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for table in TABLES:
        figures[table] = conn.execute(
            "SELECT n_live_tup, n_dead_tup, autovacuum_count, pg_total_relation_size(relid)"
            " FROM pg_stat_user_tables WHERE relname = %s", (table,)).fetchone()
    figures["unpublished"] = conn.execute(
        "SELECT count(*) FROM outbox_event WHERE published_at IS NULL").fetchone()
    figures["waits"] = conn.execute(
        "SELECT coalesce(wait_event_type, '-') || ':' || coalesce(wait_event, '-') || ':'"
        " || state, count(*) FROM pg_stat_activity WHERE datname = 'tocsin'"
        " GROUP BY 1 ORDER BY 2 DESC").fetchall()
    return figures


def _statements(conn: psycopg.Connection[Any]) -> list[Any]:
    return conn.execute(
        "SELECT round(total_exec_time)::int, calls, round(mean_exec_time::numeric, 3), rows,"
        " left(regexp_replace(query, '\\s+', ' ', 'g'), 230) FROM pg_stat_statements"
        " ORDER BY total_exec_time DESC LIMIT 40").fetchall()


async def _consumers(url: str) -> dict[str, Any]:
    import nats

    client = await nats.connect(url)
    try:
        return {info.name: (info.num_pending, info.num_ack_pending, info.num_redelivered)
                for info in await client.jetstream().consumers_info("TOCSINFAULT")}
    finally:
        await client.close()


def main() -> None:
    rate, seconds = float(sys.argv[1]), float(sys.argv[2])
    spy_at = sorted(float(x) for x in sys.argv[3:])
    out = Path(os.environ.get("DIAG_OUT", "/tmp/diag"))
    out.mkdir(parents=True, exist_ok=True)
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent))
    root = Path(tempfile.mkdtemp(prefix="tocsin-diagnose-"))
    with cluster(root, workers=3, before_workers=_seed_with_statements, pg_conf=PG_CONF) as made:
        conn = psycopg.connect(made.pg.dsn, autocommit=True)
        conn.execute("SELECT pg_stat_statements_reset()")
        load = Load([w.port for w in made.workers], rate)
        load.start()
        probe = Probe(made)
        early = None
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            time.sleep(WINDOW)
            now = time.perf_counter() - load.started_at
            while spy_at and now >= spy_at[0] and py_spy and made.workers[0].proc:
                subprocess.Popen(
                    [py_spy, "record", "-d", "25", "-r", "50", "-f", "raw", "--gil",
                     "--nonblocking", "-p", str(made.workers[0].proc.pid),
                     "-o", str(out / f"spy_{int(spy_at.pop(0))}.txt")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            recent = [a for a in load.snapshot() if now - WINDOW <= a.at < now - 2]
            ok = [a.latency for a in recent if a.status == 201]
            try:
                consumers: dict[str, Any] = asyncio.run(_consumers(made.nats.url))
            except Exception as exc:  # the window's line is still worth printing
                consumers = {"error": str(exc)}
            print(json.dumps({
                "t": round(now), "rate": round(len(ok) / (WINDOW - 2)),
                "p50": round(pct(ok, 0.5)), "p99": round(pct(ok, 0.99)),
                "errors": len(recent) - len(ok), "rss": [round(w.rss_mb()) for w in made.workers],
                "cpu": {k: round(v) for k, v in probe.cpu(now).items()},
                "load": os.getloadavg()[0], "pg": _pg(conn),
                "nats": {k: v for k, v in consumers.items() if v != (0, 0, 0)},
            }, default=str), flush=True)
            if early is None and now > 60:
                early = _statements(conn)
        load.stop()
        (out / "statements_early.json").write_text(json.dumps(early, default=str))
        (out / "statements_end.json").write_text(json.dumps(_statements(conn), default=str))
        time.sleep(30)  # let py-spy finish
        conn.close()


if __name__ == "__main__":
    main()
