"""Indicator values: defanged forms accepted and normalised, invalid ones refused, extraction."""

from __future__ import annotations

import pytest

from tocsin.core.errors import Invalid
from tocsin.cyber import indicators as ioc


@pytest.mark.parametrize(("raw", "kind", "value"), [
    ("hxxp://evil[.]com/a?b=1", "url", "http://evil.com/a?b=1"),
    ("hXXps://Evil[.]COM:443/x", "url", "https://evil.com/x"),
    ("http://evil.com:8080", "url", "http://evil.com:8080/"),
    ("1.2.3[.]4", "ipv4", "1.2.3.4"),
    ("203.0.113(.)9", "ipv4", "203.0.113.9"),
    ("2001:DB8:0::0:1", "ipv6", "2001:db8::1"),
    ("user[@]x[.]fr", "email", "user@x.fr"),
    ("Evil[.]Com.", "domain", "evil.com"),
    ("exämple.fr", "domain", "xn--exmple-cua.fr"),
    ("D41D8CD98F00B204E9800998ECF8427E", "md5", "d41d8cd98f00b204e9800998ecf8427e"),
    ("da39a3ee5e6b4b0d3255bfef95601890afd80709", "sha1",
     "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
])
def test_classify_normalises(raw: str, kind: str, value: str) -> None:
    found = ioc.classify(raw)
    assert (found.kind, found.value) == (kind, value)


@pytest.mark.parametrize("raw", ["", "   ", "hxxp://", "999.1.1.1", "a@b", "12345", "abc",
                                 "not a domain.com x", "http://exa mple.com", "-bad-.com",
                                 "ftp://", "1.2.3", "gg" * 20])
def test_invalid_values_are_refused(raw: str) -> None:
    with pytest.raises(Invalid):
        ioc.classify(raw)


def test_kind_must_match() -> None:
    with pytest.raises(Invalid, match="is a ipv4, not a domain"):
        ioc.classify("1.2.3.4", "domain")


def test_extract_from_french_text() -> None:
    text = ("Le site hxxp://evil[.]com/login et 10.0.0[.]1 ; mail de phish[@]bad[.]ru, "
            "signé M.Dupont, voir aussi evil.xyz et da39a3ee5e6b4b0d3255bfef95601890afd80709.")
    found = {(i.kind, i.value) for i in ioc.extract(text)}
    assert found == {("url", "http://evil.com/login"), ("ipv4", "10.0.0.1"),
                     ("email", "phish@bad.ru"), ("domain", "evil.xyz"),
                     ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709")}


@pytest.mark.parametrize("raw", ["http://evil.com/it's", "evil.com", "2001:db8::1",
                                 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"])
def test_pattern_round_trip(raw: str) -> None:
    found = ioc.classify(raw)
    assert ioc.from_pattern(ioc.stix_pattern(found)) == found
