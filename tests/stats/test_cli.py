"""``tocsin stats report``: reproducible from the database alone; bad periods exit 2."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.stats.factories import T0, seed
from tocsin.cli import app
from tocsin.core.db import make_engine, make_sessionmaker, session_scope
from tocsin.core.settings import Settings, get_settings

runner = CliRunner()
FROM, TO = (T0 - dt.timedelta(hours=1)).isoformat(), (T0 + dt.timedelta(days=1)).isoformat()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TOCSIN_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    with session_scope(make_sessionmaker(engine)) as session:
        seed(session)
    engine.dispose()
    yield settings
    get_settings.cache_clear()


def test_report_csv_and_html_are_reproducible(cli_env: Settings, tmp_path: Path) -> None:
    first = runner.invoke(app, ["stats", "report", "--from", FROM, "--to", TO,
                                "--format", "csv"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["stats", "report", "--from", FROM, "--to", TO,
                                 "--format", "csv"])
    # Same numbers twice (the rebuild counted nothing twice); only the generation time differs.
    assert first.stdout == second.stdout
    assert "sos.created,SOS reçus,,40,value" in first.stdout
    out = tmp_path / "report.html"
    html = runner.invoke(app, ["stats", "report", "--from", FROM, "--to", TO, "--out", str(out),
                               "--lang", "en"])
    assert html.exit_code == 0 and "Removal orders issued" in out.read_text()


def test_backwards_period_exits_2(cli_env: Settings) -> None:
    result = runner.invoke(app, ["stats", "report", "--from", TO, "--to", FROM])
    assert result.exit_code == 2 and "before it starts" in result.output
