"""``tocsin stats report --from --to [--format html|csv] [--out F]`` and ``tocsin stats rebuild``.

The report first reads the period's rows from every domain into facts (idempotent: what is
already counted stays counted once), so it is reproducible from the database alone, with or
without a running server. Exit codes: 0 done, 2 bad input (a period backwards or too long).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

app = typer.Typer(help="Observatory: transparency report, rebuild of the figures.",
                  no_args_is_help=True)
console = Console(stderr=True)

FromOpt = Annotated[dt.datetime, typer.Option("--from", help="start, ISO 8601 (UTC if no zone)")]
ToOpt = Annotated[dt.datetime, typer.Option("--to", help="end (excluded), ISO 8601")]


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _rebuild(session: Session, start: dt.datetime, end: dt.datetime) -> int:
    """Rebuild ``[start, end)`` in committed batches, showing progress a day at a time."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from tocsin.stats import ingest
    from tocsin.stats.registry import registry

    days = sum(1 for _ in ingest.windows(start, end))
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=False) as progress:
        task = progress.add_task("facts, by day", total=days)
        return ingest.rebuild(session, registry(), start=start, end=end,
                              advance=lambda n: progress.advance(task, n))


def _open() -> tuple[Engine, sessionmaker[Session]]:
    # No sealer: figures never read a sealed column, so the report needs no key (and a
    # figures module that tried would fail loudly rather than decrypt personal data).
    from tocsin.core.db import make_engine, make_sessionmaker
    from tocsin.core.settings import get_settings

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    return engine, make_sessionmaker(engine)


@app.command("report")
def report(
    start: FromOpt,
    end: ToOpt,
    fmt: Annotated[str, typer.Option("--format", help="html or csv")] = "html",
    out: Annotated[Path | None, typer.Option("--out", help="file to write (default: stdout)")]
    = None,
    lang: Annotated[str, typer.Option("--lang", help="fr or en")] = "fr",
) -> None:
    """Write the public transparency report of a period (cells under k suppressed)."""
    from tocsin.core.db import session_scope
    from tocsin.core.errors import DomainError
    from tocsin.stats import queries, render
    from tocsin.stats import report as report_mod
    from tocsin.stats.config import StatsSettings
    from tocsin.stats.registry import registry

    if fmt not in ("html", "csv") or lang not in ("fr", "en"):
        console.print("[red]--format must be html or csv, --lang fr or en[/red]")
        raise typer.Exit(2)
    cfg = StatsSettings()
    try:
        p = queries.period(_utc(start), _utc(end), max_days=cfg.max_period_days)
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc
    engine, sessions = _open()
    try:
        with session_scope(sessions) as session:
            whole = report_mod.snap(p, cfg.public_grain)  # the period the report will cover
            _rebuild(session, whole.start, whole.end)
        with session_scope(sessions) as session:
            built = report_mod.build(session, registry(), p, k=cfg.k, public=True,
                                     grain=cfg.public_grain)
            text = render.to_csv(built, lang) if fmt == "csv" else render.to_html(built, lang)
    finally:
        engine.dispose()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"report written to {out}")


@app.command("rebuild")
def rebuild(start: FromOpt, end: ToOpt) -> None:
    """Read a period of every domain's rows into facts and rollups (idempotent, committed in
    batches: an interrupted rebuild is finished by running it again)."""
    from tocsin.core.db import session_scope

    engine, sessions = _open()
    try:
        with session_scope(sessions) as session:
            added = _rebuild(session, _utc(start), _utc(end))
    finally:
        engine.dispose()
    console.print(f"{added} new facts")
