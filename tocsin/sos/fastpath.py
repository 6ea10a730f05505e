"""A direct ASGI path for ``POST /api/v1/sos``: the route's intake without the framework's toll.

Why: on the project's 2-core machine the acknowledgement path is bound by the event loop's CPU,
and a py-spy profile of the server at saturation put about a third of that loop in FastAPI's
machinery for this one route (matching every route in turn, solving dependencies, parsing query
and header parameters, the per-request exit stack), more than the SOS intake itself; once that
was gone, a third of what was left went to the middleware stack in front of it (FastAPI's
telemetry and body-limit layers, the server-error layer, our body limit and security headers,
each wrapping every message sent). BENCHMARKS.md, "SOS acknowledgement", has the figures.

So the fast path sits in front of the whole application (``tocsin.app.TocsinApp.add_front``)
and does itself the two things the stack would do for this request: it reads at most the body
limit, and it adds the security headers. Only a request the route would accept is answered
here, with the same steps in the same order (``tocsin.sos.api.accept``: rate limits, then the
group commit, 201 only after the commit) and the same body. Anything else — not a JSON body,
JSON that ``SosIn`` refuses, an over-long device token, an announced length over the limit —
is handed to the application with its body, so every refusal keeps the stack's and the route's
error shape (a streamed body found over the limit gets the body limit's 413 here);
the route also stays the one OpenAPI describes. The 429 and 503 raised by ``accept`` are
answered with the application's error shape (``tocsin.core.errors.http_error_response``).
"""

from __future__ import annotations

import json
import logging

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tocsin.core.errors import http_error_response
from tocsin.core.middleware import send_error, with_headers
from tocsin.core.runtime import Runtime
from tocsin.sos.api import accept, unavailable
from tocsin.sos.schemas import SosIn

log = logging.getLogger("tocsin.sos.fastpath")

PATH = "/api/v1/sos"
_JSON = frozenset({b"application/json", b"application/json; charset=utf-8"})
_MAX_DEVICE_TOKEN = 128  # the route's Header(max_length=128)


class FastPath:
    """Answer ``POST /api/v1/sos`` in front of ``app`` when the route would accept it."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        runtime: Runtime,
        max_bytes: int,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.max_bytes = max_bytes
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        ctype: bytes | None = None
        device: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                ctype = value.lower()
            elif name == b"x-device-token":
                if device is not None:  # repeated: let the route decide
                    ctype = None
                    break
                device = value
            elif name == b"content-length" and (
                not value.isdigit() or int(value) > self.max_bytes
            ):
                ctype = None  # the body limit's 400 or 413
        if ctype not in _JSON or (device is not None and len(device) > _MAX_DEVICE_TOKEN):
            await self.app(scope, receive, send)
            return
        body, receive = await _read_body(receive, self.max_bytes)
        if body is _TOO_LARGE:  # what the body limit would answer, had it read the stream
            await send_error(with_headers(send, self.headers), 413, "payload_too_large",
                             f"body over {self.max_bytes} bytes", PATH)
            return
        body_in = _parse(body) if body is not None else None
        if body_in is None:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        try:
            ack, created = await accept(
                self.runtime,
                body_in,
                address=client[0] if client else "unknown",
                device_token=device.decode("latin-1") if device is not None else None,
            )
        except Exception as exc:
            if not isinstance(exc, HTTPException):  # not recorded: the phone retries
                log.exception("SOS intake failed on the fast path")
                exc = unavailable()
            await http_error_response(exc)(scope, receive, with_headers(send, self.headers))
            return
        payload = ack.model_dump_json().encode()
        await send(
            {
                "type": "http.response.start",
                "status": 201 if created else 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    *self.headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _parse(body: bytes) -> SosIn | None:
    """``SosIn`` as the route would validate it (JSON decoded first), or None."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # nested too deep: the application's 400 answers it
        return None
    if not isinstance(data, dict):
        return None
    try:
        return SosIn.model_validate(data)
    except ValidationError:
        return None


async def _read_body(receive: Receive, limit: int) -> tuple[bytes | None, Receive]:
    """Read the body, up to ``limit`` bytes, and return it with a ``receive`` that hands over
    again what was read (then the rest of the stream), for the application.

    The body is ``_TOO_LARGE`` past the limit, None if the client left before the end.
    """
    chunks: list[bytes] = []
    size = 0
    first: list[Message] = []
    complete = False
    while size <= limit:
        message = await receive()
        if message["type"] != "http.request":  # the client left: pass that on as it came
            first.append(message)
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            complete = True
            break
    body = b"".join(chunks)
    more = bool(first) or not complete
    first.insert(0, {"type": "http.request", "body": body, "more_body": more})

    async def again() -> Message:
        if first:
            return first.pop(0)
        return await receive()

    if size > limit:
        return _TOO_LARGE, again
    return (body if complete else None), again


_TOO_LARGE = b"(over the limit)"  # a sentinel, compared by identity
