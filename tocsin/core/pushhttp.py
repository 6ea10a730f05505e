"""Outbound POSTs at push-service rates: one HTTP/2 connection per origin, else HTTP/1.1 pools.

Measured on the 2-core development machine against local TLS receivers (``bench/alert_fanout.py``
prints it again): ``httpx`` managed about 1,000 POSTs per CPU-second over HTTP/2 and 400 over
HTTP/1.1, below the 2,000 pushes per core the fan-out needs *before* encryption. So the HTTP/2
path is a small client on the ``h2`` state machine (what ``httpx`` itself uses) over an asyncio
TLS connection, multiplexing up to the server's ``MAX_CONCURRENT_STREAMS``. HTTP/1.1 (a server
that does not offer ``h2`` in ALPN, as most webhook receivers, and plain ``http`` on loopback)
goes through a small keep-alive client of the same kind (:class:`H1Origin`): one write per
request, the answer framed by ``Content-Length``, ``chunked`` or the close, and dropped. Beside
``aiohttp``'s pool on the same receivers (``bench/http_clients.py``, 10,000 POSTs of 3 kB over
TLS, 8 hosts, 16 in flight each, 5 December 2026): 11,000-12,000 POSTs per CPU-second against
4,800-5,100; ``aiohttp`` stays selectable (``Transport(http1="aiohttp")``). Both answer
``(status, headers)`` or raise :class:`TransportError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from typing import Any

import aiohttp
import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from tocsin.core.pushhttp1 import H1Origin
from tocsin.core.pushwire import TransportError as TransportError
from tocsin.core.pushwire import encode_headers, split_url


class _NoH2(Exception):
    """The origin chose HTTP/1.1 in ALPN."""


class _H2Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        # Outbound headers are ours (built in tocsin.core.push), so their validation is skipped;
        # what the server sends is validated.
        self.conn = h2.connection.H2Connection(config=h2.config.H2Configuration(
            client_side=True, header_encoding=None, validate_outbound_headers=False,
            normalize_outbound_headers=False))
        self.conn.encoder.encode = encode_headers  # type: ignore[method-assign]
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, asyncio.Future[tuple[int, dict[str, str]]]] = {}
        self.answers: dict[int, tuple[int, dict[str, str]]] = {}
        self.window_open = asyncio.Event()
        self.waiting: deque[asyncio.Future[None]] = deque()
        self.closed = False
        self.capacity = 100  # until the server's SETTINGS say otherwise
        self._flush_due = False
        self.deadlines: dict[int, float] = {}
        self.timeout = 5.0
        self._sweeper: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def start(self) -> None:
        """Send the connection preface: only once ALPN said ``h2`` (an HTTP/1.1 server would
        read the preface as a request)."""
        self.conn.initiate_connection()
        self.flush()
        self._sweeper = asyncio.get_running_loop().call_later(0.25, self._sweep)

    def _sweep(self) -> None:
        """Fail and reset the streams past their deadline (one timer for all, not one each:
        ``asyncio.wait_for`` per request cost a task and a timer handle apiece)."""
        if self.closed:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        late = [stream_id for stream_id, at in self.deadlines.items() if at <= now]
        for stream_id in late:
            with contextlib.suppress(h2.exceptions.H2Error):
                self.conn.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)
            self._finish(stream_id, f"timed out after {self.timeout:g} s")
        if late:
            self.flush()
        self._sweeper = loop.call_later(0.25, self._sweep)

    def flush(self) -> None:
        """Write what the state machine has now."""
        self._flush_due = False
        data = self.conn.data_to_send()
        if data and self.transport is not None and not self.closed:
            self.transport.write(data)

    def flush_soon(self) -> None:
        """Write once the loop turns: the frames of every request started meanwhile go out in
        one TLS record and one system call instead of one each."""
        if not self._flush_due:
            self._flush_due = True
            asyncio.get_running_loop().call_soon(self.flush)

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            self._fail_all(f"HTTP/2 protocol error: {exc}")
            return
        for event in events:
            if isinstance(event, h2.events.ResponseReceived):
                headers = {k.decode().lower(): v.decode(errors="replace")
                           for k, v in event.headers}
                self.answers[event.stream_id] = (int(headers.get(":status", "0")), headers)
            elif isinstance(event, h2.events.DataReceived):
                # Answers are read and dropped; give the window back at once.
                self.conn.acknowledge_received_data(event.flow_controlled_length,
                                                    event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                self._finish(event.stream_id)
            elif isinstance(event, h2.events.StreamReset):
                self._finish(event.stream_id, f"stream reset ({event.error_code})")
            elif isinstance(event, h2.events.WindowUpdated):
                self.window_open.set()
            elif isinstance(event, h2.events.RemoteSettingsChanged):
                changed = event.changed_settings.get(
                    h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS)
                if changed is not None:
                    self.capacity = max(1, changed.new_value)
            elif isinstance(event, h2.events.ConnectionTerminated):
                self._fail_all("GOAWAY from the server")
        self.flush()

    def _wake_one(self) -> None:
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _finish(self, stream_id: int, error: str | None = None) -> None:
        self.deadlines.pop(stream_id, None)
        future = self.streams.pop(stream_id, None)
        answer = self.answers.pop(stream_id, None)
        self._wake_one()
        if future is None or future.done():
            return
        if error is None and answer is not None:
            future.set_result(answer)
        else:
            future.set_exception(TransportError(error or "stream ended without an answer"))

    def _fail_all(self, reason: str) -> None:
        self.closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        self.deadlines.clear()
        for future in self.streams.values():
            if not future.done():
                future.set_exception(TransportError(reason))
        self.streams.clear()
        self.window_open.set()
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail_all(f"connection lost: {exc}" if exc else "connection closed")

    async def request(self, authority: str, path: str, headers: dict[str, str],
                      body: bytes) -> tuple[int, dict[str, str]]:
        while len(self.streams) >= self.capacity and not self.closed:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.waiting.append(waiter)
            await waiter
        if self.closed:
            raise TransportError("connection closed")
        stream_id = self.conn.get_next_available_stream_id()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[int, dict[str, str]]] = loop.create_future()
        self.streams[stream_id] = future
        self.deadlines[stream_id] = loop.time() + self.timeout
        self.conn.send_headers(stream_id, [
            (":method", "POST"), (":scheme", "https"), (":authority", authority),
            (":path", path), ("content-length", str(len(body))),
            *((k.lower(), v) for k, v in headers.items())])
        sent = 0
        while True:
            window = min(self.conn.local_flow_control_window(stream_id),
                         self.conn.max_outbound_frame_size)
            chunk = body[sent:sent + window]
            sent += len(chunk)
            self.conn.send_data(stream_id, chunk, end_stream=sent >= len(body))
            if sent >= len(body):
                self.flush_soon()
                break
            self.flush()
            while self.conn.local_flow_control_window(stream_id) <= 0:
                self.window_open.clear()
                await self.window_open.wait()
                if self.closed:
                    raise TransportError("connection closed while sending")
        return await future


class _H2Origin:
    """One HTTP/2 connection to an origin, re-opened when the server closes it."""

    def __init__(self, host: str, port: int, context: ssl.SSLContext, timeout: float) -> None:
        self.host, self.port, self.context, self.timeout = host, port, context, timeout
        self.authority = host if port == 443 else f"{host}:{port}"
        self.protocol: _H2Protocol | None = None
        self.speaks_h2: bool | None = None  # known after the first TLS handshake
        self._opening = asyncio.Lock()

    async def connect(self) -> bool:
        """Open (or reuse) the connection; ``False`` when the server does not speak h2."""
        async with self._opening:
            if self.speaks_h2 is False:
                return False
            if self.protocol is not None and not self.protocol.closed:
                return True
            loop = asyncio.get_running_loop()
            transport, protocol = await loop.create_connection(
                _H2Protocol, self.host, self.port, ssl=self.context,
                server_hostname=self.host)
            protocol.timeout = self.timeout
            ssl_object = transport.get_extra_info("ssl_object")
            self.speaks_h2 = (ssl_object is not None
                              and ssl_object.selected_alpn_protocol() == "h2")
            if not self.speaks_h2:
                transport.close()
                return False
            protocol.start()
            self.protocol = protocol
            return True

    async def request(self, path: str, headers: dict[str, str],
                      body: bytes) -> tuple[int, dict[str, str]]:
        if (self.protocol is None or self.protocol.closed) and not await self.connect():
            raise _NoH2
        assert self.protocol is not None
        return await self.protocol.request(self.authority, path, headers, body)

    def close(self) -> None:
        if self.protocol is not None and self.protocol.transport is not None:
            self.protocol.transport.close()



class Transport:
    """POST to any allowed origin over the fastest protocol it offers; see the module docstring."""

    def __init__(self, *, timeout: float, per_origin: int, context: ssl.SSLContext,
                 http2: bool = True, http1: str = "own") -> None:
        self.timeout = timeout
        self.per_origin = per_origin
        self.context = context
        self.http2 = http2
        # HTTP/1.1 client: "own" (``H1Origin``) or "aiohttp", measured side by side by
        # ``bench/http_clients.py``.
        self.http1 = http1
        self._h2: dict[str, _H2Origin | None] = {}  # None: the origin answered without h2
        self._h1_origins: dict[tuple[str, str, int], H1Origin] = {}
        self._session: aiohttp.ClientSession | None = None

    def _h1(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=self.per_origin,
                                             ssl=self.context, keepalive_timeout=60)
            self._session = aiohttp.ClientSession(
                connector=connector, trust_env=False, auto_decompress=False,
                timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def post(self, url: str, body: bytes,
                   headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        """POST ``body``; return the status and lower-cased headers of the answer."""
        _, scheme, host, port, path = split_url(url)
        try:
            if self.http2 and scheme == "https":
                origin = await self._h2_origin(host, port)
                if origin is not None:
                    with contextlib.suppress(_NoH2):
                        return await origin.request(path, headers, body)
            if self.http1 == "own":
                key = (scheme, host, port)
                h1 = self._h1_origins.get(key)
                if h1 is None:
                    h1 = self._h1_origins[key] = H1Origin(scheme, host, port, self.context,
                                                           self.timeout)
                return await h1.request(path, headers, body)
            async with self._h1().post(url, data=body, headers=headers,
                                       allow_redirects=False) as response:
                await response.read()
                return response.status, {k.lower(): v for k, v in response.headers.items()}
        except TransportError:
            raise
        except (TimeoutError, OSError, aiohttp.ClientError, ssl.SSLError,
                h2.exceptions.H2Error) as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}"[:300]) from None

    async def _h2_origin(self, host: str, port: int) -> _H2Origin | None:
        key = f"{host}:{port}"
        if key in self._h2:
            return self._h2[key]
        origin = _H2Origin(host, port, self.context, self.timeout)
        self._h2[key] = origin
        if not await asyncio.wait_for(origin.connect(), self.timeout):
            self._h2[key] = None
            return None
        return origin

    async def aclose(self) -> None:
        """Close every connection."""
        for origin in self._h2.values():
            if origin is not None:
                origin.close()
        self._h2.clear()
        for h1 in self._h1_origins.values():
            h1.close()
        self._h1_origins.clear()
        # Let the transports' close callbacks (TLS shutdown included) run before the loop ends.
        for _ in range(3):
            await asyncio.sleep(0.01)
        if self._session is not None:
            with contextlib.suppress(Exception):
                await self._session.close()
            self._session = None


def describe(headers: dict[str, Any]) -> str:
    """A short text of an answer's headers for a log line."""
    return ", ".join(f"{k}={v}" for k, v in list(headers.items())[:5])
