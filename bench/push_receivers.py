"""Local push services for ``bench/alert_fanout.py``: HTTP/1.1 and HTTP/2 over TLS, answering 201.

A test CA is made at run time with ``cryptography`` (no file shipped, nothing trusted outside
the run); the receivers present a leaf for ``127.0.0.1``/``localhost`` signed by it. Each
receiver is a plain asyncio server in its own process (uvloop when present) so that its CPU is
not the sender's: it reads a request, answers ``201`` at once, and counts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import multiprocessing
import ssl
import time
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized, SynchronizedArray
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_ca(folder: Path) -> tuple[Path, Path, Path]:
    """Write ``ca.pem``, ``leaf.pem`` and ``leaf.key`` into ``folder``; return their paths."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tocsin bench CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "ca.pem", folder / "leaf.pem", folder / "leaf.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM,
                                                serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    return paths


class _Http1(asyncio.Protocol):
    """Keep-alive HTTP/1.1: requests with a Content-Length body, each answered 201."""

    def __init__(self, counter: Synchronized[int], first: Synchronized[float]) -> None:
        self.counter, self.first = counter, first
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        answers = 0
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = self.buffer[:end].lower()
            at = head.find(b"content-length:")
            length = int(head[at + 15:head.find(b"\r\n", at) if head.find(b"\r\n", at) > 0
                              else None]) if at >= 0 else 0
            if len(self.buffer) < end + 4 + length:
                break
            self.buffer = self.buffer[end + 4 + length:]
            answers += 1
        if answers and self.transport is not None:
            self.transport.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n" * answers)
            _count(self.counter, self.first, answers)


def _count(counter: Synchronized[int], first: Synchronized[float], n: int) -> None:
    with counter.get_lock():
        if counter.value == 0:
            first.value = time.time()
        counter.value += n


class _Http2(asyncio.Protocol):
    """HTTP/2 with the ``h2`` state machine: each stream's end answered 201."""

    def __init__(self, counter: Synchronized[int], first: Synchronized[float]) -> None:
        import h2.config
        import h2.connection

        self.counter, self.first = counter, first
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=False, header_encoding=None))
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        import h2.settings

        self.transport = transport  # type: ignore[assignment]
        self.conn.initiate_connection()
        self.conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1000})
        transport.write(self.conn.data_to_send())

    def data_received(self, data: bytes) -> None:
        import h2.events
        import h2.exceptions

        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            if self.transport is not None:
                self.transport.close()
            return
        answers = 0
        for event in events:
            if isinstance(event, h2.events.DataReceived):
                self.conn.acknowledge_received_data(event.flow_controlled_length,
                                                    event.stream_id)
            if isinstance(event, h2.events.StreamEnded):
                self.conn.send_headers(event.stream_id, [(":status", "201"),
                                                         ("content-length", "0")],
                                       end_stream=True)
                answers += 1
        if self.transport is not None:
            self.transport.write(self.conn.data_to_send())
        if answers:
            _count(self.counter, self.first, answers)


def _serve(kind: str, cert: str, key: str, ports_out: SynchronizedArray[int],
           counter: Synchronized[int], first: Synchronized[float]) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["h2"] if kind == "h2" else ["http/1.1"])

    async def main() -> None:
        loop = asyncio.get_running_loop()
        protocol = _Http2 if kind == "h2" else _Http1
        # Several ports: as many origins, e.g. platforms on different hosts (a sender bounds
        # its requests per origin).
        for i in range(len(ports_out)):
            server = await loop.create_server(lambda: protocol(counter, first), "127.0.0.1", 0,
                                              ssl=context, backlog=1024)
            ports_out[i] = server.sockets[0].getsockname()[1]
        await asyncio.Event().wait()

    asyncio.run(main())


@dataclass
class Receiver:
    """A receiver process: its port, and how many requests it answered (and when the first)."""

    kind: str
    process: multiprocessing.process.BaseProcess
    ports: list[int]
    counter: Synchronized[int]
    first: Synchronized[float]

    @property
    def port(self) -> int:
        return self.ports[0]

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def bases(self) -> list[str]:
        """One origin per port."""
        return [f"https://127.0.0.1:{port}" for port in self.ports]

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)


def start(kind: str, cert: Path, key: Path, *, ports: int = 1) -> Receiver:
    """Start a ``"h1"`` or ``"h2"`` receiver process listening on ``ports`` ports; wait for them."""
    ctx = multiprocessing.get_context("spawn")
    port_values, counter, first = ctx.Array("i", ports), ctx.Value("q", 0), ctx.Value("d", 0.0)
    process = ctx.Process(target=_serve, args=(kind, str(cert), str(key), port_values, counter,
                                               first), daemon=True)
    process.start()
    deadline = time.monotonic() + 20
    while 0 in port_values[:]:
        if time.monotonic() > deadline or not process.is_alive():
            raise RuntimeError(f"{kind} receiver did not start")
        time.sleep(0.02)
    return Receiver(kind, process, port_values[:], counter, first)  # type: ignore[arg-type]
