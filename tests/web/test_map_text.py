"""Strings from data reach the maps as text, never as HTML (issue 19, finding 3).

Leaflet writes string tooltip and popup content with ``innerHTML``: a CAP ``areaDesc`` carrying a
link and a ``<meta http-equiv=refresh>`` was injected on /alerts and /authority and the page
navigated away (the CSP stops scripts, not that). The browser test publishes such an alert and
hovers its area on both pages; the source test keeps every Leaflet content and HTML sink of
frontend/src on ``mapText`` (an element whose text is set with ``textContent``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from tests.factories import PASSWORD, make_user
from tests.web.conftest import PageProblems, own_live_server
from tocsin.core.auth.roles import Role
from tocsin.core.db import session_scope

FRONTEND_SRC = Path(__file__).resolve().parents[2] / "frontend" / "src"
HOSTILE = (
    '<a id="pwn" href="https://example.org">x</a>'
    '<meta http-equiv="refresh" content="0;url=about:blank">'
)
PARIS = [[48.85, 2.32], [48.875, 2.33], [48.87, 2.37], [48.845, 2.365], [48.85, 2.32]]


@pytest.fixture(scope="module")
def map_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    """A live server of its own: the hostile alert must not show on other tests' pages."""
    with own_live_server(tmp_path_factory.mktemp("map-text-live"), "map-text-live") as served:
        yield served


def _bearer(base: str, app: FastAPI, username: str) -> dict[str, str]:
    with session_scope(app.state.runtime.sessions) as session:
        make_user(session, role=Role.authority, username=username)
    r = httpx.post(f"{base}/api/v1/auth/token",
                   data={"username": username, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _publish_hostile(base: str, app: FastAPI) -> None:
    """Compose as one authority and approve as another: an alert whose areaDesc is HTML."""
    author, approver = _bearer(base, app, "prefet.map"), _bearer(base, app, "prefete.map")
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7200))
    body = {
        "status": "Actual", "categories": ["Safety"], "urgency": "Immediate",
        "severity": "Severe", "certainty": "Observed", "response_types": ["Shelter"],
        "expires": expires,
        "infos": [{"language": "fr-FR", "event": "Essai", "headline": "Zone piégée",
                   "description": "Une zone décrite en HTML.", "instruction": "Aucune."}],
        "area": {"desc": HOSTILE, "polygon": PARIS},
    }
    r = httpx.post(f"{base}/api/v1/alerts", json=body, headers=author, timeout=10)
    assert r.status_code == 201, r.text
    alert = r.json()
    if alert["state"] == "pending":
        r = httpx.post(f"{base}/api/v1/alerts/{alert['id']}/approve", headers=approver,
                       timeout=10)
        assert r.status_code == 200, r.text
        alert = r.json()
    assert alert["state"] == "published"
    assert alert["areas"][0]["desc"] == HOSTILE


def _hover_area_and_check(page: Page, area_map: str) -> None:
    """Open the area's tooltip; it must show the literal string, inject nothing, not navigate."""
    url = page.url
    area = page.locator(f"{area_map} .leaflet-overlay-pane path").first
    tooltip = page.locator(f"{area_map} .leaflet-tooltip")
    # On a loaded machine the map may still be fitting its bounds when the pointer arrives:
    # move away and hover again until the tooltip opens.
    for _ in range(10):
        page.mouse.move(0, 0)
        area.hover()
        try:
            expect(tooltip).to_have_count(1, timeout=1000)
            break
        except AssertionError:
            page.wait_for_timeout(300)
    expect(tooltip).to_have_text(HOSTILE)
    page.wait_for_timeout(700)  # a refresh of 0 s would have navigated by now
    assert page.url == url
    expect(page.locator("#pwn")).to_have_count(0)
    # The console may re-render its list (and close the tooltip) meanwhile: what matters is that
    # nothing was injected while the tooltip was open.
    expect(page.locator("body meta, .leaflet-tooltip meta, .leaflet-tooltip a")).to_have_count(0)


@pytest.fixture(scope="module")
def hostile_alert(map_server: tuple[str, FastAPI]) -> tuple[str, FastAPI]:
    """The server, once an alert whose areaDesc is HTML is published on it."""
    base, app = map_server
    _publish_hostile(base, app)
    return base, app


@pytest.mark.browser
def test_area_description_is_text_on_the_alerts_map(
    hostile_alert: tuple[str, FastAPI],
    browser: Browser,
    watch_page: Callable[[Page], PageProblems],
) -> None:
    base, _ = hostile_alert
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    citizen = context.new_page()
    problems = watch_page(citizen)
    citizen.goto(f"{base}/alerts")
    expect(citizen.locator(".alert-card h3")).to_have_text("Zone piégée")
    expect(citizen.locator(".alert-meta")).to_contain_text(HOSTILE)
    _hover_area_and_check(citizen, "#alerts-map")
    assert problems.all() == []
    context.close()


@pytest.mark.browser
def test_area_description_is_text_on_the_authority_maps(
    hostile_alert: tuple[str, FastAPI],
    browser: Browser,
    watch_page: Callable[[Page], PageProblems],
) -> None:
    base, app = hostile_alert
    with session_scope(app.state.runtime.sessions) as session:
        make_user(session, role=Role.authority, username="prefet.console")
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    console = context.new_page()
    problems = watch_page(console)
    console.goto(f"{base}/authority")
    console.fill("#login-username", "prefet.console")
    console.fill("#login-password", PASSWORD)
    console.click("[data-form=login] button[type=submit]")
    live = console.locator("[data-live-list] .alert-card")
    expect(live).to_have_count(1)
    expect(live.locator(".alert-meta").first).to_contain_text(HOSTILE)
    live.scroll_into_view_if_needed()
    _hover_area_and_check(console, "[data-live-list] .alert-card .alert-map")
    assert problems.all() == []
    context.close()


# --- the sources: every Leaflet content and HTML sink is text ---------------------------------

# Leaflet content setters whose string argument becomes innerHTML: first argument must be mapText.
CONTENT_CALL = re.compile(
    r"\.(bindTooltip|bindPopup|setTooltipContent|setPopupContent|setContent)\((?!\s*mapText\()"
)
# HTML sinks with no text form: none is used; a new one must go through review (and mapText).
HTML_SINK = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|srcdoc"
    r"|setHTML|parseFromString|divIcon|\bhtml\s*:|L\.(tooltip|popup)\("
)
# The attribution of a tile layer is HTML too: a string literal only.
ATTRIBUTION = re.compile(r"\battribution\s*:(?!\s*(\"[^\"$`]*\"|'[^'$`]*'))")


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """The lines of a source file, less comment lines (the doc of a sink may name it)."""
    lines = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(("//", "/*", "*")):
            continue
        lines.append((number, line))
    return lines


def _sources() -> list[Path]:
    paths = sorted(p for p in FRONTEND_SRC.rglob("*.ts") if not p.name.endswith(".d.ts"))
    assert paths, FRONTEND_SRC
    return paths


def test_frontend_sources_give_leaflet_and_the_dom_text_only() -> None:
    found = []
    for path in _sources():
        lines = _code_lines(path)
        code = "\n".join(line for _, line in lines)
        numbers = [n for n, _ in lines]
        for pattern in (CONTENT_CALL, HTML_SINK, ATTRIBUTION):
            for match in pattern.finditer(code):
                line = numbers[code.count("\n", 0, match.start())]
                found.append(f"{path.relative_to(FRONTEND_SRC)}:{line}: {match.group(0).strip()}")
    assert found == [], "data must reach Leaflet and the DOM as text (lib/map-text.ts):\n" + (
        "\n".join(found))


def test_the_source_guard_catches_sinks() -> None:
    """The patterns above flag what they are for (so a typo cannot make the guard vacuous)."""
    assert CONTENT_CALL.search("shape.bindTooltip(area.desc)")
    assert CONTENT_CALL.search("m.bindPopup(\n  `${name}`)")
    assert CONTENT_CALL.search("t.setTooltipContent(label)")
    assert not CONTENT_CALL.search("shape.bindTooltip(mapText(area.desc))")
    assert not CONTENT_CALL.search("m.setTooltipContent(\n  mapText(label))")
    assert HTML_SINK.search("node.innerHTML = text")
    assert HTML_SINK.search('L.divIcon({ html: name })')
    assert HTML_SINK.search('list.insertAdjacentHTML("beforeend", row)')
    assert ATTRIBUTION.search("L.tileLayer(url, { attribution: source.credit })")
    assert not ATTRIBUTION.search('L.tileLayer(url, { attribution: "© OpenStreetMap" })')
