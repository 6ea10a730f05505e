"""The demo platform's webhook endpoint: a real HTTP server on loopback.

In the demo a fictional social network registers this URL to relay official alerts, as platforms
did in 2015. It checks each request's ``X-Tocsin-Signature`` (HMAC-SHA256 over ``"<t>." + body``,
as documented in docs/alerts.md) and counts what it received, so the replay can say (and its test
can check) that the alert really left the server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def signature_ok(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """Check ``t=<unix>,v1=<hex>`` against ``secret`` (the receiver's side of the contract)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        t = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs(time.time() - t) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


@dataclass
class Receiver:
    """A running receiver: where it listens and what arrived."""

    port: int = 0
    secret: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def start(self) -> Receiver:
        """Listen on a free loopback port in a daemon thread."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                header = self.headers.get("X-Tocsin-Signature", "")
                good = bool(receiver.secret) and signature_ok(receiver.secret, header, body)
                with receiver._lock:
                    if good:
                        try:
                            receiver.received.append(json.loads(body))
                        except ValueError:
                            good = False
                    if not good:
                        receiver.rejected += 1
                self.send_response(204 if good else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True,
                         name="demo-webhook").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def count(self) -> int:
        with self._lock:
            return len(self.received)
