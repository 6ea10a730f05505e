"""TAXII 2.1 server (OASIS TAXII 2.1, §4-5): discovery, one API root, collections, objects.

Partners are TAXII clients: they authenticate with HTTP Basic (their Tocsin account, Argon2
verified; a bearer token works too) and must speak ``application/taxii+json;version=2.1``
(406 for another Accept, 415 for another Content-Type). Every error on these routes is a TAXII
error object (§3.6.1), not the rest of the API's shape. TLP rules apply to every answer: RED is
never sent, AMBER only to the partners named on it. Who may call, and how they prove it, is in
``taxii_auth``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tocsin.core.auth import Principal, Role
from tocsin.core.db import bulk_batch, utcnow
from tocsin.core.errors import DomainError
from tocsin.core.middleware import register_error_shape
from tocsin.core.runtime import AppRuntime, DbSession
from tocsin.cyber import exchange, stix
from tocsin.cyber.models import CyberTaxiiStatus
from tocsin.cyber.taxii_auth import TAXII, Accepts, Client

log = logging.getLogger("tocsin.cyber.taxii")

API_ROOT = "tocsin"
COLLECTIONS: dict[str, dict[str, Any]] = {
    "3d6c7a58-5d8f-4b0a-9a51-5f1f4f7e2a01": {
        "alias": stix.OWN, "title": "Tocsin indicators and advisories",
        "description": "Indicators confirmed by Tocsin analysts and published advisories.",
        "can_read": True, "can_write": False},
    "8b1e0c3d-2f6a-4d7e-b5c9-0a4e6f3d9b12": {
        "alias": stix.EXCHANGE, "title": "Partner exchange",
        "description": "Objects shared by partners, under their TLP markings.",
        "can_read": True, "can_write": True},
}
MAX_LIMIT = 500


class TaxiiJSON(JSONResponse):
    """JSON written as ASCII (escapes for the rest): a stored string that UTF-8 cannot carry
    (an unpaired surrogate kept from before such bundles were refused) never makes a 500."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


def taxii_error(status: int, title: str, description: str = "",
                headers: dict[str, str] | None = None) -> JSONResponse:
    """Return a TAXII 2.1 error message (§3.6.1)."""
    body = {"title": title, "description": description, "http_status": str(status)}
    return TaxiiJSON(body, status_code=status, media_type=TAXII, headers=headers)


def _middleware_error(status: int, code: str, message: str) -> tuple[bytes, bytes]:
    body = {"title": code.replace("_", " "), "description": message, "http_status": str(status)}
    return json.dumps(body).encode(), TAXII.encode()


# Refusals made before a route runs (body over the global limit, unknown content type).
register_error_shape("/taxii2/", _middleware_error)


class TaxiiRoute(APIRoute):
    """Turn every failure on a TAXII route into a TAXII error object."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as exc:
                return taxii_error(exc.status, exc.code.replace("_", " "), exc.message,
                                   exc.headers)
            except HTTPException as exc:
                title = {401: "unauthorized", 403: "forbidden", 404: "not found",
                         406: "not acceptable", 415: "unsupported media type",
                         413: "payload too large"}.get(exc.status_code, "error")
                return taxii_error(exc.status_code, title, str(exc.detail),
                                   dict(exc.headers or {}))
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()))
                return taxii_error(400, "invalid request", f"{where}: {first.get('msg', '')}")

        return route


router = APIRouter(prefix="/taxii2", tags=["taxii"], route_class=TaxiiRoute)


def taxii(body: dict[str, Any], status: int = 200,
          headers: dict[str, str] | None = None) -> JSONResponse:
    return TaxiiJSON(body, status_code=status, media_type=TAXII, headers=headers)


def _partner(who: Principal) -> str | None:
    """Analysts see every shareable object; a partner sees what TLP lets it see."""
    return None if who.role is Role.analyst else who.username


def _collection(collection_id: str) -> dict[str, Any]:
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise HTTPException(404, f"no collection {collection_id!r} in API root {API_ROOT!r}")
    return found


def _collection_out(collection_id: str) -> dict[str, Any]:
    found = COLLECTIONS[collection_id]
    return {"id": collection_id, "title": found["title"], "description": found["description"],
            "alias": found["alias"], "can_read": found["can_read"],
            "can_write": found["can_write"], "media_types": ["application/stix+json;version=2.1"]}


@router.get("/")
def discovery(request: Request, who: Client, _: Accepts) -> JSONResponse:
    """TAXII discovery (§4.1): where the API root lives."""
    base = str(request.base_url).rstrip("/")
    return taxii({"title": "Tocsin TAXII 2.1", "description": "Cyber desk of Tocsin.",
                  "contact": "cyber desk", "default": f"{base}/taxii2/{API_ROOT}/",
                  "api_roots": [f"{base}/taxii2/{API_ROOT}/"]})


@router.get("/tocsin/")
def api_root(who: Client, _: Accepts) -> JSONResponse:
    """The API root (§4.2)."""
    return taxii({"title": "Tocsin", "description": "Indicators, advisories, partner exchange.",
                  "versions": [TAXII], "max_content_length": exchange.MAX_BYTES})


@router.get("/tocsin/status/{status_id}/")
def get_status(status_id: str, db: DbSession, who: Client, _: Accepts) -> JSONResponse:
    """The status of an add-objects request (§4.3), to the account that made it."""
    from tocsin.cyber.models import CyberTaxiiStatus

    row = db.get(CyberTaxiiStatus, status_id[:36])
    if row is None or row.owner != who.username:
        raise HTTPException(404, f"no status {status_id!r}")
    return taxii(exchange.status_out(row))


@router.get("/tocsin/collections/")
def collections(who: Client, _: Accepts) -> JSONResponse:
    """The collections of the API root (§5.1)."""
    return taxii({"collections": [_collection_out(cid) for cid in COLLECTIONS]})


@router.get("/tocsin/collections/{collection_id}/")
def collection(collection_id: str, who: Client, _: Accepts) -> JSONResponse:
    """One collection (§5.2)."""
    _collection(collection_id)
    return taxii(_collection_out(collection_id))


def _timestamp(text: str | None, name: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(400, f"{name} is not a timestamp: {text[:40]!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _objects(db: DbSession, who: Principal, collection_id: str, *, limit: int,
             next_token: str | None, added_after: str | None, ids: list[str] | None,
             types: list[str] | None, version: str | None) -> JSONResponse:
    found = _collection(collection_id)
    if not found["can_read"]:
        raise HTTPException(403, "this collection cannot be read")
    after_id = None
    if next_token:
        if not next_token.isdigit() or len(next_token) > 18:
            raise HTTPException(400, f"next is not a token this server gave: {next_token[:40]!r}")
        after_id = int(next_token)
    if version not in (None, "last", "all"):
        raise HTTPException(400, "match[version] supports 'last' and 'all'")
    page = exchange.query(db, collection=found["alias"], partner=_partner(who),
                          added_after=_timestamp(added_after, "added_after"), after_id=after_id,
                          limit=limit, ids=ids, types=types, all_versions=version == "all")
    body: dict[str, Any] = {"more": page.more}
    headers = {}
    if page.rows:
        body["objects"] = [row.body for row in page.rows]
        headers = {"X-TAXII-Date-Added-First": stix.format_time(page.rows[0].date_added),
                   "X-TAXII-Date-Added-Last": stix.format_time(page.rows[-1].date_added)}
        if page.more:
            body["next"] = str(page.rows[-1].id)
    return taxii(body, headers=headers)


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.get("/tocsin/collections/{collection_id}/objects/")
def get_objects(
    collection_id: str, db: DbSession, who: Client, _: Accepts, limit: Limit = 100,
    next: Annotated[str | None, Query(max_length=40)] = None,
    added_after: Annotated[str | None, Query(max_length=40)] = None,
    match_id: Annotated[str | None, Query(alias="match[id]", max_length=2000)] = None,
    match_type: Annotated[str | None, Query(alias="match[type]", max_length=500)] = None,
    match_version: Annotated[str | None, Query(alias="match[version]", max_length=40)] = None,
) -> JSONResponse:
    """Objects of a collection (§5.3), paged with ``limit``/``next``, filtered by date added."""
    return _objects(db, who, collection_id, limit=limit, next_token=next,
                    added_after=added_after,
                    ids=match_id.split(",") if match_id else None,
                    types=match_type.split(",") if match_type else None, version=match_version)


@router.get("/tocsin/collections/{collection_id}/objects/{object_id}/")
def get_object(
    collection_id: str, object_id: str, db: DbSession, who: Client, _: Accepts,
    limit: Limit = 100, next: Annotated[str | None, Query(max_length=40)] = None,
    added_after: Annotated[str | None, Query(max_length=40)] = None,
    match_version: Annotated[str | None, Query(alias="match[version]", max_length=40)] = None,
) -> JSONResponse:
    """One object's versions (§5.5); 404 if this client may see none of them."""
    response = _objects(db, who, collection_id, limit=limit, next_token=next,
                        added_after=added_after, ids=[object_id[:100]], types=None,
                        version=match_version)
    if b'"objects"' not in response.body:
        raise HTTPException(404, f"no object {object_id[:100]!r} in this collection")
    return response


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit():
        exchange.check_size(int(declared))  # refused before the body is even read
    raw = await request.body()
    exchange.check_size(len(raw))
    return raw


def store_bundle(db: Session, checked: list[exchange.Checked], *, source: str,
                 collection: str, requested_at: dt.datetime,
                 finish: Callable[[Session, CyberTaxiiStatus], None] | None = None,
                 ) -> dict[str, Any]:
    """Write a checked bundle ``exchange.BATCH`` objects per transaction; return its status.

    Runs in a thread (blocking database work). Each batch commits, giving the write lock back
    (an SOS waiting on it goes next). A batch that hits a concurrent insert of the same object
    is tried once more (it then finds it "already present"); a batch that fails otherwise stops
    the import and the objects not stored are the status's failures (sending the bundle again
    completes it: storing is idempotent). ``finish`` adds to the status's transaction (audit).
    """
    successes: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []  # ids of another source's objects (never stored)
    failures: list[dict[str, Any]] = []
    now = requested_at
    parts = exchange.batches(checked)
    for number, part in enumerate(parts):
        for attempt in (1, 2):
            # Each batch its own date_added: a client paging with added_after while the import
            # runs must not miss later batches stamped with an instant it has already passed.
            now = max(utcnow(), now)
            try:
                with bulk_batch(db):  # commits; the SOS writer's turn comes between batches
                    done, foreign = exchange.store_batch(db, part, source=source,
                                                         collection=collection, now=now)
            except IntegrityError:  # bulk_batch rolled the batch back
                if attempt == 1:
                    continue
                failures = exchange.failed(
                    [i for p in parts[number:] for i in p], "not stored: concurrent write; "
                    "send the bundle again")
            except SQLAlchemyError:
                log.exception("TAXII import from %s stopped at batch %d", source, number)
                failures = exchange.failed(
                    [i for p in parts[number:] for i in p], "not stored: database error; "
                    "send the bundle again")
            else:
                successes.extend(done)
                refused.extend(foreign)
            break
        if failures:
            break
    status = exchange.record_status(db, source=source, requested_at=requested_at,
                                    successes=successes, failures=refused + failures)
    if finish is not None:
        finish(db, status)
    body = exchange.status_out(status)
    db.commit()
    return body


@router.post("/tocsin/collections/{collection_id}/objects/", status_code=202)
async def add_objects(collection_id: str, request: Request, db: DbSession, who: Client,
                      _: Accepts, runtime: AppRuntime,
                      raw: Annotated[bytes, Depends(_body)]) -> JSONResponse:
    """Add a bundle or envelope (§5.4): validated whole, then stored; answers a status.

    Validation runs in the process pool (``exchange.STIX_LANE``: 503 with Retry-After when
    full), storage in short transactions (``store_bundle``): the event loop that also answers
    SOS is never held by a bundle.
    """
    found = _collection(collection_id)
    ctype = request.headers.get("content-type", "").replace(" ", "").lower()
    if ctype not in ("application/taxii+json;version=2.1", "application/taxii+json"):
        raise HTTPException(415, f"Content-Type must be {TAXII} (got {ctype or 'nothing'!r})")
    if not found["can_write"]:
        raise HTTPException(403, "this collection cannot be written to")
    requested_at = utcnow()
    checked = await runtime.offload.run(exchange.STIX_LANE, exchange.check_bundle, raw,
                                        who.username)
    body = await run_in_threadpool(store_bundle, db, checked, source=who.username,
                                   collection=found["alias"], requested_at=requested_at)
    return taxii(body, status=202)
