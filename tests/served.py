"""Servers for tests: ``tocsin serve`` as a subprocess, or an app under uvicorn in a thread.

The subprocess is what a user starts (the CLI's own uvicorn settings, a real socket): tests that
watch the shipped server (its access log, its SOS path under other roles' load, a SIGKILL) use
it. The thread is lighter and gives the test the app's runtime (its database) directly.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from tocsin.core.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Served:
    base: str
    port: int
    log: Path
    proc: subprocess.Popen[bytes]

    def output(self) -> str:
        return self.log.read_text(errors="replace")


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
def serve(
    settings: Settings, log: Path, *, port: int | None = None, graceful: bool = True,
    **env: str,
) -> Iterator[Served]:
    """Run ``python -m tocsin serve`` on ``settings`` until it answers /healthz, then yield it.

    At the end: stopped with SIGTERM (``graceful``) or SIGKILL, the whole process group. The log
    is appended to, so a test that restarts a server keeps one log.
    """
    port = port or free_port()
    environ = {**os.environ, **settings_env(settings), **env}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tocsin", "serve", "--port", str(port)],
            env=environ, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    served = Served(f"http://127.0.0.1:{port}", port, log, proc)
    try:
        deadline = time.monotonic() + 90
        while True:
            with suppress(httpx.TransportError):
                if httpx.get(f"{served.base}/healthz", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"tocsin serve did not start:\n{served.output()[-3000:]}")
            time.sleep(0.1)
        yield served
    finally:
        if proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM if graceful else signal.SIGKILL)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@contextmanager
def serve_in_thread(app: FastAPI, name: str = "test-server") -> Iterator[str]:
    """Run ``app`` under uvicorn on a free port in a thread; yield its base URL."""
    server = uvicorn.Server(uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), log_level="warning",
        timeout_graceful_shutdown=2,
    ))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
