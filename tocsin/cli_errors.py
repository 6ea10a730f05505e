"""The command line's expected failures, each said in one line with what to run; no traceback.

An operator's first commands meet a database that is not there yet, not migrated, or not
reachable. Those are not bugs: every command shares this one translation instead of printing
SQLAlchemy's hundred lines (``TOCSIN_TRACEBACK=1`` prints the traceback as well, for a report).
Anything not recognised here is still said in one line, with the hint to get the traceback.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, NoSuchModuleError, OperationalError, ProgrammingError

EXIT_ERROR = 1

# SQLite's and PostgreSQL's words for a table or column the schema lacks: the database is new or
# older than this code (PostgreSQL: SQLSTATE 42P01 undefined table, 42703 undefined column).
_UNMIGRATED = ("no such table", "no such column", "does not exist")
_PG_UNMIGRATED = {"42P01", "42703"}


def safe_url(url: str) -> str:
    """Return ``url`` with its password hidden (it goes to a terminal, maybe a log)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: say it is one, do not echo what may hold a password
        return "<TOCSIN_DATABASE_URL, unparsable>"


def _database_url() -> str:
    from tocsin.core.settings import get_settings

    try:
        return safe_url(get_settings().resolved_database_url)
    except Exception:
        return "TOCSIN_DATABASE_URL"


def explain(exc: BaseException) -> str | None:
    """Return the one-line message for an expected failure, or None for anything else."""
    from tocsin.core.seal import SealError

    if isinstance(exc, DBAPIError):
        first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        code = getattr(exc.orig, "sqlstate", None)
        url = _database_url()
        if code in _PG_UNMIGRATED or (
                isinstance(exc, OperationalError | ProgrammingError)
                and any(word in first for word in _UNMIGRATED)
                and "database" not in first):
            return (f"the database {url} is not migrated ({first}): "
                    "run `tocsin db upgrade`")
        if isinstance(exc, OperationalError):
            if 'database "' in first and "does not exist" in first:
                said = first.split("FATAL:", 1)[-1].strip()
                return (f"{said} ({url}): create it (createdb), then run `tocsin db upgrade`")
            return (f"cannot reach the database {url} ({first}): check TOCSIN_DATABASE_URL "
                    "and that the server runs")
        return None
    if isinstance(exc, NoSuchModuleError):
        return f"TOCSIN_DATABASE_URL names a database this install cannot use: {exc}"
    if isinstance(exc, SealError):
        return f"{exc} (see docs/operator.md, keys)"
    if isinstance(exc, ValidationError):
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}"
                             for e in exc.errors()[:3])
        return f"invalid setting: {problems} (see docs/operator.md, settings)"
    if isinstance(exc, PermissionError | FileNotFoundError | IsADirectoryError):
        return f"{exc.strerror}: {exc.filename}"
    return None


def _say(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False,
                               soft_wrap=True)


@contextmanager
def handled() -> Iterator[None]:
    """Turn what escapes a command into one line on stderr and exit status 1."""
    try:
        yield
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:
        if os.environ.get("TOCSIN_TRACEBACK"):
            traceback.print_exc()
        message = explain(exc)
        if message is None:
            text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
            message = (f"unexpected {type(exc).__name__}: {text} "
                       "(TOCSIN_TRACEBACK=1 prints the traceback; please report it)")
        _say(message)
        sys.exit(EXIT_ERROR)


# Top-level commands that never open TOCSIN_DATABASE_URL, or migrate it themselves (db, serve,
# demo on its own database). Every other command, including one added later, gets an embedded
# database brought to the current schema before it runs.
NO_DATABASE = frozenset({"version", "db", "serve", "demo", "cap", "watch", "bus"})


def migrate_embedded(args: list[str]) -> None:
    """In embedded mode, create or migrate the SQLite database before a command that uses it.

    The embedded mode is one process on one machine (serve migrates at start the same way), so
    a first ``tocsin users add`` on a fresh directory just works. Cluster databases are never
    migrated implicitly: several workers share them, and ``tocsin db upgrade`` is the
    operator's step (a command run before it says so, see :func:`explain`).
    """
    command = next((a for a in args if not a.startswith("-")), None)
    if command is None or command in NO_DATABASE or "--help" in args:
        return
    from tocsin.core.settings import get_settings

    settings = get_settings()
    if not settings.is_sqlite:
        return
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from tocsin.core.db import make_engine
    from tocsin.core.migrate import alembic_config, upgrade

    url = settings.resolved_database_url
    if settings.database_url == "":
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    if current == set(ScriptDirectory.from_config(alembic_config(url)).get_heads()):
        return
    upgrade(url)
    _say_info(f"{'created' if not current else 'migrated'} the embedded database {safe_url(url)}")


def _say_info(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(message, highlight=False, soft_wrap=True)


def run(main: Callable[[], object]) -> NoReturn:
    """Run ``main`` under :func:`handled` and exit with its status."""
    with handled():
        main()
    sys.exit(0)
