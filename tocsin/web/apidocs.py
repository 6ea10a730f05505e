"""``/docs``: the OpenAPI reference, rendered by a Swagger UI bundled in our own front end.

FastAPI's default docs page pulls Swagger UI from a CDN with an inline script; both are refused
by our CSP and by deployments without Internet access, so we serve the same UI from ``/static``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tocsin.core.auth import public
from tocsin.web.render import render_page

router = APIRouter(tags=["web"], include_in_schema=False)


@router.get("/docs", dependencies=[Depends(public())])
def api_docs(request: Request) -> Response:
    """Show the interactive API reference."""
    return render_page(request, "apidocs.html", entry="apidocs")
