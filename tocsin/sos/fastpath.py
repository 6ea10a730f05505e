"""A direct ASGI path for ``POST /api/v1/sos``: the route's intake without the framework's toll.

Why: on the project's 2-core machine the acknowledgement path is bound by the event loop's CPU,
and a py-spy profile of the server at saturation put about a third of that loop in FastAPI's
machinery for this one route (matching every route in turn, solving dependencies, parsing query
and header parameters, the per-request exit stack), more than the SOS intake itself
(BENCHMARKS.md, "SOS acknowledgement").

Only a request the route would accept is answered here, with the same steps in the same order
(``tocsin.sos.api.accept``: rate limits, then the group commit, 201 only after the commit) and
the same body. Anything else — not a JSON body, JSON that ``SosIn`` refuses, an over-long device
token — is handed to the FastAPI route with its body, so every refusal keeps the route's error
shape; the route also stays the one OpenAPI describes. The 429 and 503 raised by ``accept`` are
answered with the application's error shape (``tocsin.core.errors.http_error_response``).
The outer middlewares (body limit, content types, security headers) run as for any request.
"""

from __future__ import annotations

import json

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tocsin.core.errors import http_error_response
from tocsin.core.runtime import Runtime
from tocsin.sos.api import accept
from tocsin.sos.schemas import SosIn

PATH = "/api/v1/sos"
_JSON = frozenset({b"application/json", b"application/json; charset=utf-8"})
_MAX_DEVICE_TOKEN = 128  # the route's Header(max_length=128)


class FastPath:
    """ASGI middleware answering ``POST /api/v1/sos`` itself when the route would accept it."""

    def __init__(self, app: ASGIApp, *, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

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
        body, receive = await _read_body(receive)
        body_in = _parse(body) if ctype in _JSON else None
        if body_in is None or (device is not None and len(device) > _MAX_DEVICE_TOKEN):
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
        except HTTPException as exc:
            await http_error_response(exc)(scope, receive, send)
            return
        payload = ack.model_dump_json().encode()
        await send(
            {
                "type": "http.response.start",
                "status": 201 if created else 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _parse(body: bytes) -> SosIn | None:
    """``SosIn`` as the route would validate it (JSON decoded first), or None."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        return SosIn.model_validate(data)
    except ValidationError:
        return None


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole body; return it with a ``receive`` that hands it over again."""
    chunks: list[bytes] = []
    first: list[Message] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client left: pass that on as it came
            first.append(message)
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    first.insert(0, {"type": "http.request", "body": body, "more_body": bool(first)})

    async def again() -> Message:
        if first:
            return first.pop(0)
        return await receive()

    return body, again
