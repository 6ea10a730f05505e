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
import os
import platform
import sys
import tempfile
from pathlib import Path

from bench.deployment import LIFTED, clean_env, count_rows, server, tocsin_target
from bench.sos_dispatch import run_dispatch
from bench.sos_load import ROOT, Result, closed_loop, free_port, generator_ceiling, open_loop


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
            port = free_port()
            log = Path(tmp) / "server.log"
            with server(target.cmd(port), target.env, port, log, cwd=args.root):
                done = run_steps(label, port, args, part)
            check_rows(label, done, count_rows(target.url))
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
            env = clean_env()
            env["NAIVE_SOS_DB"] = str(db)
            port = free_port()
            cmd = [sys.executable, "-m", "uvicorn", f"bench.naive_sos:{kind}", "--host",
                   "127.0.0.1", "--port", str(port), "--no-access-log"]
            with server(cmd, env, port, Path(tmp) / "server.log"):
                done = run_steps(kind if kind == "ceiling" else "naive", port, args, part)
            if kind == "app":
                check_rows("naive", done, count_rows(f"sqlite:///{db}"))
        results += done
    return results


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
        gen = generator_ceiling(args.seconds, args.conns)
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
