"""``tocsin serve`` as shipped: no access log by default, a redacted one when asked for.

A citizen's SOS must not leave their IP address on the server's disk; the operator's redacted
log keeps method, path and status, never the address or the query string.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from tocsin.core.seal import generate_key


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_and_call(tmp_path: Path, **env: str) -> str:
    port = _free_port()
    log = tmp_path / "serve.log"
    environ = {**os.environ, "TOCSIN_VAR_DIR": str(tmp_path), "TOCSIN_SEAL_KEY": generate_key(),
               "TOCSIN_DATABASE_URL": "", "TOCSIN_BUS_URL": "memory://", **env}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tocsin", "serve", "--port", str(port)],
            env=environ, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            sos = {"lat": 48.86, "lon": 2.37, "accuracy_m": 20, "situation": "hidden", "people": 1,
                   "client_id": uuid.uuid4().hex}
            assert httpx.post(f"{base}/api/v1/sos", json=sos).status_code == 201
            assert httpx.get(f"{base}/api/v1/persons/search?q=Dupont").status_code == 200
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return log.read_text()


def test_no_access_log_by_default(tmp_path: Path) -> None:
    output = _serve_and_call(tmp_path)
    assert "/api/v1/sos" not in output
    assert "127.0.0.1:" not in output.replace("http://127.0.0.1:", "")


def test_redacted_access_log_has_no_address_and_no_query(tmp_path: Path) -> None:
    output = _serve_and_call(tmp_path, TOCSIN_ACCESS_LOG="redacted")
    lines = [line for line in output.splitlines() if "/api/v1/" in line]
    assert any('"POST /api/v1/sos HTTP/1.1" 201' in line for line in lines), output
    assert any("/api/v1/persons/search?…" in line for line in lines), output
    assert "Dupont" not in output
    assert "127.0.0.1:" not in output.replace("http://127.0.0.1:", "")
