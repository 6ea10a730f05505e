"""Sealing of sensitive fields at rest (AES-256-GCM with the deployment's key).

A sealed column stores ``version | key id | nonce | ciphertext+tag``. The column's name is bound
as associated data, so a sealed value copied into another column (or another table) fails to
open instead of leaking. Old keys stay listed for reading during a rotation; new writes always
use the current key. There is no master key and no escrow: whoever runs the deployment holds the
key, and every authorised read of a sealed field is written to the audit log by the domain.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from tocsin.core.entropy import random_bytes

_VERSION = b"\x01"
_NONCE_BYTES = 12
_KEY_ID_BYTES = 4


class SealError(Exception):
    """A sealed value could not be opened (wrong key, tampering, or a copy from another column)."""


class SealKeyError(Exception):
    """The seal key is missing or malformed."""


def _decode_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError as exc:
        raise SealKeyError("TOCSIN_SEAL_KEY must be base64 (urlsafe) of 32 random bytes") from exc
    if len(key) != 32:
        raise SealKeyError("TOCSIN_SEAL_KEY must decode to exactly 32 bytes")
    return key


def generate_key() -> str:
    """Return a fresh key in the text form ``TOCSIN_SEAL_KEY`` expects."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"tocsin-seal-key-id" + key).digest()[:_KEY_ID_BYTES]


def key_id(text: str) -> bytes:
    """Return the 4-byte id a key writes in the header of every value it seals."""
    return _key_id(_decode_key(text))


def key_id_of_blob(blob: bytes) -> bytes:
    """Return the id of the key a sealed value was sealed with (read from its header)."""
    return bytes(blob[1 : 1 + _KEY_ID_BYTES])


class Sealer:
    """Seal and open byte strings with the current key; open with any known key."""

    def __init__(self, current_key: str, old_keys: list[str] | None = None) -> None:
        current = _decode_key(current_key)
        self._current_id = _key_id(current)
        self._aeads = {self._current_id: AESGCM(current)}
        for text in old_keys or []:
            key = _decode_key(text)
            self._aeads.setdefault(_key_id(key), AESGCM(key))

    @property
    def current_key_id(self) -> bytes:
        """The id of the key new values are sealed with."""
        return self._current_id

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Encrypt ``plaintext`` bound to ``context`` (the column it belongs to)."""
        nonce = random_bytes(_NONCE_BYTES)
        sealed = self._aeads[self._current_id].encrypt(nonce, plaintext, context.encode())
        return _VERSION + self._current_id + nonce + sealed

    def open(self, blob: bytes, context: str) -> bytes:
        """Decrypt a value sealed for ``context``; raise ``SealError`` if it cannot be opened."""
        if len(blob) < 1 + _KEY_ID_BYTES + _NONCE_BYTES + 16 or blob[:1] != _VERSION:
            raise SealError("not a sealed value")
        key_id = blob[1 : 1 + _KEY_ID_BYTES]
        aead = self._aeads.get(key_id)
        if aead is None:
            raise SealError("sealed with a key this deployment does not hold")
        nonce = blob[1 + _KEY_ID_BYTES : 1 + _KEY_ID_BYTES + _NONCE_BYTES]
        try:
            return aead.decrypt(nonce, blob[1 + _KEY_ID_BYTES + _NONCE_BYTES :], context.encode())
        except InvalidTag as exc:
            raise SealError(f"sealed value for {context!r} failed authentication") from exc


# Where a sealed column finds its keyring: on the dialect of the engine that runs the statement.
# SQLAlchemy gives a type's ``process_bind_param``/``process_result_value`` the dialect and
# nothing else (no session, no connection), and every engine has a dialect object of its own;
# so ``attach(engine, sealer)`` stores the sealer there and each worker's engine seals with its
# worker's key, however many workers (tests) share the process. A session ``info`` entry read
# by an ORM event would miss Core statements (``insert(...).values``, the relay's claim, the
# key rotation's batches), which bind through the same types.
_ATTR = "tocsin_sealer"

# The process's default sealer, for engines no runtime built and nothing attached to: Alembic's
# migrations (their engine is made by ``migrations/env.py``), one-shot CLI commands, benchmarks
# and tests that open a bare engine. A runtime never relies on it: ``tocsin.app.build_runtime``
# attaches its sealer to its engines. Kept because those callers are many and each runs with a
# single key; an engine with a sealer attached never reads it.
_default: Sealer | None = None


def attach(engine: Engine, sealer: Sealer) -> None:
    """Make ``engine``'s sealed columns seal and open with ``sealer`` (see ``_ATTR``)."""
    setattr(engine.dialect, _ATTR, sealer)


def sealer_of(dialect: Dialect) -> Sealer:
    """Return the sealer attached to ``dialect``'s engine, else the process's default.

    Fails loudly when there is neither: silently storing plaintext is not an option.
    """
    found: Sealer | None = getattr(dialect, _ATTR, None)
    if found is not None:
        return found
    return active_sealer()


def configure(sealer: Sealer) -> None:
    """Install the process's default sealer (see ``_default``): for engines with none attached."""
    global _default
    _default = sealer


def active_sealer() -> Sealer:
    """Return the process's default sealer, or fail loudly."""
    if _default is None:
        raise SealKeyError(
            "no seal key: attach one to the engine (tocsin.core.seal.attach) or install a "
            "default (tocsin.core.seal.configure) at start"
        )
    return _default


def load_sealer(*, key: str, old_keys: str, var_dir: Path, allow_generate: bool) -> Sealer:
    """Build the sealer from settings; in embedded mode generate ``var/seal.key`` on first start."""
    olds = [k for k in old_keys.split(",") if k.strip()]
    if key:
        return Sealer(key, olds)
    key_file = var_dir / "seal.key"
    if key_file.exists():
        return Sealer(key_file.read_text().strip(), olds)
    if not allow_generate:
        raise SealKeyError("TOCSIN_SEAL_KEY is required in cluster mode (PostgreSQL/NATS)")
    var_dir.mkdir(parents=True, exist_ok=True)
    text = generate_key()
    # O_EXCL: two workers starting at once must not write two different keys.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return Sealer(key_file.read_text().strip(), olds)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
    return Sealer(text, olds)


class SealedText(TypeDecorator[str]):
    """A text column sealed at rest; ``context`` names the column (bound as associated data)."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return sealer_of(dialect).seal(value.encode("utf-8"), self.context)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return sealer_of(dialect).open(bytes(value), self.context).decode("utf-8")


class SealedJSON(TypeDecorator[Any]):
    """A JSON value (e.g. a position trail) sealed at rest."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        data = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return sealer_of(dialect).seal(data, self.context)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return json.loads(sealer_of(dialect).open(bytes(value), self.context))
