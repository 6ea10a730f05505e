"""``tocsin pfif import`` / ``export`` on the test database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SEAL_KEY
from tests.persons.helpers import PFIF_DIR
from tocsin.cli import app
from tocsin.core.settings import Settings, get_settings
from tocsin.persons import pfif


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TOCSIN_SEAL_KEY", SEAL_KEY)
    monkeypatch.setenv("TOCSIN_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_import_reports_the_bad_record_and_export_round_trips(env: None, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["pfif", "import", str(PFIF_DIR / "test.pfif-1.2-badrecord.xml"),
                                 "--domain", "test.google.com"])
    assert result.exit_code == 1, result.output
    assert "1 persons created" in result.output and "4 notes created" in result.output
    assert "refused person #6 foo.google.com/person.666" in result.output
    out = tmp_path / "out.xml"
    exported = runner.invoke(app, ["pfif", "export", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    again = pfif.parse(out.read_bytes())
    original = pfif.parse((PFIF_DIR / "test.pfif-1.2.xml").read_bytes())
    assert again.persons == original.persons and len(again.notes) == 4


def test_not_pfif_exits_2_and_missing_file_too(env: None, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<not pfif")
    runner = CliRunner()
    result = runner.invoke(app, ["pfif", "import", str(bad)])
    assert result.exit_code == 2 and "not a PFIF document" in result.output
    assert runner.invoke(app, ["pfif", "import", str(tmp_path / "nope.xml")]).exit_code == 2


def test_persons_reindex(env: None) -> None:
    runner = CliRunner()
    runner.invoke(app, ["pfif", "import", str(PFIF_DIR / "test.pfif-1.2.xml")])
    result = runner.invoke(app, ["persons", "reindex"])
    assert result.exit_code == 0, result.output
    assert "reindexed 1 person records" in result.output


def test_import_writes_in_batches_and_a_rerun_changes_nothing(
    env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tocsin.persons import interchange

    monkeypatch.setattr(interchange, "BATCH", 1)  # 1 person and 4 notes: five transactions
    monkeypatch.setattr(interchange, "BATCH_PAUSE_S", 0.001)
    runner = CliRunner()
    sample = str(PFIF_DIR / "test.pfif-1.2.xml")
    first = runner.invoke(app, ["pfif", "import", sample])
    assert first.exit_code == 0, first.output
    assert "1 persons created, 0 updated, 4 notes created, 0 unchanged" in first.output
    again = runner.invoke(app, ["pfif", "import", sample])
    assert again.exit_code == 0, again.output
    assert "0 persons created, 0 updated, 0 notes created, 5 unchanged" in again.output
