"""Signal types of hash lists: names, well-formed values, the names other tools use.

Our names, and how they are written:

- ``pdq``: 256-bit PDQ of an image, 64 lowercase hex digits (the same name in ThreatExchange
  and HMA), matched at a Hamming distance;
- ``md5`` / ``sha256``: of a file, 32 / 64 lowercase hex digits; ThreatExchange and HMA call
  them ``video_md5`` / ``video_sha256`` (their only file-digest signal types), read as ours;
- ``tlsh``: TLSH of a text's UTF-8 bytes or of a file, ``T1`` and 70 uppercase hex digits
  (``text_tlsh`` in ThreatExchange's extension), matched at a TLSH distance;
- ``text_sha256``: SHA-256 of the normalised text (ours; no exchange format carries it).

``dhash`` (our own 64-bit difference hash until issue 21) is refused with a message saying why:
no list made elsewhere ever matched it (bit order reversed against ``imagehash``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tocsin.core.errors import Invalid

# Hex-only types and their digit counts (``tlsh`` has its own form: ``TLSH``).
SIGNAL_LENGTHS = {"text_sha256": 64, "sha256": 64, "md5": 32, "pdq": 64}
SIGNAL_TYPES = frozenset({*SIGNAL_LENGTHS, "tlsh"})
CATEGORIES = frozenset({"hate", "terrorism_apology", "call_to_violence", "other"})
# ThreatExchange / HMA signal-type names -> ours (ours are accepted as they are).
FOREIGN_NAMES = {"video_md5": "md5", "video_sha256": "sha256", "text_tlsh": "tlsh"}
# Ours -> the name their libraries know (``text_sha256`` has none: left out of their formats).
EXCHANGE_NAMES = {"pdq": "pdq", "md5": "video_md5", "sha256": "video_sha256",
                  "tlsh": "text_tlsh"}
_HEX = re.compile(r"^[0-9a-f]+$")
TLSH = re.compile(r"^T1[0-9A-F]{70}$")

Row = tuple[str, str, str, str]  # signal_type, signal, category, source


@dataclass(frozen=True)
class Signal:
    """One validated row of a hash list."""

    signal_type: str
    signal: str
    category: str
    source: str


def canonical_type(name: str, where: str = "signal") -> str:
    """Return our name for the signal type ``name`` (ours or ThreatExchange's), or refuse it."""
    name = name.strip()
    if name in SIGNAL_TYPES:
        return name
    if name in FOREIGN_NAMES:
        return FOREIGN_NAMES[name]
    if name == "dhash":
        raise Invalid(f"{where}: dhash lists are no longer matched (issue 21: our dHash matched "
                      f"no list made elsewhere); hash the images with PDQ "
                      f"(`tocsin watch hash FILE`)")
    known = sorted(SIGNAL_TYPES | set(FOREIGN_NAMES))
    raise Invalid(f"{where}: unknown signal type {name!r} (expected one of {', '.join(known)})")


def validate_signal(signal_type: str, signal: str, where: str = "signal") -> str:
    """Return ``signal`` in its stored form if it is a well-formed hash of ``signal_type``.

    ``signal_type`` must already be ours (see :func:`canonical_type`).
    """
    if signal_type == "tlsh":
        value = signal.strip().upper()
        if not TLSH.match(value):
            raise Invalid(f"{where}: a tlsh signal is T1 followed by 70 hexadecimal digits")
        return value
    length = SIGNAL_LENGTHS.get(signal_type)
    if length is None:
        canonical_type(signal_type, where)  # raises, naming what is known
        raise Invalid(f"{where}: give our name for the signal type, not {signal_type!r}")
    value = signal.strip().lower()
    if len(value) != length or not _HEX.match(value):
        raise Invalid(f"{where}: a {signal_type} signal is {length} hexadecimal digits")
    return value
