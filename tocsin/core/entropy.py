"""Random bytes from the operating system, fetched a block at a time.

Why: ``os.urandom`` (behind ``uuid.uuid4`` and every AES-GCM nonce) is a system call that drops
the GIL. On the SOS path two threads share the GIL (the event loop and the group-commit writer),
and a thread that drops it waits to take it back until the other lets go: measured with py-spy,
the writer spent more of a batch waiting for the GIL after each nonce and id than doing its
work. One ``os.urandom`` call per 4 KiB serves some 250 ids and nonces.

The bytes are the kernel's, unchanged, and each is handed out once: the buffer is per thread
(no two threads share a position) and is dropped in a forked child, so a child and its parent
never reuse the same bytes (an AES-GCM nonce must never repeat under one key).
"""

from __future__ import annotations

import os
import threading

_BLOCK = 4096


class _Buffer(threading.local):
    data: bytes = b""
    position: int = 0


_buffer = _Buffer()


def random_bytes(n: int) -> bytes:
    """Return ``n`` bytes from the kernel's random source (as ``os.urandom(n)``)."""
    buffer = _buffer
    start = buffer.position
    if start + n > len(buffer.data):
        buffer.data = os.urandom(max(_BLOCK, n))
        start = 0
    buffer.position = start + n
    return buffer.data[start : start + n]


def uuid4_hex() -> str:
    """A random (version 4) UUID as 32 hex digits, like ``uuid.uuid4().hex``."""
    raw = bytearray(random_bytes(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return raw.hex()


def _forget_after_fork() -> None:
    global _buffer
    _buffer = _Buffer()


os.register_at_fork(after_in_child=_forget_after_fork)
