"""Merge and split in the dispatcher's console (issue 20), in Chromium, on the 300-SOS night.

300 calls at the Bataclan, a small incident 400 m away (a second entrance, the same event), a
third 2 km away. The dispatcher merges the nearby one into the big one from the detail's picker
(nearest first, a second click confirms), sees a merge refused in French when the other
incident was closed meanwhile, and splits one SOS out through the boxes on the SOS rows; the
server's state is checked after each. Desktop and phone screenshots of the picker open.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from tests.sos.factories import sos_burst
from tests.web.conftest import PageProblems, live_account, own_live_server

BATACLAN = (48.8631, 2.3708)
SIDE_DOOR = (48.8660, 2.3745)  # ~420 m: beyond the 200 m cluster radius, its own incident
REPUBLIQUE = (48.8675, 2.3636)  # ~700 m
FAR = (48.8530, 2.3499)  # Notre-Dame, ~2 km
SITUATIONS = ["hidden"] * 5 + ["injured"] * 2 + ["hostage", "attack", "other"]


@pytest.fixture(scope="module")
def merge_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    """A server of its own: its incidents must not land on other tests' consoles."""
    with own_live_server(tmp_path_factory.mktemp("merge-live"), "merge-live") as served:
        yield served


def _burst(app: FastAPI, where: tuple[float, float], count: int, seed: int) -> list[str]:
    return sos_burst(app.state.runtime.sessions, where, count, seed=seed, situations=SITUATIONS)


def _login(page: Page, username: str, password: str) -> None:
    # Filled before the script holds the form, it would be sent as a plain GET form.
    expect(page.locator("#dispatch-app")).to_have_attribute("data-ready", "true")
    form = page.locator('[data-form="login"]')
    form.get_by_label("Identifiant").fill(username)
    form.get_by_label("Mot de passe").fill(password)
    form.get_by_role("button", name="Se connecter").click()


def _incident_of(api: httpx.Client, sos_id: str) -> dict[str, object]:
    """The open incident holding ``sos_id``, as the API gives it."""
    for incident in api.get("/api/v1/dispatch/incidents").json():
        detail = api.get(f"/api/v1/dispatch/incidents/{incident['id']}").json()
        if any(s["sos_id"] == sos_id for s in detail["sos"]):
            return dict(detail)
    raise AssertionError(f"no open incident holds {sos_id}")


def _expected(problems: PageProblems) -> list[str]:
    """What went wrong in the page, less the refusal the test provokes on purpose."""
    return [p for p in problems.all() if "409" not in p and "ERR_FAILED" not in p]


@pytest.mark.browser
def test_merge_and_split_in_the_console(
    browser: Browser,
    merge_server: tuple[str, FastAPI],
    watch_page: Callable[[Page], PageProblems],
    screenshot_dir: Path,
) -> None:
    base, app = merge_server
    dispatcher, password = live_account(app, "dispatcher", "op.merge")
    token = httpx.post(f"{base}/api/v1/auth/token",
                       data={"username": dispatcher, "password": password}).json()["access_token"]
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    big = _burst(app, BATACLAN, 300, 1113)
    door = _burst(app, SIDE_DOOR, 6, 7)
    republique = _burst(app, REPUBLIQUE, 3, 8)
    far = _burst(app, FAR, 2, 9)
    desk = browser.new_context(locale="fr-FR", viewport={"width": 1440, "height": 900})
    phone = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True)
    try:
        console = desk.new_page()
        problems = watch_page(console)
        console.goto(f"{base}/dispatch")
        _login(console, dispatcher, password)
        expect(console.locator("[data-live]")).to_have_text("● En direct", timeout=10_000)
        queue = console.locator("[data-queue] [data-incident-id]")
        expect(queue).to_have_count(4, timeout=30_000)
        target = _incident_of(api, big[0])
        door_incident = _incident_of(api, door[0])
        far_incident = _incident_of(api, far[0])
        rep_incident = _incident_of(api, republique[0])
        assert target["sos_count"] == 300

        # The picker lists the three others, nearest first, with their distance and size.
        console.locator(f'[data-queue] [data-incident-id="{target["id"]}"]').click()
        expect(console.locator("[data-detail-summary]")).to_contain_text("300 SOS")
        merge = console.locator('[data-action="merge"]')
        expect(merge).to_have_text("Fusionner avec…")
        merge.click()
        picker = console.locator('[data-form="merge"]')
        expect(picker).to_be_visible()
        expect(merge).to_have_attribute("aria-expanded", "true")
        candidates = picker.locator("[data-candidate-id]")
        expect(candidates).to_have_count(3)
        order = [candidates.nth(i).get_attribute("data-candidate-id") for i in range(3)]
        assert order == [door_incident["id"], rep_incident["id"], far_incident["id"]]
        expect(candidates.first).to_contain_text("6 SOS")
        expect(candidates.first).to_contain_text(re.compile(r"^\d{3} m · P\d"))
        # The SOS list gives the picker its room while it is open.
        expect(console.locator("[data-sos-scroll]")).to_be_hidden()
        submit = picker.locator("[data-merge-submit]")
        expect(submit).to_be_disabled()
        candidates.first.locator("input").check()
        expect(submit).to_have_text("Fusionner (1)")
        expect(console.locator(".merge-link")).to_have_count(1)  # the link drawn on the map
        console.wait_for_timeout(600)  # the map settles before the picture
        console.screenshot(path=str(screenshot_dir / "dispatch-merge.png"))

        # First click asks to confirm, in words; the second merges.
        submit.click()
        expect(picker.locator("[data-merge-confirm]")).to_have_text(
            "L'incident coché (6 SOS) rejoindra celui-ci ; ses unités seront libérées. "
            "Confirmez.")
        assert api.get(f"/api/v1/dispatch/incidents/{door_incident['id']}").json()[
            "status"] == "open"  # nothing happened before the confirmation
        expect(submit).to_have_text("Confirmer la fusion")
        submit.click()
        expect(picker).to_be_hidden(timeout=10_000)
        expect(console.locator(".merge-link")).to_have_count(0)
        expect(console.locator("[data-detail-summary]")).to_contain_text("306 SOS",
                                                                         timeout=10_000)
        expect(console.locator('[data-message="detail"]')).to_have_text(
            "Fusion faite : 306 SOS dans cet incident.")
        expect(queue).to_have_count(3, timeout=10_000)
        # The console's own store followed: the moved SOS are listed under this incident.
        expect(console.locator("[data-sos-shown]")).to_have_text("306 SOS affichés",
                                                                 timeout=10_000)
        source = api.get(f"/api/v1/dispatch/incidents/{door_incident['id']}").json()
        assert (source["status"], source["merged_into"]) == ("merged", target["id"])
        merged = api.get(f"/api/v1/dispatch/incidents/{target['id']}").json()
        assert merged["sos_count"] == 306
        assert {s["sos_id"] for s in merged["sos"]} >= set(door)

        # Refused: the picked incident was closed by someone else before the confirmation.
        # The console's re-reads of the queue are held back so its list is stale, as it would
        # be in the second between the other dispatcher's click and the stream's news.
        merge.click()
        expect(candidates).to_have_count(2)
        picker.locator(f'[data-candidate-id="{far_incident["id"]}"] input').check()
        console.route(re.compile(r".*/api/v1/dispatch/incidents$"), lambda route: route.abort())
        closed = api.post(f"/api/v1/dispatch/incidents/{far_incident['id']}/close",
                          json={"reason": "Fausse alerte confirmée par téléphone"})
        assert closed.status_code == 200, closed.text
        submit.click()
        submit.click()
        error = picker.locator('[data-message="merge"]')
        expect(error).to_have_text(
            "Fusion refusée : un des incidents n'est plus ouvert (clos ou fusionné entre-temps). "
            "La liste vient d'être relue.")
        assert "HTTP" not in error.inner_text() and "409" not in error.inner_text()
        assert api.get(f"/api/v1/dispatch/incidents/{target['id']}").json()["sos_count"] == 306
        console.unroute(re.compile(r".*/api/v1/dispatch/incidents$"))
        picker.locator('[data-action="merge-cancel"]').click()
        expect(picker).to_be_hidden()

        # Split: boxes on the rows; one SOS ticked becomes a new incident.
        split = console.locator('[data-action="split"]')
        split.click()
        expect(split).to_have_attribute("aria-pressed", "true")
        bar = console.locator("[data-split-bar]")
        expect(bar.locator("[data-split-count]")).to_have_text("Aucun SOS coché")
        expect(bar.locator("[data-split-submit]")).to_be_disabled()
        row = console.locator("[data-sos-list] .sos-row").first
        expect(row.locator("input.row-pick")).to_be_visible()
        sos_id = row.get_attribute("data-sos-id")
        assert sos_id
        console.locator(f'[data-sos-id="{sos_id}"] input.row-pick').click()
        expect(console.locator(f'[data-sos-id="{sos_id}"] input.row-pick')).to_be_checked()
        expect(bar.locator("[data-split-count]")).to_have_text("1 SOS coché")
        console.screenshot(path=str(screenshot_dir / "dispatch-split.png"))
        bar.locator("[data-split-submit]").click()
        expect(console.locator('[data-message="split-done"]')).to_have_text(
            "Nouvel incident créé avec 1 SOS.", timeout=10_000)
        expect(bar).to_be_hidden()
        expect(console.locator("[data-detail-summary]")).to_contain_text("305 SOS",
                                                                         timeout=10_000)
        expect(queue).to_have_count(3, timeout=10_000)  # far closed, one split off
        expect(console.locator("[data-sos-shown]")).to_have_text("305 SOS affichés",
                                                                 timeout=10_000)
        expect(console.locator(f'[data-sos-list] [data-sos-id="{sos_id}"]')).to_have_count(0)
        assert api.get(f"/api/v1/dispatch/incidents/{target['id']}").json()["sos_count"] == 305
        new = _incident_of(api, sos_id)
        assert new["id"] != target["id"] and new["sos_count"] == 1
        console.locator("[data-split-open]").click()
        expect(console.locator("[data-detail-summary]")).to_contain_text("1 SOS")
        expect(split).to_be_hidden()  # one SOS: nothing to split off

        # Ticking every SOS (a whole group at once) is stopped before the server has to.
        console.locator(f'[data-queue] [data-incident-id="{rep_incident["id"]}"]').click()
        expect(console.locator("[data-detail-summary]")).to_contain_text("3 SOS")
        split.click()
        groups = console.locator("[data-sos-list] .sos-group input")
        expect(groups.first).to_be_visible()  # the boxes come with the next frame
        for box in groups.all():
            box.click()
        expect(bar.locator("[data-split-count]")).to_have_text("3 SOS cochés")
        expect(bar.locator("[data-split-keep]")).to_have_text(
            "Laissez au moins un SOS dans cet incident.")
        expect(bar.locator("[data-split-submit]")).to_be_disabled()

        # Another dispatcher merges this incident away: the console follows the stream, the
        # actions go, and the incident that took it is one click away.
        moved = api.post("/api/v1/dispatch/incidents/merge", json={
            "target_id": target["id"], "source_ids": [rep_incident["id"]]})
        assert moved.status_code == 200, moved.text
        expect(console.locator("[data-detail-closed]")).to_have_text(
            "Incident fusionné dans un autre : plus aucune action ici.", timeout=10_000)
        expect(console.locator("[data-actions]")).to_be_hidden()
        expect(console.locator("[data-sos-list] input")).to_have_count(0)
        console.locator("[data-open-target]").click()
        expect(console.locator("[data-detail-summary]")).to_contain_text("308 SOS")
        assert _expected(problems) == []

        # The phone: the picker open on the 308-SOS incident, still one screen tall; two more
        # small groups of calls nearby, as on the night.
        _burst(app, (48.8612, 2.3762), 4, 10)
        _burst(app, (48.8655, 2.3672), 2, 11)
        mobile = phone.new_page()
        mobile.goto(f"{base}/dispatch")
        _login(mobile, dispatcher, password)
        expect(mobile.locator("[data-live]")).to_have_text("● En direct", timeout=10_000)
        mobile.locator(f'[data-queue] [data-incident-id="{target["id"]}"]').click()
        expect(mobile.locator("[data-detail-summary]")).to_contain_text("308 SOS")
        mobile.locator('[data-action="merge"]').click()
        expect(mobile.locator("[data-merge-list] [data-candidate-id]")).to_have_count(
            3, timeout=10_000)
        mobile.locator("[data-merge-list] [data-candidate-id] input").first.check()
        mobile.wait_for_timeout(800)
        mobile.screenshot(path=str(screenshot_dir / "dispatch-merge-phone.png"))
        height, window = mobile.evaluate(
            "[document.documentElement.scrollHeight, window.innerHeight]")
        assert height <= window, (height, window)
        box = mobile.locator("[data-merge-submit]").bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844
        # Splitting on the phone: the boxes and the bar in view, Cancel in place of the toolbar.
        mobile.locator('[data-action="merge-cancel"]').click()
        mobile.locator('[data-action="split"]').click()
        mobile.locator("[data-sos-list] .sos-row input.row-pick").first.click()
        expect(mobile.locator("[data-split-count]")).to_have_text("1 SOS coché")
        mobile.screenshot(path=str(screenshot_dir / "dispatch-split-phone.png"))
        assert mobile.locator("[data-split-submit]").is_visible()
    finally:
        desk.close()
        phone.close()
        api.close()


@pytest.mark.browser
def test_merge_and_split_in_english(
    browser: Browser, merge_server: tuple[str, FastAPI],
    watch_page: Callable[[Page], PageProblems],
) -> None:
    base, app = merge_server
    dispatcher, password = live_account(app, "dispatcher", "op.merge.en")
    _burst(app, (48.8400, 2.3200), 2, 21)
    _burst(app, (48.8420, 2.3230), 2, 22)
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        problems = watch_page(page)
        page.goto(f"{base}/dispatch?lang=en")
        expect(page.locator("#dispatch-app")).to_have_attribute("data-ready", "true")
        form = page.locator('[data-form="login"]')
        form.locator("input[name=username]").fill(dispatcher)
        form.locator("input[name=password]").fill(password)
        form.locator("button[type=submit]").click()
        expect(page.locator("[data-live]")).to_have_text("● Live", timeout=10_000)
        page.locator("[data-queue] [data-incident-id]").first.click()
        # The detail's other actions still answer (lib/dispatch-detail.ts): proposed units.
        page.locator('[data-action="proposals"]').click()
        expect(page.locator("[data-proposals]")).to_have_text("No unit available.")
        page.locator('[data-action="proposals"]').click()
        expect(page.locator("[data-proposals]")).to_be_hidden()
        page.locator('[data-action="merge"]').click()
        expect(page.locator('[data-action="merge"]')).to_have_text("Merge with…")
        expect(page.locator("#merge-title")).to_have_text(
            "Open incidents to merge into this one, nearest first:")
        expect(page.locator("[data-merge-submit]")).to_have_text("Merge (0)")
        page.locator('[data-action="split"]').click()
        expect(page.locator("[data-split-count]")).to_have_text("No SOS ticked")
        assert problems.all() == []
    finally:
        context.close()
