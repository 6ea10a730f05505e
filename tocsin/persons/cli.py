"""``tocsin pfif import FILE`` / ``tocsin pfif export [--out F]``: PFIF 1.2-1.4 in, 1.4 out;
``tocsin persons reindex``: rebuild the search index of every record.

Same policy as the API (good records kept, each bad one reported; a file that is not PFIF changes
nothing). Exit codes: 0 done, 1 some records refused, 2 bad input (unreadable or not PFIF).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

app = typer.Typer(help="PFIF 1.2-1.4 import, PFIF 1.4 export (missing persons).",
                  no_args_is_help=True)
persons_app = typer.Typer(help="Missing-persons registry maintenance.", no_args_is_help=True)
console = Console(stderr=True)


def _sessions() -> tuple[Engine, sessionmaker[Session], str]:
    from tocsin.core import seal
    from tocsin.core.db import make_engine, make_sessionmaker
    from tocsin.core.settings import get_settings

    settings = get_settings()
    seal.configure(seal.load_sealer(key=settings.seal_key, old_keys=settings.seal_old_keys,
                                    var_dir=settings.var_dir,
                                    allow_generate=settings.mode == "embedded"))
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    domain = urlsplit(settings.base_url).netloc.lower() or "tocsin.local"
    return engine, make_sessionmaker(engine), domain


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="PFIF 1.2, 1.3 or 1.4 XML file (any size).")],
    domain: Annotated[str | None, typer.Option(
        help="Accept only records of this repository domain (others are reported).")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Write the refused records here (default: standard output).")] = None,
    duplicates: Annotated[bool, typer.Option(
        "--duplicates/--no-duplicates",
        help="Propose likely duplicates as records arrive (slower on a first big load).",
    )] = True,
) -> None:
    """Import a PFIF file as a stream; report every refused record with its reasons.

    Read one record at a time (memory stays flat whatever the file's size) and written in
    short transactions (``bulk.BATCH`` records each, pausing between them on SQLite so a
    running server's writers get the database); if one fails, the earlier ones stay and
    running the same import again is safe and completes it.
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from tocsin.core.errors import DomainError
    from tocsin.persons import bulk, pfif, pfif_stream

    try:
        source = file.open("rb")
        size = file.stat().st_size
    except OSError as exc:
        console.print(f"[bold red]error:[/] cannot read {file}: {exc.strerror}")
        raise typer.Exit(2) from None
    out = report.open("w", encoding="utf-8") if report else None

    def refused(error: pfif.RecordError) -> None:
        line = (f"refused {error.record_type} #{error.index} {error.record_id or '(no id)'}: "
                + "; ".join(error.reasons))
        if out is not None:
            out.write(line + "\n")
        else:
            typer.echo(line)

    engine, sessions, home = _sessions()
    try:
        with source, Progress(
            TextColumn("PFIF import"), BarColumn(), DownloadColumn(),
            TextColumn("{task.fields[records]:,} records"), TimeRemainingColumn(),
            console=console, transient=True, disable=not console.is_terminal,
        ) as bar:
            task = bar.add_task("import", total=size, records=0)

            def progress(records: int, read: int) -> None:
                bar.update(task, completed=read, records=records)

            reader = pfif_stream.Reader(source)
            done = bulk.import_stream(
                sessions, reader, home_domain=home, source_domain=domain, actor="cli:pfif",
                refused=refused, progress=progress, duplicates=duplicates)
    except pfif.PfifError as exc:
        console.print(f"[bold red]error:[/] not a PFIF document: {exc}", highlight=False)
        raise typer.Exit(2) from None
    except DomainError as exc:
        console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
        if out is not None:
            out.close()
    typer.echo(f"PFIF {done.version}: {done.persons_created} persons created, "
               f"{done.persons_updated} updated, {done.notes_created} notes created, "
               f"{done.unchanged} unchanged, {done.refused} refused")
    if done.refused:
        raise typer.Exit(1)


@app.command("export")
def export_file(
    out: Annotated[Path | None, typer.Option("--out", help="Write here (default: stdout).")] = None,
) -> None:
    """Export every record and note as PFIF 1.4, streamed (the export is audited)."""
    import sys

    from tocsin.persons import bulk

    engine, sessions, _ = _sessions()
    try:
        if out is None:
            count = bulk.export_stream(sessions, sys.stdout.buffer, actor="cli:pfif")
            sys.stdout.buffer.flush()
        else:
            with out.open("wb") as target:
                count = bulk.export_stream(sessions, target, actor="cli:pfif")
    finally:
        engine.dispose()
    if out is not None:
        console.print(f"wrote {count} records to {out}")


@app.command("sync")
def sync_command(
    url: Annotated[str, typer.Argument(help=(
        "Feed base of the other repository, e.g. https://host/api/v1/persons/feeds"))],
    token: Annotated[str | None, typer.Option(
        envvar="TOCSIN_PFIF_SYNC_TOKEN",
        help="Bearer token of an account allowed to read the feeds (partner, authority).")] = None,
    domain: Annotated[str | None, typer.Option(
        help="Accept only records of this repository domain (others are reported).")] = None,
    since: Annotated[str | None, typer.Option(
        help="Start at this PFIF date (YYYY-MM-DDTHH:MM:SSZ) instead of the saved cursor.")
    ] = None,
    page_size: Annotated[int, typer.Option(
        min=1, max=200, help="Records asked per feed page (Person Finder serves 200 at most).")
    ] = 200,
) -> None:
    """Pull the person then note PFIF Atom feeds of another repository, from where the last
    run stopped; import them like a file (refused records reported; exit 1 if any)."""
    import httpx

    from tocsin.core.errors import DomainError
    from tocsin.core.settings import get_settings
    from tocsin.persons import pfif, sync

    if urlsplit(url).scheme not in ("http", "https"):
        console.print(f"[bold red]error:[/] {url!r} is not an http(s) URL")
        raise typer.Exit(2)
    try:
        start = pfif.parse_datetime(since) if since else None
    except ValueError as exc:
        console.print(f"[bold red]error:[/] --since: {exc}", highlight=False)
        raise typer.Exit(2) from None

    def refused(error: pfif.RecordError) -> None:
        typer.echo(f"refused {error.record_type} {error.record_id or '(no id)'}: "
                   + "; ".join(error.reasons))

    headers = {"Accept": "application/atom+xml"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    engine, sessions, home = _sessions()
    try:
        with httpx.Client(timeout=30.0, headers=headers) as client:
            done = sync.sync(sessions, client, url, home_domain=home, source_domain=domain,
                             var_dir=get_settings().var_dir, since=start, refused=refused,
                             page_size=page_size,
                             log=lambda line: console.print(line, highlight=False))
    except sync.SyncError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    except DomainError as exc:
        console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    typer.echo(f"PFIF sync: {done.persons_created} persons created, "
               f"{done.persons_updated} updated, {done.notes_created} notes created, "
               f"{done.unchanged} unchanged, {done.refused} refused")
    if done.refused:
        raise typer.Exit(1)


@persons_app.command("reindex")
def reindex_command() -> None:
    """Rebuild the search index of every person record (one transaction), with progress."""
    from rich.progress import Progress

    from tocsin.persons.reindex import reindex

    engine, _, _ = _sessions()
    try:
        with engine.begin() as connection, Progress(console=console) as progress:
            task = progress.add_task("reindexing persons", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            count = reindex(connection, progress=advance)
    finally:
        engine.dispose()
    typer.echo(f"reindexed {count} person records")
