"""``tocsin cap …``: CAP tools for operators (no database needed).

``tocsin cap validate FILE…`` checks each file with the same hardened parser and rules as the
import endpoint, under the same limits (bytes, elements, attributes, depth, text), and prints every
problem with its location. Exit status: 0 when every file is valid CAP 1.2 (1.1 is read as 1.2),
1 when one is not, 2 on a usage error (no such file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tocsin.alerts import validate

app = typer.Typer(help="Common Alerting Protocol (CAP 1.2) tools.", no_args_is_help=True)


@app.command("validate")
def validate_files(
    files: Annotated[list[Path], typer.Argument(help="CAP XML files to check.")],
) -> None:
    """Validate CAP files against the CAP 1.2 schema and the rules it misses."""
    missing = [f for f in files if not f.is_file()]
    if missing:
        typer.echo(f"error: no such file: {', '.join(str(f) for f in missing)}", err=True)
        raise typer.Exit(2)
    failed = 0
    for path in files:
        size = path.stat().st_size
        if size > validate.MAX_BYTES:  # not even read: the same limit as the routes
            too_big = validate.Problem("document", f"{size} bytes: {validate.too_large().message}")
            report = validate.CapReport([too_big])
        else:
            report = validate.check(path.read_bytes())
        if report.ok:
            note = f" (CAP {report.version}, read as 1.2)" if report.version != "1.2" else ""
            typer.echo(f"{path}: valid{note}")
            continue
        failed += 1
        typer.echo(f"{path}: INVALID ({len(report.problems)} problem(s))")
        for problem in report.problems:
            typer.echo(f"  {problem.location}: {problem.message}")
    if failed:
        raise typer.Exit(1)
