"""``tocsin serve`` as a subprocess, on a test's settings: what a user starts, not an app object.

Tests that measure or watch the shipped server (its access log, its SOS path under other
roles' load) need the CLI's own uvicorn settings and a real socket.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tocsin.core.settings import Settings


@dataclass(frozen=True)
class Served:
    base: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_env(settings: Settings) -> dict[str, str]:
    """The ``TOCSIN_*`` environment that gives a server process ``settings``."""
    return {
        "TOCSIN_VAR_DIR": str(settings.var_dir),
        "TOCSIN_DATABASE_URL": settings.resolved_database_url,
        "TOCSIN_BUS_URL": settings.bus_url,
        "TOCSIN_BUS_STREAM": settings.bus_stream,
        "TOCSIN_BUS_PREFIX": settings.bus_prefix,
        "TOCSIN_SEAL_KEY": settings.seal_key,
    }


@contextmanager
def serve(settings: Settings, log: Path, **env: str) -> Iterator[Served]:
    """Run ``python -m tocsin serve`` on ``settings`` until the block ends."""
    port = free_port()
    environ = {**os.environ, **settings_env(settings), **env}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tocsin", "serve", "--port", str(port)],
            env=environ, stdout=out, stderr=subprocess.STDOUT,
        )
        served = Served(f"http://127.0.0.1:{port}", log)
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if httpx.get(f"{served.base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"tocsin serve did not start:\n{served.output()}")
                time.sleep(0.1)
            yield served
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
