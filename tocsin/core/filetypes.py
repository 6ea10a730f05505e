"""The type of an uploaded file, told by its first bytes rather than by its name.

A file's name and declared content type are the sender's claims; its leading "magic" bytes are
what a viewer will actually parse. Domains that accept or serve files (cyber evidence, watch
screenshots) ask here, so one table says what each signature means.
"""

from __future__ import annotations

# Signatures of the types Tocsin accepts anywhere (PNG: ISO/IEC 15948 §5.2; JPEG SOI + marker;
# GIF 87a/89a; PDF 1.x-2.0 header; ZIP local file header).
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
)


def sniff_magic(data: bytes) -> str | None:
    """Return the media type the first bytes of ``data`` show, or None if none is known."""
    for magic, media_type in MAGIC:
        if data.startswith(magic):
            return media_type
    return None
