"""Language negotiation and message catalogue, without HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.requests import Request

from tocsin.web import i18n
from tocsin.web.pages import ROLE_PAGES

RequestFactory = Callable[..., Request]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", None),
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        ("en-GB,en;q=0.9,fr;q=0.8", "en"),
        ("de-DE, en;q=0.5, fr;q=0.4", "en"),
        ("de-DE, fr;q=0.3, en;q=0.7", "en"),
        ("en;q=0, fr;q=0.1", "fr"),
        ("EN-us", "en"),
        ("de, it", None),
        ("*", None),
        ("en;q=abc, fr", "fr"),
        ("en, fr", "en"),
    ],
)
def test_accept_language(header: str, expected: str | None) -> None:
    assert i18n.parse_accept_language(header) == expected


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        ("", "", "", "fr"),
        ("", "", "en-US,en;q=0.9", "en"),
        ("", "lang=en", "fr-FR", "en"),
        ("", "lang=fr", "en-US", "fr"),
        ("lang=en", "lang=fr", "fr-FR", "en"),
        ("lang=fr", "lang=en", "en-US", "fr"),
        ("lang=de", "", "", "fr"),
        ("lang=de", "lang=en", "", "en"),
        ("", "lang=zz", "en", "en"),
        ("lang=EN", "", "", "en"),
    ],
)
def test_negotiate_order(
    make_request: RequestFactory, query: str, cookie: str, accept: str, expected: str
) -> None:
    assert i18n.negotiate(make_request(query, cookie, accept)) == expected


def test_catalogues_have_the_same_keys() -> None:
    fr, en = i18n.CATALOGUE["fr"], i18n.CATALOGUE["en"]
    assert sorted(set(fr) ^ set(en)) == []
    assert all(value.strip() for value in [*fr.values(), *en.values()])


def test_every_role_page_is_translated() -> None:
    for lang in i18n.SUPPORTED:
        for page in ROLE_PAGES:
            for key in (page.title_key, page.description_key, page.role_key):
                assert key in i18n.CATALOGUE[lang], f"{lang}: missing {key}"


def test_translator_falls_back_to_french_then_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(i18n.CATALOGUE, "fr", {**i18n.CATALOGUE["fr"], "only.fr": "seulement"})
    t = i18n.translator("en")
    assert t("home.soon") == "Coming soon"
    assert t("only.fr") == "seulement"
    assert t("no.such.key") == "no.such.key"


def test_register_messages_refuses_duplicates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        i18n, "CATALOGUE", {lang: dict(msgs) for lang, msgs in i18n.CATALOGUE.items()}
    )
    i18n.register_messages({"fr": {"x.new": "nouveau"}, "en": {"x.new": "new"}})
    assert i18n.translator("en")("x.new") == "new"
    with pytest.raises(ValueError, match=r"x\.new"):
        i18n.register_messages({"fr": {"x.new": "encore"}})
    with pytest.raises(ValueError, match="unsupported"):
        i18n.register_messages({"de": {"x.other": "neu"}})  # type: ignore[dict-item]
