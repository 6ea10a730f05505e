"""Wire-level helpers of the push transport, each chosen after a profile of the fan-out: an O(1)
semaphore, URL splitting once per origin, and an HPACK encoder without the dynamic table."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any
from urllib.parse import urlsplit

from hpack.table import HeaderTable

__all__ = ["Slots", "TransportError", "encode_headers", "split_url"]


_SPLITS: dict[str, tuple[str, str, str, int]] = {}


class TransportError(Exception):
    """The request did not get an answer (connection refused, reset, timed out...)."""


def split_url(url: str) -> tuple[str, str, str, int, str]:
    """``(origin, scheme, host, port, path)`` of a URL, the origin part parsed once per origin
    (``urlsplit`` per request showed in the profile); the fragment is dropped."""
    head, sep, rest = url.partition("://")
    host_part, slash, tail = rest.partition("/")
    prefix = f"{head}{sep}{host_part}"
    if "?" in prefix or "#" in prefix or not sep:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return (f"{parts.scheme}://{parts.netloc}", parts.scheme, parts.hostname or "",
                parts.port or (443 if parts.scheme == "https" else 80), path)
    known = _SPLITS.get(prefix)
    if known is None:
        parts = urlsplit(prefix + "/")
        known = (f"{parts.scheme}://{parts.netloc}", parts.scheme, parts.hostname or "",
                 parts.port or (443 if parts.scheme == "https" else 80))
        if len(_SPLITS) > 4096:
            _SPLITS.clear()
        _SPLITS[prefix] = known
    path = (slash + tail).partition("#")[0] or "/"
    return (*known, path)


class Slots:
    """A counting semaphore whose waits and wake-ups are O(1).

    ``asyncio.Semaphore.acquire`` scans its waiters on every call (Python 3.11), which with the
    hundreds of sends queued at a push service made the fan-out quadratic.
    """

    def __init__(self, value: int) -> None:
        self.value = value
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self.value > 0 and not self._waiters:
            self.value -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # woken and cancelled at once: pass the slot on
            raise

    def release(self) -> None:
        while self._waiters:
            future = self._waiters.popleft()
            if not future.done():
                future.set_result(None)
                return
        self.value += 1

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.release()


_STATIC_FULL = {entry: n for n, entry in reversed(list(enumerate(HeaderTable.STATIC_TABLE, 1)))}
_STATIC_NAME = {name: n for n, (name, _) in reversed(list(enumerate(HeaderTable.STATIC_TABLE, 1)))}


def _integer(value: int, prefix_bits: int, first: int) -> bytes:
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = bytearray([first | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _literal(data: bytes) -> bytes:
    return _integer(len(data), 7, 0) + data


_FIELD_CACHE: dict[tuple[Any, Any], bytes] = {}


def _field(name: bytes, value: bytes) -> bytes:
    index = _STATIC_FULL.get((name, value))
    if index is not None:
        return _integer(index, 7, 0x80)
    name_index = _STATIC_NAME.get(name)
    if name_index is not None:
        return _integer(name_index, 4, 0x00) + _literal(value)
    return b"\x00" + _literal(name) + _literal(value)


def encode_headers(headers: Any, huffman: bool = True) -> bytes:
    """HPACK (RFC 7541) without the dynamic table: static-table indices, raw literals.

    ``hpack``'s encoder searches its tables linearly and Huffman-codes in pure Python, which
    cost more than the rest of a request. Each block starts with a table size update to 0, so
    the server keeps no state for us whatever its SETTINGS say (§4.2, §6.3).
    """
    out = bytearray(b"\x20")
    for name, value in headers:
        # Most fields repeat from one push to the next (the VAPID header, TTL, the topic...).
        encoded = _FIELD_CACHE.get((name, value))
        if encoded is None:
            encoded = _field(name if isinstance(name, bytes) else name.encode(),
                             value if isinstance(value, bytes) else value.encode())
            if name not in (":path", b":path"):
                if len(_FIELD_CACHE) > 4096:
                    _FIELD_CACHE.clear()
                _FIELD_CACHE[(name, value)] = encoded
        out += encoded
    return bytes(out)
