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
    file: Annotated[Path, typer.Argument(help="PFIF 1.2, 1.3 or 1.4 XML file.")],
    domain: Annotated[str | None, typer.Option(
        help="Accept only records of this repository domain (others are reported).")] = None,
) -> None:
    """Import a PFIF file; report every refused record with its reasons.

    Written in short transactions (``interchange.BATCH`` records each, pausing between them on
    SQLite so a running server's writers get the database); if one fails, the earlier batches
    stay and running the same import again is safe and completes it.
    """
    from tocsin.core.errors import DomainError
    from tocsin.persons import interchange, pfif

    try:
        if file.stat().st_size > pfif.MAX_DOCUMENT_BYTES:
            raise typer.BadParameter(f"{file} is larger than {pfif.MAX_DOCUMENT_BYTES} bytes")
        data = file.read_bytes()
    except OSError as exc:
        console.print(f"[bold red]error:[/] cannot read {file}: {exc.strerror}")
        raise typer.Exit(2) from None
    engine, sessions, home = _sessions()
    try:
        parsed = interchange.parse_document(data)
        report = interchange.import_parsed(
            sessions, parsed, home_domain=home, source_domain=domain, actor="cli:pfif")
    except DomainError as exc:
        console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    typer.echo(f"PFIF {report.version}: {report.persons_created} persons created, "
               f"{report.persons_updated} updated, {report.notes_created} notes created, "
               f"{report.unchanged} unchanged, {len(report.rejected)} refused")
    for error in report.rejected:
        typer.echo(f"refused {error.record_type} #{error.index} {error.record_id or '(no id)'}: "
                   + "; ".join(error.reasons))
    if report.rejected:
        raise typer.Exit(1)


@app.command("export")
def export_file(
    out: Annotated[Path | None, typer.Option("--out", help="Write here (default: stdout).")] = None,
) -> None:
    """Export every record and note as PFIF 1.4 (the export is audited)."""
    from tocsin.core.db import session_scope
    from tocsin.persons import interchange

    engine, sessions, _ = _sessions()
    try:
        with session_scope(sessions) as session:
            data = interchange.export_document(session, actor="cli:pfif")
    finally:
        engine.dispose()
    if out is None:
        typer.echo(data.decode("utf-8"), nl=False)
    else:
        out.write_bytes(data)
        console.print(f"wrote {out}")


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
