"""One error shape for every failure: ``{"error": {"code", "message", "details"}}``.

Domains raise ``DomainError`` subclasses (or FastAPI's ``HTTPException``); the handlers here turn
them into that shape. Nothing ever reaches the client as a traceback: unexpected exceptions are
logged server-side and answered with a bare 500, and a database that is unreachable is a 503 with
``Retry-After`` (never a false success).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("tocsin.errors")

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    503: "unavailable",
}


class DomainError(Exception):
    """A refusal the domain explains: the router answers ``status`` with ``code`` and message."""

    status = 400
    code = "bad_request"

    def __init__(
        self, message: str, *, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep details and headers when raised in a worker process (``tocsin.core.offload``).
        return (_rebuild, (type(self), self.message, self.details, self.headers))


def _rebuild(
    cls: type[DomainError], message: str, details: Any, headers: dict[str, str] | None
) -> DomainError:
    return cls(message, details=details, headers=headers)


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Invalid(DomainError):
    status = 422
    code = "invalid_input"


class TooLarge(DomainError):
    """An upload or document over its own limit (below the request-wide body limit)."""

    status = 413
    code = "payload_too_large"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """Build the error shape every response uses."""
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Return a JSON error response in the shared shape."""
    return JSONResponse(
        error_body(code, message, jsonable_encoder(details)), status_code=status, headers=headers
    )


def http_error_response(exc: StarletteHTTPException) -> JSONResponse:
    """Return the shared-shape answer to an ``HTTPException`` (also used outside the router)."""
    code = _STATUS_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    details = None if isinstance(exc.detail, str) else exc.detail
    return error_response(exc.status_code, code, message, details, dict(exc.headers or {}))


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        details.append({"location": ".".join(loc), "message": err.get("msg", "invalid")})
    return details


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the shared shape."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return http_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        first = details[0] if details else {"location": "body", "message": "invalid"}
        message = f"invalid input at {first['location']}: {first['message']}"
        return error_response(422, "invalid_input", message, details)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeoutError)
    async def _db_down(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", exc.__class__.__name__)
        return error_response(
            503,
            "unavailable",
            "the database is unavailable; nothing was recorded, retry shortly",
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(DataError)
    async def _unstorable(_: Request, exc: DataError) -> JSONResponse:
        # A value the schema let through but the database cannot hold (a number past its
        # integer range, a NUL character in PostgreSQL text): the input's fault, nothing stored.
        reason = str(exc.orig).splitlines()[0][:200] if exc.orig is not None else "bad value"
        return error_response(422, "invalid_input", f"invalid input: {reason}")

    @app.exception_handler(OverflowError)
    async def _out_of_range(_: Request, exc: OverflowError) -> JSONResponse:
        # SQLite binds integers up to 2**63 - 1 and raises this (not a DataError) past it; a
        # date far past year 9999 raises it too: a number the input chose, nothing stored.
        return error_response(422, "invalid_input", "invalid input: a number is out of range")

    @app.exception_handler(DBAPIError)
    async def _db_error(_: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return await _db_down(_, exc)
        log.exception("database error")
        return error_response(500, "internal_error", "internal error; nothing was recorded")

    @app.exception_handler(RecursionError)
    async def _too_deep(_: Request, exc: RecursionError) -> JSONResponse:
        # JSON (or XML) nested deeper than the parser's stack: the input's fault, nothing stored.
        return error_response(400, "bad_request", "input nested too deeply")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_response(500, "internal_error", "internal error")
