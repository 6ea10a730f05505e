"""The fan-out's HTTP/1.1 client: keep-alive connections per origin, one request at a time each.

Most webhook receivers answer HTTP/1.1 only. ``aiohttp``'s pool spent about twice the CPU of
this client per request on the same receivers (``bench/http_clients.py``): its request and
response objects, URL parsing, timers and tasks per request. Here a request is one write (head
and body), its answer is read as RFC 9112 frames it and dropped, and one timer handle bounds it.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.parse

from tocsin.core.pushwire import TransportError

_SAFE_PATH = "/:@!$&'()*+,;=?%~-._"
_NO_BODY = (204, 304)
_MAX_HEAD = 65536


class _H1Protocol(asyncio.Protocol):
    """One HTTP/1.1 keep-alive connection, one request at a time.

    The request goes out in one write (head and body); the answer is read as RFC 9112 frames it:
    ``Content-Length``, ``chunked``, or up to the close (an HTTP/1.0 server), then dropped. The
    connection is kept for the next request only when the server keeps it too.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.buffer = bytearray()
        self.future: asyncio.Future[tuple[int, dict[str, str]]] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self._head: tuple[int, dict[str, str]] | None = None
        self._framing = ""  # "length", "chunked" or "close", once the head is read
        self._left = 0
        self._keep = False
        self.reusable = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, data: bytes, timeout: float) -> asyncio.Future[tuple[int, dict[str, str]]]:
        loop = asyncio.get_running_loop()
        self.future = loop.create_future()
        self.buffer.clear()
        self._head, self._framing, self.reusable = None, "", False
        self.timer = loop.call_later(timeout, self._timed_out, timeout)
        assert self.transport is not None
        self.transport.write(data)
        return self.future

    def _timed_out(self, timeout: float) -> None:
        self._fail(f"timed out after {timeout:g} s")

    def _fail(self, reason: str) -> None:
        self.closed = True
        if self.timer is not None:
            self.timer.cancel()
        if self.future is not None and not self.future.done():
            self.future.set_exception(TransportError(reason))
        if self.transport is not None:
            self.transport.close()

    def _done(self, keep: bool) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.reusable = keep and not self.closed and not self.buffer
        if not self.reusable:
            self.closed = True
            if self.transport is not None:
                self.transport.close()
        if self.future is not None and not self.future.done() and self._head is not None:
            self.future.set_result(self._head)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.future is None or self.future.done():
            return
        try:
            self._parse()
        except (ValueError, IndexError) as exc:
            self._fail(f"bad HTTP/1.1 answer: {exc}"[:200])

    def _parse(self) -> None:
        while self._head is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > _MAX_HEAD:
                    raise ValueError("head too long")
                return
            lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            del self.buffer[:end + 4]
            version, _, rest = lines[0].partition(" ")
            status = int(rest[:3])
            if 100 <= status < 200:
                continue  # an interim answer (100 Continue): the real one follows
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            self._head = (status, headers)
            self._keep = (version == "HTTP/1.1"
                          and "close" not in headers.get("connection", "").lower())
            if status in _NO_BODY:
                self._framing, self._left = "length", 0
            elif "chunked" in headers.get("transfer-encoding", "").lower():
                self._framing, self._left = "chunked", -1
            elif "content-length" in headers:
                self._framing, self._left = "length", int(headers["content-length"])
            else:
                self._framing, self._keep = "close", False
        if self._framing == "length":
            if len(self.buffer) >= self._left:
                del self.buffer[:self._left]
                self._done(self._keep)
        elif self._framing == "chunked":
            self._chunks()
        # "close": the answer ends with the connection (connection_lost)

    def _chunks(self) -> None:
        while True:
            if self._left == -1:  # at a chunk-size line
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    return
                size = int(bytes(self.buffer[:end]).split(b";")[0].strip(), 16)
                del self.buffer[:end + 2]
                if size == 0:
                    self._left = -2
                else:
                    self._left = size + 2  # the data and its CRLF
            if self._left == -2:  # trailers, up to an empty line
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    return
                del self.buffer[:end + 2]
                if end == 0:
                    self._done(self._keep)
                    return
                continue
            if len(self.buffer) < self._left:
                return
            del self.buffer[:self._left]
            self._left = -1

    def eof_received(self) -> bool | None:
        return False  # close the transport; connection_lost finishes the answer

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.future is None or self.future.done():
            return
        if self._head is not None and self._framing == "close":
            self._done(False)
        else:
            self._fail(f"connection lost: {exc}" if exc else "connection closed by the server")


class H1Origin:
    """Keep-alive HTTP/1.1 connections to one origin (``Pools`` bounds how many at once)."""

    def __init__(self, scheme: str, host: str, port: int, context: ssl.SSLContext,
                 timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.context = context if scheme == "https" else None
        default = 443 if scheme == "https" else 80
        name = f"[{host}]" if ":" in host else host
        self.authority = name if port == default else f"{name}:{port}"
        self.idle: list[_H1Protocol] = []

    async def request(self, path: str, headers: dict[str, str],
                      body: bytes) -> tuple[int, dict[str, str]]:
        if not path.isascii() or any(c in path for c in " \t\r\n"):
            path = urllib.parse.quote(path, safe=_SAFE_PATH)
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.authority}",
                 f"Content-Length: {len(body)}"]
        for name, value in headers.items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise TransportError(f"header {name!r} holds a line break")
            lines.append(f"{name}: {value}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        protocol: _H1Protocol | None = None
        while self.idle and protocol is None:
            candidate = self.idle.pop()
            protocol = None if candidate.closed else candidate
        if protocol is None:
            loop = asyncio.get_running_loop()
            _, protocol = await asyncio.wait_for(loop.create_connection(
                _H1Protocol, self.host, self.port, ssl=self.context,
                server_hostname=self.host if self.context is not None else None), self.timeout)
        assert protocol is not None
        answer = await protocol.send(data, self.timeout)
        if protocol.reusable:
            self.idle.append(protocol)
        return answer

    def close(self) -> None:
        for protocol in self.idle:
            if protocol.transport is not None:
                protocol.transport.close()
        self.idle.clear()

