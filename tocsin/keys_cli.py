"""``tocsin keys rotate``: re-seal every sealed field under a new key, with no downtime.

The order matters, because a worker can only read values sealed with keys it holds:

1. every worker gets the new key as ``TOCSIN_SEAL_KEY`` and the old one in
   ``TOCSIN_SEAL_OLD_KEYS`` and is restarted, one at a time (new writes use the new key, old
   values still read);
2. ``tocsin keys rotate`` re-seals, in batches, every value still under an old key;
3. once it reports nothing left, ``TOCSIN_SEAL_OLD_KEYS`` is emptied and the old key destroyed.

``--new-key``/``--generate`` fold step 1 into the command: it prints the settings, waits for the
operator to confirm the workers were restarted, then re-seals. Running it again is harmless: it
only touches values not yet under the current key.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from tocsin.core import keys, seal
from tocsin.core.settings import Settings, get_settings

app = typer.Typer(help="Seal keys (sensitive fields at rest).", no_args_is_help=True)
console = Console(stderr=True)


def _current_key(settings: Settings) -> tuple[str, str]:
    """Return the configured key and where it comes from (a setting or var/seal.key)."""
    if settings.seal_key:
        return settings.seal_key.strip(), "TOCSIN_SEAL_KEY"
    key_file = settings.var_dir / "seal.key"
    if key_file.exists():
        return key_file.read_text().strip(), str(key_file)
    raise typer.BadParameter("no seal key: set TOCSIN_SEAL_KEY (or start once: var/seal.key)")


def _write_key(path: Path, key: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")


@app.command("rotate")
def rotate(
    new_key: Annotated[str | None, typer.Option(
        "--new-key", envvar="TOCSIN_SEAL_NEW_KEY", show_envvar=True,
        help="Re-seal under this key (base64 of 32 bytes) instead of the configured one.")] = None,
    generate: Annotated[bool, typer.Option(
        "--generate", help="Make a new key and re-seal under it.")] = False,
    key_out: Annotated[Path | None, typer.Option(
        "--key-out", help="With --generate: write the new key to this new file (mode 600) "
        "instead of printing it.")] = None,
    yes: Annotated[bool, typer.Option(
        "--yes", help="Do not ask whether the workers already hold the new key.")] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="Only count the values not yet under the target key.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000)] = 500,
) -> None:
    """Re-seal every sealed field under the new key; resumable, safe to run again."""
    from tocsin.core.db import make_engine
    from tocsin.models import metadata

    settings = get_settings()
    if new_key and generate:
        raise typer.BadParameter("give --new-key or --generate, not both")
    if key_out and not generate:
        raise typer.BadParameter("--key-out goes with --generate")
    current, source = _current_key(settings)
    olds = [k.strip() for k in settings.seal_old_keys.split(",") if k.strip()]
    try:
        if generate:
            new_key = seal.generate_key()
        target = new_key.strip() if new_key else current
        readers = [k for k in [current, *olds] if k != target]
        sealer = seal.Sealer(target, readers)
    except seal.SealKeyError as exc:
        raise typer.BadParameter(str(exc)) from None

    if new_key and not check:
        if key_out:
            _write_key(key_out, target)
            shown = f"(the key written to {key_out})"
        else:
            typer.echo(target)
            shown = "(the key printed above)"
        where = (f"the key now in {source}" if source != "TOCSIN_SEAL_KEY"
                 else "the present TOCSIN_SEAL_KEY")
        console.print(
            "[bold]Every worker must hold the new key before values are re-sealed.[/] "
            "On each worker, one at a time:\n"
            + (f"  - replace the content of {source} with the new key {shown}\n"
               if source != "TOCSIN_SEAL_KEY" else f"  - TOCSIN_SEAL_KEY=<the new key {shown}>\n")
            + f"  - TOCSIN_SEAL_OLD_KEYS=<{where}"
            + (",<the present TOCSIN_SEAL_OLD_KEYS>" if olds else "") + ">\n"
            + "  - restart it.",
            highlight=False,
        )
        if not yes and not typer.confirm("Are all workers restarted with these settings?"):
            console.print("Nothing changed. Run `tocsin keys rotate` with the new settings "
                          "when the workers are restarted.")
            raise typer.Exit(1)

    engine = make_engine(settings.resolved_database_url, pool_size=1)
    try:
        if check:
            left = {c.name: keys.count_left(engine, c, sealer.current_key_id)
                    for c in keys.sealed_columns(metadata)}
            for name, count in left.items():
                typer.echo(f"{name}: {count} to re-seal")
            typer.echo(f"total: {sum(left.values())} to re-seal")
            return
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=console, transient=False) as progress:

            def on_column(column: keys.SealedColumn, pending: int) -> Callable[[int], None]:
                task = progress.add_task(column.name, total=pending)
                return lambda n: progress.advance(task, n)

            report = keys.rotate(engine, metadata, sealer, batch_size=batch_size,
                                 on_column=on_column)
    finally:
        engine.dispose()
    for column in report.columns:
        if column.resealed or column.left or column.unreadable:
            typer.echo(f"{column.name}: {column.resealed} re-sealed, {column.left} left"
                       + (f", {column.unreadable} unreadable" if column.unreadable else ""))
    typer.echo(f"re-sealed {report.resealed} values; {report.left} left under other keys")
    _advise(report)


def _advise(report: keys.RotationReport) -> None:
    if report.unreadable:
        console.print(
            f"[bold red]{report.unreadable} values are sealed with a key this command was not "
            "given.[/] Add that key to TOCSIN_SEAL_OLD_KEYS and run again."
        )
        raise typer.Exit(1)
    if report.left:
        console.print(
            f"{report.left} values were written under an old key while this ran (a worker not "
            "yet restarted with the new key?). Run `tocsin keys rotate` again."
        )
        raise typer.Exit(1)
    console.print(
        "[bold green]Every sealed field is under the new key.[/] Now empty "
        "TOCSIN_SEAL_OLD_KEYS on every worker (keeping the new key as TOCSIN_SEAL_KEY or in "
        "var/seal.key), restart them one at a time, and destroy the old key (backups taken "
        "before the rotation still need it: keep it only as long as they live)."
    )
