"""Render a page template with the language, translations and built assets every page needs.

Domains that add a page call :func:`render_page` from their route, so each page gets the same
layout, language negotiation and asset lookup, and none can forget the cookie or the escaping.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import Response

from tocsin.web import i18n
from tocsin.web.assets import AssetsNotBuilt, AssetTags, asset_tags

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

log = logging.getLogger(__name__)

# Autoescape everything: templates show text that citizens typed (names, messages).
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_env)


def switch_url(request: Request, lang: i18n.Lang) -> str:
    """Return this page's path and query with ``lang`` set, for the language switch link."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    # A path starting with "//" would make the link point at another host; keep it local.
    path = "/" + request.url.path.lstrip("/")
    return f"{path}?{urlencode([*kept, ('lang', lang)])}"


def render_page(
    request: Request,
    template: str,
    *,
    entry: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """Render ``template`` in the negotiated language with the assets of front-end ``entry``.

    A missing build does not turn into a 500: the page is served without scripts and styles
    and says how to build them.
    """
    lang = i18n.negotiate(request)
    other: i18n.Lang = "en" if lang == "fr" else "fr"
    assets: AssetTags | None
    try:
        assets = asset_tags(entry)
        assets_error = None
    except AssetsNotBuilt as exc:
        log.warning("%s", exc)
        assets, assets_error = None, str(exc)
    response = templates.TemplateResponse(
        request,
        template,
        {
            **(context or {}),
            "lang": lang,
            "other_lang": other,
            "other_lang_name": i18n.CATALOGUE[other]["lang.name"],
            "switch_url": switch_url(request, other),
            "t": i18n.translator(lang),
            "assets": assets,
            "assets_error": assets_error,
        },
        status_code=status_code,
    )
    i18n.remember_lang(request, response)
    return response
