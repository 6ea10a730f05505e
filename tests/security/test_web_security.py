"""Security headers on every page, CORS closed, no cookie that authenticates (so no CSRF surface).

Pages are found by walking the app's routes, so a page added later is covered the day it lands.
CSRF: every account request authenticates with an ``Authorization: Bearer`` header that the
staff pages keep in ``sessionStorage``; a browser never attaches it to a cross-site request on
its own, so there is no cookie to ride. The only cookie Tocsin sets is ``lang`` (the page
language). The tests below pin both facts: if a cookie ever authenticates, CSRF tokens become
necessary and these tests say so.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from tests.factories import login
from tocsin.core.auth.roles import Role


def _page_paths(client: TestClient) -> list[str]:
    """Every GET route without path parameters that is not part of the JSON API."""
    paths = []
    for context in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        route, path = context.original_route, context.path or ""
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        if "{" in path or path.startswith("/api/") or path == "/healthz":
            continue
        paths.append(path)
    return sorted(paths)


class _Scripts(HTMLParser):
    """Collect inline scripts and inline event handlers, which the CSP must never need."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {k for k, _ in attrs}
        if tag == "script" and "src" not in names:
            kind = dict(attrs).get("type") or ""
            # JSON data islands are not executed; anything else inline would be.
            if kind not in ("application/json", "application/ld+json"):
                self._in_inline_script = True
                self.inline.append(f"<script> at line {self.getpos()[0]}")
        for name in names:
            if name.startswith("on"):
                self.inline.append(f"<{tag} {name}=...> at line {self.getpos()[0]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False


def _csp(headers: dict[str, str]) -> dict[str, str]:
    policy = headers["content-security-policy"]
    return {d.split()[0]: d for d in (p.strip() for p in policy.split(";")) if d}


def _assert_headers(path: str, headers: dict[str, str]) -> None:
    csp = _csp(headers)
    assert "'unsafe-inline'" not in csp.get("script-src", csp["default-src"]), path
    assert "'unsafe-eval'" not in csp.get("script-src", csp["default-src"]), path
    assert csp["frame-ancestors"] == "frame-ancestors 'none'", path
    assert csp["object-src"] == "object-src 'none'", path
    assert headers["referrer-policy"] == "no-referrer", path
    assert headers["x-content-type-options"] == "nosniff", path
    assert headers["x-frame-options"] == "DENY", path


def test_every_page_has_the_security_headers_and_no_inline_script(client: TestClient) -> None:
    paths = _page_paths(client)
    assert len(paths) >= 10, paths
    for path in paths:
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        _assert_headers(path, dict(response.headers))
        if response.headers.get("content-type", "").startswith("text/html"):
            parser = _Scripts()
            parser.feed(response.text)
            assert parser.inline == [], (path, parser.inline)


def test_api_answers_and_errors_carry_the_headers_too(client: TestClient) -> None:
    answers = {
        "health": client.get("/healthz"),
        "json 404": client.get("/api/v1/no-such-route"),
        "page 404": client.get("/no-such-page"),
        "401": client.get("/api/v1/auth/me"),
        "422": client.post("/api/v1/sos", json={"lat": "north"}),
        "415": client.post("/api/v1/sos", content=b"x", headers={"Content-Type": "image/gif"}),
        "413": client.post("/api/v1/sos", content=b"x" * 2_000_000,
                           headers={"Content-Type": "application/json"}),
        "openapi": client.get("/openapi.json"),
    }
    for name, response in answers.items():
        _assert_headers(name, dict(response.headers))


def test_cors_is_closed_by_default(client: TestClient) -> None:
    """A cross-origin preflight or request gets no Access-Control-Allow-Origin."""
    evil = "https://evil.example"
    for path, method in (("/api/v1/sos", "POST"), ("/api/v1/auth/token", "POST"),
                         ("/api/v1/dispatch/incidents", "GET"), ("/", "GET")):
        preflight = client.options(path, headers={
            "Origin": evil, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type"})
        assert preflight.status_code in (400, 405), (path, preflight.status_code)
        assert not any(k.lower().startswith("access-control-") for k in preflight.headers), path
    simple = client.get("/healthz", headers={"Origin": evil})
    assert "access-control-allow-origin" not in simple.headers


def test_no_cookie_authenticates_so_there_is_nothing_to_forge(client: TestClient) -> None:
    """Login sets no cookie; a token offered as a cookie is ignored (CSRF has nothing to ride)."""
    headers = login(client, Role.dispatcher)
    token = headers["Authorization"].removeprefix("Bearer ")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    client.cookies.clear()
    for name in ("access_token", "token", "session", "Authorization"):
        client.cookies.set(name, token)
        assert client.get("/api/v1/auth/me").status_code == 401, name
        assert client.get("/api/v1/dispatch/incidents").status_code == 401, name
        client.cookies.clear()


def test_the_only_cookie_set_is_the_language_choice(client: TestClient) -> None:
    seen: set[str] = set()
    for path in [*_page_paths(client), "/?lang=en"]:
        for cookie in client.get(path).headers.get_list("set-cookie"):
            name = cookie.split("=", 1)[0]
            seen.add(name)
            assert re.search(r"(?i)httponly", cookie) and re.search(r"(?i)samesite=lax", cookie)
    name = login(client, Role.admin)  # the login answer sets none either
    assert name and seen == {"lang"}
    client.cookies.clear()
    response = client.post("/api/v1/auth/token", data={"username": "nobody", "password": "x"})
    assert "set-cookie" not in response.headers
