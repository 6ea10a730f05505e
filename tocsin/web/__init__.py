"""Web pages of Tocsin: server-rendered Jinja2 templates plus the assets built from frontend/.

``create_app`` includes :data:`tocsin.web.pages.router` and calls :func:`mount_static`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tocsin.web.assets import STATIC_DIR

__all__ = ["STATIC_DIR", "mount_static"]


def mount_static(app: FastAPI) -> None:
    """Serve the built front-end under ``/static``.

    ``check_dir=False`` lets the app start before ``make frontend`` has run: pages then show a
    notice instead of failing (see :mod:`tocsin.web.render`).
    """
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
