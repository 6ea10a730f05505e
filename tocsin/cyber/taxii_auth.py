"""Who may speak TAXII here, and in what: HTTP Basic (or bearer) for partners and analysts,
throttled like the login form, and the TAXII 2.1 media type (OASIS TAXII 2.1, §1.6.8, §3.3).

Kept apart from the routes (``taxii_api``) because it is the security-sensitive half: a
refused Basic credential must say nothing about the account (issue 19, finding 8), and a
verified one is remembered only as a salted digest.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import threading
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from tocsin.core.auth import Principal, Role
from tocsin.core.auth import service as auth_service
from tocsin.core.auth.models import UserAccount
from tocsin.core.auth.permissions import Allow, oauth2_scheme
from tocsin.core.auth.throttle import Guard
from tocsin.core.runtime import DbSession, Runtime

TAXII = "application/taxii+json;version=2.1"


class BasicCache:
    """Remember verified Basic credentials for a minute, per worker.

    A TAXII client sends its password with every request; verifying Argon2 each time (a quarter
    of a second on a busy machine, by design) would make a paged download crawl. Only a salted
    digest of the pair is kept, in memory; the account is re-read on every hit, so a deactivated
    account is refused at once.
    """

    TTL = 60.0
    SIZE = 1000

    def __init__(self) -> None:
        self._salt = secrets.token_bytes(16)
        self._entries: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def _key(self, name: str, password: str) -> str:
        return hashlib.sha256(self._salt + f"{name}\x00{password}".encode()).hexdigest()

    def get(self, db: DbSession, name: str, password: str) -> UserAccount | None:
        key = self._key(name, password)
        with self._lock:
            hit = self._entries.get(key)
        if hit is None or hit[1] < time.monotonic():
            return None
        user = db.get(UserAccount, hit[0])
        if user is None or not user.is_active or user.username != name:
            return None
        return user

    def put(self, name: str, password: str, user_id: int) -> None:
        with self._lock:
            if len(self._entries) >= self.SIZE:
                self._entries.clear()
            self._entries[self._key(name, password)] = (user_id, time.monotonic() + self.TTL)


def _basic_cache(request: Request) -> BasicCache:
    runtime: Runtime = request.app.state.runtime
    return runtime.states.shared(BasicCache, BasicCache)  # made by the first request needing it


class TaxiiClient(Allow):
    """Admit partners (and analysts) by HTTP Basic or bearer token; 401 asks for Basic.

    Basic credentials go through the sign-in throttle shared with the login form (a TAXII
    client is one more place to guess passwords). Any refusal of Basic credentials is the same
    401, a right password of a role that may not use TAXII included: a distinct answer there
    would tell a guesser the password is right (issue 19, finding 8).
    """

    def __call__(  # type: ignore[override]
        self, request: Request, db: DbSession,
        token: Annotated[str | None, Depends(oauth2_scheme)],
    ) -> Principal:
        header = request.headers.get("authorization", "")
        user = None
        if header[:6].lower() == "basic ":
            try:
                name, _, password = base64.b64decode(header[6:], validate=True).decode(
                    "utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise self._challenge("malformed Basic credentials") from None
            user = self._basic(request, db, name[:64], password[:256])
        elif token:
            user = auth_service.resolve_token(db, token)
        if user is None:
            raise self._challenge("authentication required (HTTP Basic)")
        role = Role(user.role)
        if role not in self.roles:
            # Only a bearer token gets here (Basic refused it above): its holder already knows
            # the account, so saying why is no oracle.
            raise HTTPException(403, f"role {role.value!r} may not use the TAXII API")
        principal = Principal(user_id=user.id, username=user.username, role=role)
        request.state.principal = principal
        return principal

    def _basic(self, request: Request, db: DbSession, name: str, password: str) -> UserAccount:
        guard = Guard(request)
        guard.check(name)
        cache = _basic_cache(request)
        user = cache.get(db, name, password)
        if user is None:
            try:
                user = auth_service.authenticate(db, username=name, password=password)
            except auth_service.AuthFailed:
                user = None
            if user is None or Role(user.role) not in self.roles:
                db.rollback()
                guard.failed(name)
                raise self._challenge("wrong username or password")
            db.commit()  # a rehashed password, if any
            cache.put(name, password, user.id)
        guard.succeeded(name)
        return user

    @staticmethod
    def _challenge(message: str) -> HTTPException:
        return HTTPException(401, message, headers={"WWW-Authenticate":
                                                    'Basic realm="Tocsin TAXII"'})


Client = Annotated[Principal, Depends(TaxiiClient(Role.partner, Role.analyst))]


def accepts(request: Request) -> None:
    """Refuse (406) a request that does not accept TAXII 2.1 JSON."""
    accept = request.headers.get("accept", "").replace(" ", "").lower()
    ok = any(part.split(";q=")[0] in ("application/taxii+json;version=2.1",
                                     "application/taxii+json")
             for part in accept.split(","))
    if not ok:
        raise HTTPException(406, f"Accept must be {TAXII} (got {accept or 'nothing'!r})")


Accepts = Annotated[None, Depends(accepts)]
