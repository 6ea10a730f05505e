"""One table of file signatures (``tocsin.core.filetypes``) for every domain that takes files."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tocsin.core.filetypes import sniff_magic


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize(("data", "expected"), [
    (_image("PNG"), "image/png"), (_image("JPEG"), "image/jpeg"), (_image("GIF"), "image/gif"),
    (b"%PDF-1.7\n%\xe2\xe3", "application/pdf"), (b"PK\x03\x04\x14\x00", "application/zip"),
    (b"MZ\x90\x00", None), (b"hello", None), (b"", None), (b"\x89PN", None),
])
def test_signatures(data: bytes, expected: str | None) -> None:
    assert sniff_magic(data) == expected
