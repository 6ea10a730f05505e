"""The command line: bad input exits 2 with a message, and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tocsin import __version__
from tocsin.cli import app
from tocsin.core.auth.models import UserAccount
from tocsin.core.db import make_engine, make_sessionmaker
from tocsin.core.settings import Settings, get_settings

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TOCSIN_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    yield settings  # type: ignore[misc]
    get_settings.cache_clear()


def _users(settings: Settings) -> int:
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    with make_sessionmaker(engine)() as session:
        count = session.scalar(select(func.count()).select_from(UserAccount)) or 0
    engine.dispose()
    return int(count)


def test_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_users_add_creates_an_account(cli_env: Settings) -> None:
    result = runner.invoke(
        app, ["users", "add", "prefecture.75", "--role", "authority"],
        env={"TOCSIN_PASSWORD": "Un-Mot-De-Passe-Solide-9"},
    )
    assert result.exit_code == 0, result.output
    assert _users(cli_env) == 1


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["users", "add", "bob", "--role", "wizard"], "Un-Mot-De-Passe-Solide-9", "unknown role"),
        (["users", "add", "bob", "--role", "unit"], "short", "at least 12"),
        (["users", "add", "bob", "--role", "unit"], "", "at least 12"),
        (["users", "add", "b", "--role", "unit"], "Un-Mot-De-Passe-Solide-9", "username"),
    ],
)
def test_users_add_refuses_bad_input(
    cli_env: Settings, args: list[str], password: str, message: str
) -> None:
    result = runner.invoke(app, args, env={"TOCSIN_PASSWORD": password})
    assert result.exit_code == 2
    assert message in result.output
    assert _users(cli_env) == 0


def test_users_add_refuses_a_duplicate(cli_env: Settings) -> None:
    env = {"TOCSIN_PASSWORD": "Un-Mot-De-Passe-Solide-9"}
    first = runner.invoke(app, ["users", "add", "dup.user", "--role", "unit"], env=env)
    assert first.exit_code == 0
    again = runner.invoke(app, ["users", "add", "dup.user", "--role", "admin"], env=env)
    assert again.exit_code == 2 and "already exists" in again.output
    assert _users(cli_env) == 1


def test_users_add_without_password_or_terminal_fails(cli_env: Settings) -> None:
    result = runner.invoke(app, ["users", "add", "nopass", "--role", "unit"], env={})
    assert result.exit_code == 2
    assert "TOCSIN_PASSWORD" in result.output


def test_db_upgrade_and_purge(cli_env: Settings) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["purge"])
    assert result.exit_code == 0, result.output
    assert "access_token" in result.output


def test_bus_tail_refuses_the_in_process_bus(cli_env: Settings) -> None:
    result = runner.invoke(app, ["bus", "tail"], env={"TOCSIN_BUS_URL": "memory://"})
    assert result.exit_code == 2
