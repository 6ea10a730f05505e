"""Hash lists made by ThreatExchange's and HMA's own code are read; ours are written back in
their layouts; our hashes are theirs, digit for digit.

The fixtures under ``data/`` were made by Meta's ``threatexchange`` 1.2.17 (its CLI and its
signal types, which HMA calls): ``data/make_fixtures.sh`` says how.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.orm import Session

from tests.factories import login
from tocsin.core.auth import Role
from tocsin.core.errors import Invalid
from tocsin.watch import exchange, hashes
from tocsin.watch.filehash import hash_file
from tocsin.watch.media import pdq_hash

DATA = Path(__file__).parent / "data"
API = "/api/v1/watch"


def _te_lines() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (DATA / "te_hash.txt").read_text().splitlines():
        kind, value = line.split()
        found.setdefault(kind, []).append(value)
    return found


def test_our_hashes_are_threatexchanges() -> None:
    theirs = _te_lines()
    assert [pdq_hash(Image.open(DATA / f))[0] for f in ("scene_a.png", "scene_b.png")] == \
        theirs["pdq"]
    ours = hash_file(DATA / "scene_a.png")
    assert ([ours["md5"]], [ours["sha256"]]) == (theirs["video_md5"], theirs["video_sha256"])
    text = (DATA / "sample_text.txt").read_text().strip()
    assert [hashes.text_tlsh(text)] == theirs["text_tlsh"]


def _rows(text: str, source: str = "import:t") -> set[tuple[str, str, str, str]]:
    return set(hashes.check_list(text, source))


def test_threatexchange_hash_output_is_read() -> None:
    text = (DATA / "te_hash.txt").read_text()
    assert exchange.detect(text) == "te-txt"
    theirs = _te_lines()
    assert _rows(text) == {
        ("pdq", theirs["pdq"][0], "other", "import:t"),
        ("pdq", theirs["pdq"][1], "other", "import:t"),
        ("md5", theirs["video_md5"][0], "other", "import:t"),
        ("sha256", theirs["video_sha256"][0], "other", "import:t"),
        ("tlsh", theirs["text_tlsh"][0], "other", "import:t")}


def test_threatexchange_dataset_csv_is_read() -> None:
    text = (DATA / "te_dataset.csv").read_text()
    assert exchange.detect(text) == "te-csv"
    rows = _rows(text)
    assert {(t, s) for t, _, _, s in rows} == {("pdq", "partner-x"), ("md5", "partner-x"),
                                               ("sha256", "partner-x")}
    assert len(rows) == 4
    negative = text + f"pdq,{'0' * 64},partner-x,NEGATIVE_CLASS,\n"
    tagged = text + f"pdq,{'1' * 64},partner-x,POSITIVE_CLASS,foo hate\n"
    assert _rows(negative) == rows  # "not of the class" is not a signal to match
    assert ("pdq", "1" * 64, "hate", "partner-x") in _rows(tagged)


@pytest.mark.parametrize("name", ["hma_hash.json", "hma_bank_signals.json"])
def test_hma_json_is_read(name: str) -> None:
    text = (DATA / name).read_text()
    assert exchange.detect(text) == "hma-json"
    theirs = _te_lines()
    expected = {("pdq", theirs["pdq"][1])} if name == "hma_hash.json" else {
        ("pdq", theirs["pdq"][0]), ("md5", theirs["video_md5"][0])}
    assert {(t, v) for t, v, _, _ in _rows(text)} == expected


@pytest.mark.parametrize("text, message", [
    ('{"pdq": "xyz"}', "object: a pdq signal is 64"),
    ('[{"pdq": "' + "a" * 64 + '"}, {"vpdq": "abc"}]', "item 1: unknown signal type 'vpdq'"),
    ('[1]', "item 0: expected an object"),
    ('{"pdq": 5}', "must be a string"),
    ('{"pdq": "' + "a" * 64, "not readable JSON"),
    ("pdq\n", "line 1: expected 'signal_type signal'"),
    ("dhash 00000000000000ff\n", "dhash lists are no longer matched"),
    ("signal_type,signal_str,collab,category,tags\ntext_tlsh,T1zz,x,POSITIVE_CLASS,\n",
     "line 2: a tlsh signal is T1"),
])
def test_bad_foreign_lists_are_refused_naming_the_row(text: str, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        hashes.check_list(text, "t")


ROWS = [("pdq", "d4" * 32, "terrorism_apology", "partner"),
        ("md5", "a2" * 16, "hate", "=HYPERLINK(\"http://evil.example\")"),
        ("tlsh", "T1" + "0A" * 35, "call_to_violence", "partner"),
        ("text_sha256", "b" * 64, "hate", "partner")]


@pytest.mark.parametrize("layout", exchange.FORMATS)
def test_every_layout_reads_back(layout: str) -> None:
    written = exchange.write(ROWS, layout)
    assert exchange.detect(written) == layout
    back = hashes.check_list(written, "import:t")
    theirs = layout != "tocsin"
    expected = [r for r in ROWS if not (theirs and r[0] == "text_sha256")]
    assert [r[:2] for r in back] == [r[:2] for r in expected]
    if layout in ("tocsin", "te-csv", "hma-json"):  # the layouts with room for a category
        assert [r[2] for r in back] == [r[2] for r in expected]


def test_their_layouts_use_their_names_and_limits() -> None:
    hma = json.loads(exchange.write(ROWS, "hma-json"))
    assert [sorted(o) for o in hma] == [["note", "pdq"], ["note", "video_md5"],
                                        ["note", "text_tlsh"]]
    assert all(len(o["note"]) <= exchange.HMA_NOTE_MAX for o in hma)
    te = list(csv.reader(io.StringIO(exchange.write(ROWS, "te-csv"))))
    assert te[0] == ["signal_type", "signal_str", "collab", "category", "tags"]
    assert te[2][2].startswith("'=")  # a partner's name cannot run as a formula
    assert exchange.write(ROWS, "te-txt").splitlines()[1] == f"video_md5 {'a2' * 16}"


def test_exchange_over_http(client: TestClient, db: Session) -> None:
    mod = login(client, Role.moderator)
    for name in ("te_dataset.csv", "hma_bank_signals.json", "te_hash.txt"):
        r = client.post(f"{API}/hashes/import", headers={**mod, "Content-Type": "text/plain"},
                        content=(DATA / name).read_bytes())
        assert r.status_code == 200, r.text
    assert r.json() == {"added": 1, "total_rows": 5}  # only the TLSH was new
    r = client.get(f"{API}/hashes/export", headers=mod, params={"format": "hma-json"})
    assert r.headers["content-type"].startswith("application/json")
    assert len(r.json()) == 5
    r = client.get(f"{API}/hashes/export", headers=mod, params={"format": "te-txt"})
    assert sorted(r.text.splitlines()) == sorted((DATA / "te_hash.txt").read_text().splitlines())
    r = client.get(f"{API}/hashes/export", headers=mod, params={"format": "xml"})
    assert r.status_code == 422 and "format" in r.text
    analyst = login(client, Role.analyst)
    assert client.get(f"{API}/hashes/export", headers=analyst).status_code == 200
    for role in (Role.platform, Role.dispatcher):
        assert client.get(f"{API}/hashes/export", headers=login(client, role),
                          params={"format": "te-csv"}).status_code == 403
