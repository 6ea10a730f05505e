"""``tocsin pfif import`` streamed: a file over the old limits, bounded memory, idempotent."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bench.pfif_import import write_file
from tests.conftest import SEAL_KEY
from tests.persons.helpers import PFIF_DIR
from tocsin.cli import app
from tocsin.core.db import make_engine, make_sessionmaker
from tocsin.core.settings import Settings, get_settings
from tocsin.persons import pfif, pfif_stream
from tocsin.persons.models import DuplicateProposal, Note, Person

# A fresh interpreter runs the command and reports its own peak RSS (ru_maxrss: the test
# process's own peak would hide the import's).
CHILD = """
import json, resource, sys
from typer.testing import CliRunner
from tocsin.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
print(json.dumps({"exit": result.exit_code, "output": result.output,
                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    values = {"TOCSIN_DATABASE_URL": settings.resolved_database_url,
              "TOCSIN_SEAL_KEY": SEAL_KEY, "TOCSIN_VAR_DIR": str(settings.var_dir)}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield {**os.environ, **values}
    get_settings.cache_clear()


def child(env: dict[str, str], *args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", CHILD, *args], env=env, capture_output=True,
                          text=True, check=False, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def counts(settings: Settings) -> tuple[int, int, int]:
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            return tuple(int(session.scalar(select(func.count()).select_from(model)) or 0)
                         for model in (Person, Note, DuplicateProposal))  # type: ignore[return-value]
    finally:
        engine.dispose()


def test_a_file_over_the_old_limits_streams_in_bounded_memory_and_reimports_as_is(
    env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    big = tmp_path / "big.xml"
    with big.open("wb") as out:
        # 1,000 persons with 50 notes each; every 250th person has a bad sex (refused, and its
        # 50 notes with it: their person is unknown).
        records = write_file(out, 1_000, 50, bad_every=250, padding=3_000)
    assert records > pfif.MAX_RECORDS and big.stat().st_size > pfif.MAX_DOCUMENT_BYTES
    small = child(env, "pfif", "import", str(PFIF_DIR / "test.pfif-1.2.xml"))
    assert small["exit"] == 0, small["output"]

    report = tmp_path / "refused.txt"
    first = child(env, "pfif", "import", str(big), "--report", str(report), "--no-duplicates")
    assert first["exit"] == 1, first["output"]  # some records refused
    assert ("PFIF 1.4: 996 persons created, 0 updated, 49800 notes created, 0 unchanged, "
            "204 refused") in str(first["output"])
    lines = report.read_text().splitlines()
    assert len(lines) == 204
    assert lines[0].startswith("refused person #12700 pf.example.org/p249: sex must be")
    assert "refused note #12701 pf.example.org/n249.0: note for unknown person" in lines[4]
    # Memory: the 21 MB, 51,000-record file costs the importer no more than a few MB over the
    # 5-record sample (the whole-document reader needed ~10x the file).
    growth_mb = (int(first["peak_kb"]) - int(small["peak_kb"])) / 1024  # type: ignore[call-overload]
    assert growth_mb < 40, f"peak RSS grew {growth_mb:.0f} MB"
    assert counts(settings) == (997, 49_804, 0)

    again = child(env, "pfif", "import", str(big), "--report", str(report), "--no-duplicates")
    assert ("PFIF 1.4: 0 persons created, 0 updated, 0 notes created, 50796 unchanged, "
            "204 refused") in str(again["output"])
    assert counts(settings) == (997, 49_804, 0)


def _pfif(body: str, version: str = "1.4") -> bytes:
    return (f'<?xml version="1.0"?><pfif:pfif xmlns:pfif="http://zesty.ca/pfif/{version}">'
            f"{body}</pfif:pfif>").encode()


def _person(i: int, name: str, date: str = "2026-11-01T00:00:00Z", extra: str = "") -> str:
    return (f"<pfif:person><pfif:person_record_id>pf.example.org/p{i}</pfif:person_record_id>"
            f"<pfif:source_date>{date}</pfif:source_date><pfif:full_name>{name}</pfif:full_name>"
            f"{extra}</pfif:person>")


def _note(i: int, person: int) -> str:
    return (f"<pfif:note><pfif:note_record_id>pf.example.org/n{i}</pfif:note_record_id>"
            f"<pfif:person_record_id>pf.example.org/p{person}</pfif:person_record_id>"
            "<pfif:source_date>2026-11-02T00:00:00Z</pfif:source_date>"
            "<pfif:text>Vue au gymnase</pfif:text></pfif:note>")


def test_notes_before_their_person_newer_versions_and_duplicates(
    env: dict[str, str], settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tocsin.persons import bulk

    monkeypatch.setattr(bulk, "BATCH", 2)  # the note and its person in different chunks
    monkeypatch.setattr("tocsin.persons.interchange.BATCH_PAUSE_S", 0.0)
    doc = tmp_path / "a.xml"
    doc.write_bytes(_pfif(_note(1, 3) + _note(2, 9) + _person(1, "Aurélie Ferrandier")
                          + _person(2, "Bastien Quillevere") + _person(3, "Aurelie Ferrandier")))
    runner = CliRunner()
    result = runner.invoke(app, ["pfif", "import", str(doc)])
    assert result.exit_code == 1, result.output
    assert "3 persons created, 0 updated, 1 notes created, 0 unchanged, 1 refused" in result.output
    assert "refused note #2 pf.example.org/n2: note for unknown person 'pf.example.org/p9'" \
        in result.output
    assert counts(settings) == (3, 1, 1)  # the two Ferrandier proposed once as duplicates

    doc.write_bytes(_pfif(_person(1, "Aurélie Ferrandier-Roux", "2026-11-03T00:00:00Z")
                          + _person(2, "Bastien Quillevere", "2026-10-01T00:00:00Z")
                          + _person(3, "Aurelie Ferrandier", extra="<pfif:age>40</pfif:age>")))
    newer = runner.invoke(app, ["pfif", "import", str(doc)])
    # p1 newer: updated; p2 older: unchanged; p3 same date, other fields: updated.
    assert "0 persons created, 2 updated, 0 notes created, 1 unchanged" in newer.output
    assert counts(settings) == (3, 1, 1)


@pytest.mark.parametrize(("body", "why"), [
    (b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "x">]>'
     b'<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4">&a;</pfif:pfif>', "DTD"),
    (b'<!DOCTYPE p SYSTEM "http://127.0.0.1:9/x.dtd"><pfif/>', "DTD"),
    (b'<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/2.0"/>', "PFIF 2.0 is not supported"),
    (b"<other/>", "root element is not <pfif>"),
    (b"", "not well-formed XML"),
])
def test_hostile_or_foreign_documents_change_nothing(
    env: dict[str, str], settings: Settings, tmp_path: Path, body: bytes, why: str
) -> None:
    doc = tmp_path / "bad.xml"
    doc.write_bytes(body)
    result = CliRunner().invoke(app, ["pfif", "import", str(doc)])
    assert result.exit_code == 2 and why in result.output, result.output
    assert counts(settings) == (0, 0, 0)


def test_a_document_broken_halfway_keeps_what_came_before_and_names_the_place(
    env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    doc = tmp_path / "cut.xml"
    people = "".join(_person(i, f"Personne {i}") for i in range(600))  # ~120 kB: many reads
    doc.write_bytes(_pfif(people)[:-14] + b"<pfif:person><oops")
    result = CliRunner().invoke(app, ["pfif", "import", str(doc), "--no-duplicates"])
    assert result.exit_code == 2
    assert "not well-formed XML after record " in result.output, result.output
    assert "line 1, column" in result.output
    # The records read before the break are imported, the unfinished chunk too (lxml reads in
    # blocks: those of the block that breaks are lost); a re-run of the mended file is safe.
    assert 500 < counts(settings)[0] < 600


def test_reader_gives_what_the_whole_document_reader_gives() -> None:
    for sample in sorted(PFIF_DIR.glob("*.xml")):
        data = sample.read_bytes()
        whole = pfif.parse(data)
        reader = pfif_stream.Reader(io.BytesIO(data))
        items = list(reader)
        assert reader.version == whole.version
        assert [i.values for i in items if i.record_type == "person" and not i.reasons] \
            == whole.persons
        assert [i.values for i in items if i.record_type == "note" and not i.reasons] \
            == whole.notes
        assert [(i.index, i.record_id, i.reasons) for i in items if i.reasons] == [
            (e.index, e.record_id, e.reasons) for e in whole.errors]


def test_streamed_export_round_trips(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    sample = PFIF_DIR / "test.pfif-1.2.xml"
    assert runner.invoke(app, ["pfif", "import", str(sample)]).exit_code == 0
    out = tmp_path / "out.xml"
    result = runner.invoke(app, ["pfif", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    again, original = pfif.parse(out.read_bytes()), pfif.parse(sample.read_bytes())
    assert again.persons == original.persons
    assert sorted(again.notes, key=lambda n: n["note_record_id"]) == sorted(
        original.notes, key=lambda n: n["note_record_id"])
