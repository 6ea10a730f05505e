"""The home page over HTTP (TestClient on the real app): language, escaping, page list."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.requests import Request

from tocsin.core.auth import Allow, Public
from tocsin.web import pages, render
from tocsin.web.assets import asset_tags
from tocsin.web.pages import ROLE_PAGES

RequestFactory = Callable[..., Request]


def html_lang(body: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', body)
    assert match, "no <html lang=...>"
    return match.group(1)


def test_home_is_french_by_default(web_client: TestClient) -> None:
    response = web_client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    body = response.text
    assert html_lang(body) == "fr"
    for text in (
        "Pour les citoyens",
        "Pour les professionnels",
        "SOS silencieux",
        "Personnes recherchées",
        "Hébergement",
        "État du service",
        "English",
    ):
        assert html.escape(text, quote=True) in body or text in body
    assert "lang" not in response.cookies
    assert "Accept-Language" in response.headers["vary"]


def test_lang_query_switches_and_sets_cookie(web_client: TestClient) -> None:
    response = web_client.get("/?lang=en", headers={"Accept-Language": "fr-FR"})
    assert html_lang(response.text) == "en"
    assert "For citizens" in response.text and "Silent SOS" in response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("lang=en;")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=" in cookie
    # The cookie now wins over a French browser.
    again = web_client.get("/", headers={"Accept-Language": "fr-FR"})
    assert html_lang(again.text) == "en"
    back = web_client.get("/?lang=fr")
    assert html_lang(back.text) == "fr" and back.cookies.get("lang") == "fr"


def test_accept_language_picks_english(web_client: TestClient) -> None:
    response = web_client.get("/", headers={"Accept-Language": "en-US,en;q=0.9,fr;q=0.5"})
    assert html_lang(response.text) == "en"
    assert "lang" not in response.cookies


def test_unknown_lang_is_ignored(web_client: TestClient) -> None:
    response = web_client.get("/?lang=klingon")
    assert response.status_code == 200
    assert html_lang(response.text) == "fr"
    assert "set-cookie" not in response.headers


def test_switch_link_keeps_query_and_is_escaped(web_client: TestClient) -> None:
    payload = '"><script>alert(1)</script>'
    response = web_client.get("/", params={"q": payload, "lang": "fr"})
    body = response.text
    assert response.status_code == 200
    assert "<script>alert(1)" not in body
    assert 'href="/?q=%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E&amp;lang=en"' in body


def test_switch_url_stays_on_this_host(make_request: RequestFactory) -> None:
    url = render.switch_url(make_request(path="//evil.example/x", query="lang=fr"), "en")
    assert url == "/evil.example/x?lang=en"


def test_templates_autoescape() -> None:
    template = render.templates.env.from_string("{{ value }}")
    assert template.render(value="<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"


def test_page_has_no_inline_script_or_style(web_client: TestClient) -> None:
    body = web_client.get("/").text
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body) is None, "inline <script>"
    assert " style=" not in body and "<style" not in body
    assert re.search(r"\son[a-z]+=", body) is None, "inline event handler"


def test_built_assets_are_linked_and_served(web_client: TestClient) -> None:
    body = web_client.get("/").text
    tags = asset_tags("home")
    assert f'<script type="module" src="{tags.js}"></script>' in body
    for href in tags.css:
        assert f'<link rel="stylesheet" href="{href}">' in body
    for url in [tags.js, *tags.css, "/static/favicon.svg"]:
        assert web_client.get(url).status_code == 200, url


def test_missing_build_shows_a_notice_not_a_500(
    web_client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def unbuilt(entry: str) -> object:
        return asset_tags(entry, manifest_path=tmp_path / "missing.json")

    monkeypatch.setattr(render, "asset_tags", unbuilt)
    response = web_client.get("/")
    assert response.status_code == 200
    assert "data-assets-missing" in response.text
    assert "make frontend" in response.text
    assert "<script" not in response.text
    assert "SOS silencieux" in response.text


def test_coming_soon_pages_are_not_links(web_client: TestClient) -> None:
    body = web_client.get("/").text
    for page in ROLE_PAGES:
        linked = f'href="{page.path}"' in body
        assert linked is page.available, page.path
        if not page.available:
            card = re.search(rf'data-page="{page.path}">(.*?)</article>', body, re.S)
            assert card and "Bientôt" in card.group(1)


def test_role_pages_match_routes(web_client: TestClient) -> None:
    """An entry is marked available exactly when its page answers (even 401/403), not 404."""
    for page in ROLE_PAGES:
        status = web_client.get(page.path, follow_redirects=False).status_code
        if page.available:
            assert status != 404, f"{page.path} is marked available but answers 404"
        else:
            assert status == 404, (
                f"{page.path} answers {status}: set available=True in tocsin/web/pages.py"
            )


def test_every_page_route_declares_its_roles() -> None:
    for route in pages.router.routes:
        assert isinstance(route, APIRoute)
        calls = [dep.call for dep in route.dependant.dependencies]
        assert any(isinstance(call, Public | Allow) for call in calls), route.path
