"""``tocsin audit verify``: walk the audit log's hash chain, name the first broken entry.

Exit status: 0 when every entry links to the one before and the head agrees (and, with
``--head``, a head noted earlier is still in the chain), 1 when something does not, 2 on a
usage error. The last line says how many entries were checked and the head hash: note it
somewhere the database's owner cannot write, and give it back as ``--head`` next time to catch
entries removed from the end.
"""

from __future__ import annotations

import re
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(help="The audit log.", no_args_is_help=True)
console = Console(stderr=True)


@app.command("verify")
def verify(
    head: Annotated[str | None, typer.Option(
        "--head", help="A head hash printed by an earlier run; it must still be in the chain.",
    )] = None,
    batch: Annotated[int, typer.Option(min=100, max=100_000,
                                       help="Entries read per query.")] = 5000,
) -> None:
    """Check that no audit entry was changed, removed or slipped in."""
    from tocsin.core.audit import chain
    from tocsin.core.db import make_engine, make_sessionmaker
    from tocsin.core.settings import get_settings

    if head is not None and not re.fullmatch(r"[0-9a-f]{64}", head):
        console.print("[bold red]error:[/] --head takes a sha256 in hex (64 characters 0-9 a-f)")
        raise typer.Exit(2)
    engine = make_engine(get_settings().resolved_database_url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session, Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=console, transient=True) as progress:
            task = progress.add_task("verifying the audit chain", total=None)

            def advance(done: int) -> None:
                progress.update(task, advance=done)

            total = chain.count(session)
            progress.update(task, total=total)
            verdict = chain.verify(session, batch=batch, expect_head=head, progress=advance)
    finally:
        engine.dispose()
    if verdict.problem is not None:
        typer.echo(f"BROKEN after {verdict.checked} good entries: {verdict.problem}")
        raise typer.Exit(1)
    typer.echo(f"intact: {verdict.checked} entries, head {verdict.head}")
