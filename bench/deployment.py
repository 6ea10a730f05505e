"""A Tocsin deployment for a benchmark: ``tocsin serve`` as shipped, on a fresh database.

Embedded: a SQLite file under a temporary ``TOCSIN_VAR_DIR``. Cluster: a new PostgreSQL
database and a JetStream stream of the run's own, both dropped afterwards. The server is the
command a user runs, started as a subprocess and stopped with its workers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from bench.sos_load import ROOT

# One load generator is one address minting a device per SOS: this per-address limit is lifted.
LIFTED = {
    "TOCSIN_SOS_ADDRESS_NEW_PER_MINUTE": "100000000",
    "TOCSIN_SOS_ADDRESS_NEW_BURST": "100000000",
}


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


def clean_env() -> dict[str, str]:
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

    env = clean_env()
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


def count_rows(url: str, table: str = "sos") -> int:
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
