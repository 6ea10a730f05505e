"""Maps that fill their box, and date-time fields in French whatever the browser's locale.

Two fixes shared by every page (issue 20): the base map follows its box's size (a map laid out
while its card was still moving drew in a corner), and the `datetime-local` inputs become a
"JJ/MM/AAAA HH:MM" (24 h) text field, the value the pages send being unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import PageProblems

# The canvas renderer is drawn over the map's size and half of it on each side (padding 0.5):
# twice the box once Leaflet knows the box's size. Page functions, not strings to evaluate: the
# page's CSP refuses eval.
FILLS_BOX = """(height) => {
  const box = document.querySelector('.basemap');
  const canvas = box.querySelector('.leaflet-basemap-pane canvas');
  const [w, h] = [box.clientWidth, box.clientHeight];
  return (height === null || Math.abs(h - height) <= 4)  // its border aside
    && Math.abs(parseFloat(canvas.style.width) - 2 * w) < 2
    && Math.abs(parseFloat(canvas.style.height) - 2 * h) < 2;
}"""


@pytest.mark.browser
def test_the_base_map_follows_its_box_when_the_box_changes_size(
    browser: Browser, live_server: str, watch_page: Callable[[Page], PageProblems]
) -> None:
    """Leaflet only hears the window's resize: a card that grows alone used to stay half grey.

    The shelter page has no size handling of its own (the alerts page has): the shared helper
    alone must do it.
    """
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = watch_page(page)
    try:
        page.goto(f"{live_server}/shelter")
        box = page.locator(".basemap").first
        expect(box).to_have_attribute("data-basemap", "ready", timeout=15_000)
        # The card changes size with the window unchanged (as a panel unfolding beside it would).
        page.evaluate(
            """() => { const b = document.querySelector('.basemap');
                       b.style.width = (b.clientWidth - 200) + 'px'; b.style.height = '520px'; }"""
        )
        page.wait_for_function(FILLS_BOX, arg=520, timeout=10_000)
        # A map hidden, then shown again at another size, is measured again as well.
        page.evaluate("() => { document.querySelector('.basemap').style.display = 'none'; }")
        page.evaluate(
            """() => { const b = document.querySelector('.basemap');
                       b.style.height = '400px'; b.style.display = ''; }"""
        )
        page.wait_for_function(FILLS_BOX, arg=400, timeout=10_000)
        assert problems.all() == []
    finally:
        context.close()


@pytest.mark.browser
def test_date_time_fields_read_the_french_way_in_an_english_browser(
    browser: Browser, live_server: str, watch_page: Callable[[Page], PageProblems]
) -> None:
    """An American-English Chromium (12-hour clock) still shows and takes "31/12/2026 23:45"."""
    context = browser.new_context(
        locale="en-US", timezone_id="Europe/Paris", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    problems = watch_page(page)
    try:
        page.goto(f"{live_server}/shelter?lang=fr")  # a French page in an English browser
        shown = page.get_by_label("Jusqu'à")
        held = page.locator("#offer-ends")
        # The page's default (tomorrow) shows as JJ/MM/AAAA HH:MM, 24 h, no AM/PM.
        expect(shown).to_have_value(re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}$"))
        expect(shown).to_have_attribute("placeholder", "JJ/MM/AAAA HH:MM")
        default = held.input_value()
        d = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})", default)
        assert d, default
        assert shown.input_value() == f"{d[3]}/{d[2]}/{d[1]} {d[4]}:{d[5]}"
        assert held.get_attribute("type") == "hidden"
        assert held.get_attribute("name") == "ends_at"

        # Typed the French way: what the page sends is the same local ISO value as before.
        shown.fill("31/12/2026 23:45")
        assert held.input_value() == "2026-12-31T23:45"
        shown.fill("2/3/2027 7h05")
        shown.blur()
        assert held.input_value() == "2027-03-02T07:05"
        expect(shown).to_have_value("02/03/2027 07:05")
        # A pasted timestamp is understood too.
        shown.fill("2026-01-10T21:20")
        assert held.input_value() == "2026-01-10T21:20"
        # An American date with AM/PM, or a day that does not exist, is refused and said so.
        for wrong in ("12/31/2026 11:45 PM", "31/02/2026 10:00", "10/01/2026 24:00"):
            shown.fill(wrong)
            assert held.input_value() == "", wrong
            assert shown.evaluate("e => e.validity.valid") is False, wrong
            message = shown.evaluate("e => e.validationMessage")
            assert "JJ/MM/AAAA HH:MM" in message, message
        # A value set by the page's code shows at once in the visible field.
        held.evaluate("e => { e.value = '2026-07-14T09:30'; }")
        expect(shown).to_have_value("14/07/2026 09:30")
        assert shown.evaluate("e => e.validity.valid") is True
        assert problems.all() == []
    finally:
        context.close()
