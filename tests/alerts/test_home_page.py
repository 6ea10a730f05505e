"""The home page puts the official alert in force and the SOS button first (issue 20).

Here, not under tests/web: it runs in both modes, and a cluster-mode test cannot follow the
browser tests (Playwright's session-long event loop makes the bus fixture's teardown fail)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.alerts.helpers import alert_body, authorities, publish


def test_home_shows_the_sos_button_and_no_alert_when_none_is_in_force(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert 'href="/sos" data-home-sos' in page.text
    assert "data-home-alerts" not in page.text


def test_home_shows_the_alert_in_force_in_the_page_language_first(client: TestClient) -> None:
    a, b = authorities(client)
    infos = alert_body()["infos"]
    infos[0]["headline"] = "Attaque <b>en cours</b>, 11e"
    publish(client, a, b, infos=infos)

    french = client.get("/").text
    assert "data-home-alerts" in french
    # Above everything else on the page: before the SOS button and the introduction.
    assert french.index("data-home-alerts") < french.index("data-home-sos") < french.index(
        'class="intro"')
    assert "Restez à l&#39;abri, éloignez-vous des fenêtres." in french
    assert "Attaque &lt;b&gt;en cours&lt;/b&gt;, 11e" in french  # text, never markup
    english = client.get("/?lang=en").text
    assert "Stay inside, away from windows." in english
    assert "Official alert in force" in english


def test_a_test_alert_is_not_shown_to_the_public(client: TestClient) -> None:
    a, b = authorities(client)
    publish(client, a, b, status="Test")
    assert "data-home-alerts" not in client.get("/").text
