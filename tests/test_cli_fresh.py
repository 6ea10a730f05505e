"""The operator's first minutes: every command that opens the database, run as the operator runs
it (a subprocess) on a database that is new, not migrated, or not there at all.

Embedded (a fresh var directory): the command migrates the SQLite file and does its work.
Cluster (an empty PostgreSQL database, or one that does not answer): one line saying what to run,
exit status 1, and never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SEAL_KEY
from tests.served import free_port

# Each opens TOCSIN_DATABASE_URL; ``users add`` writes, the others read or delete.
COMMANDS = [
    ["users", "add", "first-admin", "--role", "admin"],
    ["purge"],
    ["persons", "reindex"],
    ["pfif", "export"],
    ["cyber", "export"],
    ["stats", "report", "--from", "2015-11-13", "--to", "2015-11-14"],
]


def _tocsin(args: list[str], database_url: str, var_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env.update(TOCSIN_DATABASE_URL=database_url, TOCSIN_VAR_DIR=str(var_dir),
               TOCSIN_SEAL_KEY=SEAL_KEY, TOCSIN_PASSWORD="Correct-Horse-42",
               COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "tocsin", *args], env=env, cwd=var_dir.parent,
                          capture_output=True, text=True, timeout=120, check=False)


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "sqlalche.me" not in output, output
    assert result.returncode == 1, output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    return errors[0]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_embedded_first_command_migrates_and_works(args: list[str], tmp_path: Path) -> None:
    var = tmp_path / "var"  # not even created yet
    result = _tocsin(args, "", var)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    assert "created the embedded database" in result.stderr
    assert (var / "tocsin.db").exists()
    again = _tocsin(["purge"], "", var)  # the next command finds it migrated: no message
    assert again.returncode == 0 and "embedded database" not in again.stderr, again.stderr


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_cluster_unmigrated_database_says_run_db_upgrade(
        args: list[str], mode: str, fresh_url: str, tmp_path: Path) -> None:
    if mode != "cluster":
        pytest.skip("the embedded database is migrated by the command itself (test above)")
    line = _one_error_line(_tocsin(args, fresh_url, tmp_path))
    assert "not migrated" in line and "run `tocsin db upgrade`" in line, line


def test_cluster_missing_or_unreachable_database_is_one_line(tmp_path: Path) -> None:
    missing = "postgresql+psycopg://postgres@127.0.0.1:5432/tocsin_no_such_database"
    line = _one_error_line(_tocsin(["purge"], missing, tmp_path))
    assert "does not exist" in line and "createdb" in line, line
    closed = f"postgresql+psycopg://postgres:hunter2@127.0.0.1:{free_port()}/x"
    line = _one_error_line(_tocsin(["pfif", "export"], closed, tmp_path))
    assert "cannot reach the database" in line and "TOCSIN_DATABASE_URL" in line, line
    assert "hunter2" not in line  # the URL is shown without its password


def test_help_and_database_free_commands_leave_a_fresh_directory_alone(tmp_path: Path) -> None:
    var = tmp_path / "var"
    for args in (["--help"], ["users", "add", "--help"], ["version"]):
        result = _tocsin(args, "", var)
        assert result.returncode == 0, result.stdout + result.stderr
    assert not (var / "tocsin.db").exists()
