"""Pure ASGI middlewares (not ``BaseHTTPMiddleware``, whose streaming and context bugs are known).

- ``BodyLimit`` refuses a body over the limit with 413, whether announced by Content-Length or
  streamed in chunks, before any handler sees it.
- ``SecurityHeaders`` adds CSP without inline script, frame-ancestors 'none', a strict referrer
  policy and nosniff to every response.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tocsin.core.errors import error_body

# Content types a request body may have; anything else is a 415 before it reaches a parser.
ALLOWED_BODY_TYPES = frozenset(
    {
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/xml",
        "text/xml",
        "application/cap+xml",
        "application/atom+xml",
        "application/stix+json",
        "application/taxii+json",
        "text/plain",
        "text/csv",
    }
)


# A protocol with its own error shape (TAXII 2.1 §3.6.1 error objects) registers it for its
# path prefix, so a refusal made here, before any route runs, still speaks that protocol.
ErrorShape = Callable[[int, str, str], tuple[bytes, bytes]]  # -> (body, content type)
_ERROR_SHAPES: dict[str, ErrorShape] = {}


def register_error_shape(prefix: str, shape: ErrorShape) -> None:
    """Answer the refusals of this middleware under ``prefix`` with ``shape``."""
    _ERROR_SHAPES[prefix] = shape


async def send_error(send: Send, status: int, code: str, message: str, path: str = "") -> None:
    """Answer a refusal made before any route runs, in the shared (or the path's) error shape."""
    body, ctype = json.dumps(error_body(code, message)).encode(), b"application/json"
    for prefix, shape in _ERROR_SHAPES.items():
        if path.startswith(prefix):
            body, ctype = shape(status, code, message)
            break
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", ctype),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` (413) and unknown body content types (415)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        path = str(scope.get("path", ""))
        length = headers.get(b"content-length")
        if length is not None:
            try:
                announced = int(length)
            except ValueError:
                await send_error(send, 400, "bad_request", "Content-Length is not a number", path)
                return
            if announced > self.max_bytes:
                await send_error(
                    send, 413, "payload_too_large", f"body over {self.max_bytes} bytes", path
                )
                return
        has_body = (length is not None and length != b"0") or b"transfer-encoding" in headers
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().decode("latin-1").lower()
        if has_body and ctype not in ALLOWED_BODY_TYPES:
            await send_error(
                send,
                415,
                "unsupported_media_type",
                f"content type {ctype or '(none)'!r} is not accepted",
                path,
            )
            return

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not response_started:
                await send_error(
                    send, 413, "payload_too_large", f"body over {self.max_bytes} bytes", path
                )


def security_headers(img_sources: str = "") -> list[tuple[bytes, bytes]]:
    """The headers every page and API answer carries (``img_sources``: extra image origins)."""
    img = f"img-src 'self' data: blob: {img_sources}".strip()
    return [
        (
            b"content-security-policy",
            (
                "default-src 'self'; script-src 'self'; style-src 'self'; "
                f"{img}; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                "form-action 'self'; frame-ancestors 'none'"
            ).encode(),
        ),
        (b"referrer-policy", b"no-referrer"),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)"),
    ]


def with_headers(send: Send, headers: list[tuple[bytes, bytes]]) -> Send:
    """``send``, adding ``headers`` to the response start (except those it already has)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            existing = {k.lower() for k, _ in message.get("headers", [])}
            extra: list[Any] = [(k, v) for k, v in headers if k not in existing]
            message["headers"] = list(message.get("headers", [])) + extra
        await send(message)

    return sending


class SecurityHeaders:
    """Add ``security_headers`` to every response."""

    def __init__(self, app: ASGIApp, *, headers: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        await self.app(scope, receive, with_headers(send, self.headers))
