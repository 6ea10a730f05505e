"""The fan-out's own HTTP/1.1 client (issue 23): keep-alive reuse, the three ways an answer is
framed, timeouts, verified TLS, and no header injection."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from bench.push_receivers import make_ca
from tocsin.core import push
from tocsin.core.pushhttp import Transport, TransportError

ANSWERS = {
    "/len": b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
    "/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"3;x=y\r\nabc\r\n4\r\ndefg\r\n0\r\nX-Trailer: 1\r\n\r\n",
    "/continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    "/busy": b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n",
    "/close": b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
}


class Server:
    """Answers each request by its path; counts connections; keeps what it received."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {k.strip().lower(): v.strip() for k, _, v in
                           (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((path, headers, body))
                if path == "/slow":
                    await asyncio.sleep(30)
                writer.write(ANSWERS[path])
                await writer.drain()
                if path == "/close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:  # cancelled too (the request left to time out): closed while the loop runs
            writer.close()


async def _scenario(server: Server, base: str) -> None:
    transport = Transport(timeout=0.5, per_origin=4, context=push.tls_context(), http2=False)
    try:
        answers = [await transport.post(f"{base}{path}", b"x" * 3000, {"X-Tocsin-Delivery": "9"})
                   for path in ("/len", "/chunked", "/continue", "/busy", "/len")]
        assert [status for status, _ in answers] == [201, 200, 204, 429, 201]
        assert answers[3][1]["retry-after"] == "7"
        assert server.connections == 1  # one keep-alive connection for the five
        path, headers, body = server.requests[0]
        assert headers["host"] == base.split("://")[1] and headers["x-tocsin-delivery"] == "9"
        assert path == "/len" and body == b"x" * 3000
        status, _ = await transport.post(f"{base}/close", b"{}", {})
        assert status == 200 and server.connections == 1
        assert (await transport.post(f"{base}/len", b"{}", {}))[0] == 201
        assert server.connections == 2  # an HTTP/1.0 answer ends its connection
        with pytest.raises(TransportError, match="timed out"):
            await transport.post(f"{base}/slow", b"{}", {})
        with pytest.raises(TransportError, match="line break"):
            await transport.post(f"{base}/len", b"{}", {"X-A": "1\r\nX-Injected: 1"})
        assert (await transport.post(f"{base}/len", b"{}", {}))[0] == 201
    finally:
        await transport.aclose()


def test_plain_keep_alive_framing_and_timeouts() -> None:
    async def main() -> None:
        server = Server()
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        async with listener:
            await _scenario(server, f"http://127.0.0.1:{port}")

    asyncio.run(main())


def test_tls_is_verified_with_the_operator_ca(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    ca, cert, key = make_ca(tmp_path / "ca")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))

    async def main(trusted: bool) -> None:
        server = Server()
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=context)
        base = f"https://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
        async with listener:
            if trusted:
                await _scenario(server, base)
                return
            transport = Transport(timeout=2, per_origin=4, context=push.tls_context(),
                                  http2=False)
            with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
                await transport.post(f"{base}/len", b"{}", {})
            await transport.aclose()
            assert server.requests == []

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    asyncio.run(main(trusted=False))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    asyncio.run(main(trusted=True))
