"""The SOS page: a timed read of the conversation sent before the caller's message must not take
that message off the screen.

The page reads the conversation every four seconds and once a message is sent. A timed read on
its way while the caller sent used to be answered after the read made for the message, and drew
the conversation without it (until the next read, four seconds later).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.web.late_answers import HeldAnswer


@pytest.mark.browser
def test_a_read_older_than_the_callers_message_is_dropped(
    browser: Browser, live_server: str
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="fr-FR",
        geolocation={"latitude": 48.8631, "longitude": 2.3708, "accuracy": 15},
        permissions=["geolocation"],
    )
    try:
        page = context.new_page()
        page.goto(f"{live_server}/sos")
        expect(page.locator("[data-position]")).to_contain_text("±15 m")
        page.locator("input[value=hidden]").check()
        page.locator("[data-send]").click()
        expect(page.locator("[data-ack]")).to_contain_text("Alerte reçue", timeout=10_000)

        # The next timed read is answered at once (no message yet) but held back from the page
        # until the caller's message has been sent and read back.
        held = HeldAnswer(fetch=True)

        page.route("**/follow-up", held)
        for _ in range(50):
            if held:
                break
            page.wait_for_timeout(100)
        assert len(held) == 1
        page.fill("#sos-chat-input", "Nous sommes trois au sous-sol")
        page.locator("[data-chat-form] button").click()
        chat = page.locator("[data-chat]")
        expect(chat).to_contain_text("Nous sommes trois au sous-sol")
        held.release()
        # Read once, not awaited: the next timed read (4 s) would mend the view and hide the bug.
        page.wait_for_timeout(300)
        assert "Nous sommes trois au sous-sol" in chat.inner_text()
    finally:
        context.close()
