"""Evidence files: sniff the real type from the first bytes and refuse files that lie.

A file named ``facture.pdf`` that starts with ``MZ`` is a Windows program: an analyst who opens
it from the desk would run the attacker's code. So the claimed type (extension and declared
content type) must agree with the magic bytes, executables are refused whatever their name, text
must be UTF-8 without NUL bytes, and the file is kept sealed and served only as a download.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from tocsin.core.errors import DomainError, TooLarge
from tocsin.core.filetypes import sniff_magic

MAX_FILE_BYTES = 400_000
MAX_FILES = 4

# Extension -> the sniffed type it must have.
EXTENSIONS = {
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
    "pdf": "application/pdf", "zip": "application/zip",
    "txt": "text/plain", "log": "text/plain", "csv": "text/plain", "eml": "message/rfc822",
    "json": "text/plain",
}
# Programs and scripts: refused whatever they claim to be.
_EXECUTABLE: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows program (MZ)"),
    (b"\x7fELF", "an ELF program"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O program"),
    (b"\xfe\xed\xfa\xcf", "a Mach-O program"),
    (b"\xca\xfe\xba\xbe", "a Java class or Mach-O program"),
    (b"#!", "a script"),
)
# Declared types browsers send for a file whose real type is the second.
_ALIASES = frozenset({
    ("application/x-zip-compressed", "application/zip"), ("application/json", "text/plain"),
    ("image/jpg", "image/jpeg"), ("image/pjpeg", "image/jpeg"),
})
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class EvidenceRefused(DomainError):
    """The file is not what it claims, or not a type the desk accepts (422, nothing stored)."""

    status = 422
    code = "invalid_evidence"


class EvidenceTooLarge(TooLarge):
    pass


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    media_type: str
    data: bytes
    sha256: str


def sniff(data: bytes) -> str | None:
    """Return the media type the first bytes show, or None if they show none we accept."""
    binary = sniff_magic(data)
    if binary is not None:
        return binary
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    head = text[:2000]
    if re.search(r"^(Received|From|Return-Path|Message-ID|Subject|Date):", head, re.M | re.I):
        return "message/rfc822"
    return "text/plain"


def safe_name(filename: str) -> str:
    """Return a file name with no path and only safe characters."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_NAME.sub("_", base).strip("._") or "file"
    return cleaned[-100:]


def check(filename: str, declared_type: str | None, data: bytes) -> CheckedFile:
    """Check one upload; raise ``EvidenceRefused``/``EvidenceTooLarge`` naming the problem."""
    name = safe_name(filename)
    if len(data) > MAX_FILE_BYTES:
        raise EvidenceTooLarge(f"{name}: {len(data)} bytes; at most {MAX_FILE_BYTES} per file")
    if not data:
        raise EvidenceRefused(f"{name}: the file is empty")
    for magic, what in _EXECUTABLE:
        if data.startswith(magic):
            raise EvidenceRefused(f"{name}: the file is {what}; programs are not accepted")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    claimed = EXTENSIONS.get(extension)
    if claimed is None:
        known = ", ".join(sorted(EXTENSIONS))
        raise EvidenceRefused(f"{name}: extension {extension or '(none)'!r} not accepted "
                              f"(accepted: {known})")
    actual = sniff(data)
    if actual is None:
        raise EvidenceRefused(f"{name}: the content is not a type the desk accepts")
    # An e-mail is text; a .txt holding a pasted e-mail is fine, an .eml must look like one.
    agrees = actual == claimed or (claimed == "text/plain" and actual == "message/rfc822")
    if not agrees:
        raise EvidenceRefused(f"{name}: claims to be {claimed} but its content is {actual}")
    declared = (declared_type or "").split(";")[0].strip().lower()
    generic = {"", "application/octet-stream"}
    if declared not in generic and declared != claimed and not (
        declared.startswith("text/") and claimed in ("text/plain", "message/rfc822")
    ) and (declared, claimed) not in _ALIASES:
        raise EvidenceRefused(f"{name}: declared as {declared} but its content is {actual}")
    return CheckedFile(name, claimed, data, hashlib.sha256(data).hexdigest())
