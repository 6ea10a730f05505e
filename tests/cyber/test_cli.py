"""``tocsin cyber export`` / ``import`` on the test database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import stix2
from typer.testing import CliRunner

from tests.conftest import SEAL_KEY
from tocsin.cli import app
from tocsin.core.auth import Principal, Role
from tocsin.core.db import make_engine, make_sessionmaker, session_scope
from tocsin.core.settings import Settings, get_settings
from tocsin.cyber import intel
from tocsin.cyber.schemas import IndicatorIn, IndicatorPatch


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TOCSIN_SEAL_KEY", SEAL_KEY)
    monkeypatch.setenv("TOCSIN_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_export_holds_no_red_and_import_refuses_invalid(env: Settings, tmp_path: Path) -> None:
    engine = make_engine(env.resolved_database_url, pool_size=1)
    who = Principal(user_id=None, username="analyste", role=Role.analyst)
    second = Principal(user_id=None, username="analyste.b", role=Role.analyst)
    with session_scope(make_sessionmaker(engine)) as s:
        for value, level in (("green[.]example", "green"), ("red[.]example", "red")):
            row = intel.add(s, who=who, data=IndicatorIn(value=value, tlp=level))
            intel.review(s, who=second, indicator_id=row.id,
                         data=IndicatorPatch(status="confirmed"))
    engine.dispose()
    runner = CliRunner()
    out = tmp_path / "bundle.json"
    result = runner.invoke(app, ["cyber", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "green.example" in text and "red.example" not in text
    assert stix2.TLP_RED.id not in text
    assert json.loads(text)["type"] == "bundle"

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "bundle", "id": "bundle--x", "objects": [
        {"type": "indicator", "id": "indicator--nope", "spec_version": "2.1"}]}))
    refused = runner.invoke(app, ["cyber", "import", str(bad), "--source", "cert-fr"])
    assert refused.exit_code == 2 and "STIX error" in refused.output
    missing = runner.invoke(app, ["cyber", "import", str(tmp_path / "x"), "--source", "cert-fr"])
    assert missing.exit_code == 2
    good = runner.invoke(app, ["cyber", "import", str(out), "--source", "cert-fr"])
    assert good.exit_code == 0 and "objects stored" in good.output
