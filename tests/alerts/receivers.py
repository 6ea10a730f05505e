"""Real HTTP receivers on loopback for the fan-out tests: a platform webhook and a push service."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    peer_port: int = 0


@dataclass
class Receiver:
    port: int
    requests: list[Received] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def serve(*, keep_alive: bool = False) -> Iterator[Receiver]:
    """Answer 201 (after 5 s on /slow…, 50 ms on /lag…), 500 on /fail…, 410 on /gone…, 429
    with Retry-After: 1 on the first request to each /busy… path; record every request.
    ``keep_alive``: HTTP/1.1 persistent connections (each sender's connections stay open)."""
    lock = threading.Lock()
    receiver = Receiver(port=0)
    busy_seen: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with lock:
                receiver.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                             self.client_address[1]))
            if self.path.startswith("/slow"):
                time.sleep(5)
            if self.path.startswith("/lag"):
                time.sleep(0.05)
            status, extra = _status_for(self.path, busy_seen, lock)
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _status_for(path: str, busy_seen: set[str], lock: threading.Lock) -> tuple[int, dict[str, str]]:
    if path.startswith("/fail"):
        return 500, {}
    if path.startswith("/gone"):
        return 410, {}
    if path.startswith("/busy"):
        with lock:
            first = path not in busy_seen
            busy_seen.add(path)
        if first:
            return 429, {"Retry-After": "1"}
    return 201, {}


@contextmanager
def serve_h2_tls(cert: str, key: str) -> Iterator[Receiver]:
    """An HTTP/2-only TLS receiver (``h2`` state machine) with the same paths as :func:`serve`."""
    import asyncio
    import ssl

    import h2.config
    import h2.connection
    import h2.events

    lock = threading.Lock()
    receiver = Receiver(port=0)
    busy_seen: set[str] = set()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["h2"])

    open_transports: list[asyncio.BaseTransport] = []

    class Protocol(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            open_transports.append(transport)
            self.transport: asyncio.Transport = transport  # type: ignore[assignment]
            self.conn = h2.connection.H2Connection(
                config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
            self.conn.initiate_connection()
            self.streams: dict[int, tuple[dict[str, str], bytearray]] = {}
            self.transport.write(self.conn.data_to_send())

        def data_received(self, data: bytes) -> None:
            for event in self.conn.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    self.streams[event.stream_id] = (dict(event.headers), bytearray())  # type: ignore[arg-type]
                elif isinstance(event, h2.events.DataReceived):
                    self.streams[event.stream_id][1].extend(event.data)
                    self.conn.acknowledge_received_data(event.flow_controlled_length,
                                                        event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    headers, body = self.streams.pop(event.stream_id)
                    path = headers.get(":path", "")
                    with lock:
                        receiver.requests.append(Received(path, headers, bytes(body)))
                    status, extra = _status_for(path, busy_seen, lock)
                    self.conn.send_headers(event.stream_id, [
                        (":status", str(status)), ("content-length", "0"),
                        *((k.lower(), v) for k, v in extra.items())], end_stream=True)
            self.transport.write(self.conn.data_to_send())

    loop = asyncio.new_event_loop()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(
            loop.create_server(Protocol, "127.0.0.1", 0, ssl=context))
        receiver.port = server.sockets[0].getsockname()[1]
        started.set()
        loop.run_forever()
        server.close()
        for transport in open_transports:
            transport.close()
        loop.run_until_complete(asyncio.sleep(0.05))
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield receiver
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_vapid(authorization: str) -> tuple[dict[str, object], str]:
    """Check a ``vapid t=<JWT>, k=<key>`` header (RFC 8292): ES256 signature by key ``k``.

    Return the JWT claims and the public key; raise if the signature does not verify.
    """
    scheme, _, params = authorization.partition(" ")
    assert scheme.lower() == "vapid", authorization
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    token, key = fields["t"], fields["k"]
    header_b64, claims_b64, signature_b64 = token.split(".")
    header = json.loads(b64url_decode(header_b64))
    assert header["alg"] == "ES256"
    raw = b64url_decode(signature_b64)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
    public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    return json.loads(b64url_decode(claims_b64)), key
