"""Property tests (hypothesis) on the parsers not already covered by their domain's tests.

CAP (``tests/alerts/test_cap.py``) and PFIF (``tests/persons/test_pfif.py``) already have
never-crash and round-trip properties. Here: watch hash lists (CSV) and watch feeds (Atom/RSS
bytes), the two other formats that arrive from outside. The property in each case: any input
gives a result or the domain's own refusal, never another exception; and what is accepted is
bounded and well-formed. Plus the database's own limits (integers past its range, NUL in text)
reaching the API: a 422, never a 500.
"""

from __future__ import annotations

import contextlib
import hashlib
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tocsin.core.errors import DomainError, Invalid
from tocsin.persons.models import Person
from tocsin.watch.feeds import FeedUnavailable, read_entries
from tocsin.watch.hashes import CATEGORIES, HEADER, SIGNAL_LENGTHS, parse_list

SETTINGS = settings(max_examples=150, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

cells = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=70)


@SETTINGS
@given(st.text(max_size=3000))
def test_hash_list_parser_never_crashes_on_text(text: str) -> None:
    try:
        signals = parse_list(text, default_source="test")
    except Invalid:
        return
    for signal in signals:
        assert signal.signal_type in SIGNAL_LENGTHS
        assert len(signal.signal) == SIGNAL_LENGTHS[signal.signal_type]
        assert signal.category in CATEGORIES


@SETTINGS
@given(st.lists(st.lists(cells, min_size=0, max_size=6), max_size=40))
def test_hash_list_parser_never_crashes_on_csv_shaped_rows(rows: list[list[str]]) -> None:
    header = ",".join(HEADER)
    text = header + "\n" + "\n".join(",".join(f'"{c.replace(chr(34), "")}"' for c in row)
                                     for row in rows)
    with contextlib.suppress(Invalid):
        parse_list(text, default_source="test")


signals = st.tuples(
    st.sampled_from(sorted(SIGNAL_LENGTHS)), st.binary(min_size=1, max_size=64),
    st.sampled_from(sorted(CATEGORIES)),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=30))


@SETTINGS
@given(st.lists(signals, max_size=30))
def test_hash_list_round_trip(rows: list[tuple[str, bytes, str, str]]) -> None:
    """Any well-formed list parses back to exactly its rows (hex folded to lower case)."""
    lines = [",".join(HEADER)]
    expected = []
    for kind, seed, category, source in rows:
        value = hashlib.sha512(seed).hexdigest()[: SIGNAL_LENGTHS[kind]].upper()
        lines.append(f"{kind},{value},{category},{source}")
        expected.append((kind, value.lower(), category, source))
    parsed = parse_list("\r\n".join(lines), default_source="x")
    assert [(s.signal_type, s.signal, s.category, s.source) for s in parsed] == expected


def _atom(entries: list[tuple[str, str, str]]) -> bytes:
    def esc(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    body = "".join(
        f'<entry><title>{esc(t)}</title><link href="{esc(link)}"/><summary>{esc(s)}</summary>'
        f"<id>urn:x:{n}</id><updated>2015-11-13T21:40:00Z</updated></entry>"
        for n, (t, link, s) in enumerate(entries))
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>f</title><id>urn:f</id><updated>2015-11-13T21:40:00Z</updated>{body}"
            "</feed>").encode()


def _check(entries: list) -> None:  # type: ignore[type-arg]
    assert len(entries) <= 500
    for entry in entries:
        assert urlsplit(entry.link).scheme in ("http", "https") and entry.link.strip()
        assert 0 < len(entry.text) <= 2000 and "<" not in entry.text.replace("&lt;", "")[:0]
        assert entry.author is None or len(entry.author) <= 100


@SETTINGS
@given(st.binary(max_size=4000))
def test_feed_reader_never_crashes_on_bytes(body: bytes) -> None:
    try:
        total, entries = read_entries(body, url="https://feeds.example/f")
    except FeedUnavailable:
        return
    assert total >= len(entries)
    _check(entries)


urls = st.one_of(
    st.builds(lambda host, path: f"https://{host}.example/{path}",
              st.text(alphabet="abcdefghij", min_size=1, max_size=10), cells),
    cells, st.sampled_from(["javascript:alert(1)", "file:///etc/passwd", "data:text/html,x",
                            "//no-scheme.example/x", "http://"]))


@SETTINGS
@given(st.lists(st.tuples(cells, urls, cells), max_size=20))
def test_feed_reader_keeps_only_well_formed_entries(items: list[tuple[str, str, str]]) -> None:
    try:
        total, entries = read_entries(_atom(items), url="https://feeds.example/f")
    except (FeedUnavailable, DomainError):
        return
    assert total == len(items)
    _check(entries)


def test_values_the_database_cannot_hold_are_a_422(client: TestClient, mode: str) -> None:
    """Past PostgreSQL's integer range, or a NUL in text: refused, never a 500, nothing stored.

    PostgreSQL cannot hold a number past its range: a 422 there; SQLite can, and the check it
    names does not exist: a 404. A NUL in a name is refused by the schema in both modes.
    """
    huge = client.post("/api/v1/safety/marks", json={"check_id": 2**40, "status": "safe"})
    assert huge.status_code == (422 if mode == "cluster" else 404), huge.text
    nul = client.post("/api/v1/persons", json={"full_name": "Jean\x00Dupont",
                                               "author_name": "Sa sœur"})
    assert nul.status_code == 422, nul.text
    assert "full_name" in nul.json()["error"]["message"], nul.text
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0
