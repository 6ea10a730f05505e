"""Fixtures of the web-shell tests: the real app on a TestClient, a live server, headless Chromium.

The live server runs the app built by ``create_app`` under uvicorn in a background thread, so
the browser talks HTTP to the same stack (middlewares, CSP, static files) as production.
Chromium is Debian's ``/usr/bin/chromium``; browser tests skip when it is absent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, sync_playwright
from starlette.requests import Request as StarletteRequest

from tests.served import serve_in_thread
from tocsin.app import create_app
from tocsin.core.migrate import upgrade
from tocsin.core.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# Collects CSP violations in the page; init scripts run outside the page's CSP.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def build_app(var_dir: Path) -> FastAPI:
    """Build the real application on a fresh, migrated SQLite file and the in-process bus."""
    settings = Settings(
        var_dir=var_dir,
        database_url=f"sqlite:///{var_dir}/t.db",
        bus_url="memory://",
    )
    # As `tocsin serve` does: migrate first, so /healthz reports a working database.
    upgrade(settings.resolved_database_url)
    return create_app(settings)


def _make_request(
    query: str = "", cookie: str = "", accept: str = "", path: str = "/"
) -> StarletteRequest:
    headers = []
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if accept:
        headers.append((b"accept-language", accept.encode()))
    return StarletteRequest(
        {
            "type": "http",
            "method": "GET",
            "scheme": "http",
            "server": ("testserver", 80),
            "path": path,
            "root_path": "",
            "query_string": query.encode(),
            "headers": headers,
        }
    )


@pytest.fixture
def make_request() -> Callable[..., StarletteRequest]:
    """Build a bare Starlette request from a query string, cookie and Accept-Language."""
    return _make_request


@pytest.fixture(scope="session")
def web_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return build_app(tmp_path_factory.mktemp("web-app"))


@pytest.fixture(scope="session")
def _web_client_session(web_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(web_app) as client:
        yield client


@pytest.fixture
def web_client(_web_client_session: TestClient) -> TestClient:
    """A TestClient on the real app, with no cookie left over from another test."""
    _web_client_session.cookies.clear()
    return _web_client_session


@contextlib.contextmanager
def own_live_server(var_dir: Path, name: str) -> Iterator[tuple[str, FastAPI]]:
    """A live server of a test module's own (its own database): base URL and app."""
    app = build_app(var_dir)
    with serve_in_thread(app, name) as base:
        yield base, app


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The application the live server runs (its ``state.runtime`` gives tests the database)."""
    return build_app(tmp_path_factory.mktemp("live-server"))


def live_account(app: FastAPI, role: str, username: str) -> tuple[str, str]:
    """Create an account in the live server's database; return (username, password)."""
    from tests.factories import PASSWORD, make_user
    from tocsin.core.db import session_scope

    with session_scope(app.state.runtime.sessions) as session:
        make_user(session, role=role, username=username)
    return username, PASSWORD


@pytest.fixture(scope="session")
def live_server(live_app: FastAPI) -> Iterator[str]:
    """Serve the app with uvicorn on a free local port; yield its base URL."""
    with serve_in_thread(live_app, "live-server") as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageProblems:
    """What went wrong in a page: console errors, exceptions, failed requests, CSP violations."""

    page: Page
    console: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        """Return the violations the current document reported (Chrome also logs them)."""
        return list(self.page.evaluate("window.__cspViolations ?? []"))

    def all(self) -> list[str]:
        return [*self.console, *self.exceptions, *self.failed, *self.csp_violations()]


def _watch_page(page: Page) -> PageProblems:
    problems = PageProblems(page)
    page.add_init_script(CSP_LISTENER)

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type in ("error", "warning"):
            problems.console.append(f"{msg.type}: {msg.text}")

    def on_failed(request: Request) -> None:
        problems.failed.append(f"{request.url} {request.failure}")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            problems.failed.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.exceptions.append(str(exc)))
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    return problems


@pytest.fixture
def watch_page() -> Callable[[Page], PageProblems]:
    """Record a page's console errors and warnings, exceptions, 4xx/5xx and CSP violations."""
    return _watch_page


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Folder of the committed screenshots (docs/screenshots/)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR
