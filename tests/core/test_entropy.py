"""Random bytes served from a block: each byte once, never shared with a forked child."""

from __future__ import annotations

import os
import uuid

from tocsin.core.entropy import random_bytes, uuid4_hex


def test_bytes_are_never_handed_out_twice() -> None:
    chunks = [random_bytes(12) for _ in range(2_000)]  # several 4 KiB blocks
    assert all(len(chunk) == 12 for chunk in chunks)
    assert len(set(chunks)) == len(chunks)
    assert len(random_bytes(10_000)) == 10_000  # more than a block at once


def test_uuid4_hex_is_a_version_4_uuid() -> None:
    values = {uuid4_hex() for _ in range(1_000)}
    assert len(values) == 1_000
    for value in list(values)[:50]:
        parsed = uuid.UUID(hex=value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and parsed.hex == value


def test_a_forked_child_does_not_reuse_the_parents_buffer() -> None:
    random_bytes(1)  # the parent holds a partly used block
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next bytes, to the parent
        os.close(read)
        os.write(write, random_bytes(32))
        os._exit(0)
    os.close(write)
    child = os.read(read, 32)
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 32
    assert child != random_bytes(32)  # the same bytes would repeat AES-GCM nonces
