"""The hashes of one local file, as partners compute them (``tocsin watch hash``).

MD5, SHA-256 and TLSH are computed over the bytes as they are read (a video of gigabytes is
never held in memory); PDQ when Pillow can decode the file as an image. Video: ``vpdq`` (Meta's
video PDQ) is on PyPI (0.2.5, February 2026) but needs FFmpeg's libraries to build and decode,
and Tocsin takes no video uploads; so a video gets MD5 and SHA-256 (what HMA's ``video_md5``
and ``video_sha256`` lists carry), and TLSH.
"""

from __future__ import annotations

import contextlib
import hashlib
import warnings
from pathlib import Path

import tlsh
from PIL import Image, UnidentifiedImageError

from tocsin.watch.media import MAX_PIXELS, pdq_hash

CHUNK = 1 << 20
# Larger than an upload may be (a local file): still refused past this, not decoded.
MAX_LOCAL_PIXELS = 10 * MAX_PIXELS


class FileUnreadable(Exception):
    """The file could not be read (missing, a directory, no permission...)."""


def hash_file(path: Path) -> dict[str, object]:
    """Return ``{"file", "md5", "sha256", ["tlsh"], ["pdq", "pdq_quality"]}`` for ``path``."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    fuzzy = tlsh.Tlsh()
    size = 0
    try:
        with path.open("rb") as stream:
            while block := stream.read(CHUNK):
                md5.update(block)
                sha256.update(block)
                fuzzy.update(block)
                size += len(block)
    except OSError as exc:
        raise FileUnreadable(exc.strerror or exc.__class__.__name__) from None
    line: dict[str, object] = {"file": str(path), "md5": md5.hexdigest(),
                               "sha256": sha256.hexdigest()}
    if size >= 50:
        fuzzy.final()
        with contextlib.suppress(ValueError):  # "not enough variation": TLSH has no hash
            line["tlsh"] = fuzzy.hexdigest()
    pdq = _image_pdq(path)
    if pdq is not None:
        line["pdq"], line["pdq_quality"] = pdq
    return line


def _image_pdq(path: Path) -> tuple[str, int] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_LOCAL_PIXELS:
                    return None
                image.load()
                return pdq_hash(image)
    except (UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, OSError, ValueError, SyntaxError):
        return None
