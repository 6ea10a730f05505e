"""``tocsin demo``: serve Tocsin and replay the evening of 13 November 2015 through its API."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from tocsin.demo.replay import Options

console = Console(stderr=True)

Speed = Annotated[float, typer.Option(
    min=0, max=100_000,
    help="Time compression: 60 replays the three hours in about three minutes; "
         "0 runs every step at once.")]
Seed = Annotated[int, typer.Option(help="Seed of the simulated calls, positions and names.")]
Scale = Annotated[float, typer.Option(
    min=0.01, max=10, help="Multiplies the number of calls, marks, records and offers "
                           "(1: about 450 SOS).")]


def demo(
    speed: Speed = 60.0,
    seed: Seed = 13,
    scale: Scale = 1.0,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    url: Annotated[str | None, typer.Option(
        help="Replay against this running server instead of starting one (it must use the "
             "same TOCSIN_DATABASE_URL: the demo administrator is created there).")] = None,
    then_exit: Annotated[bool, typer.Option(
        "--then-exit", help="Stop the server once the evening is replayed.")] = False,
) -> None:
    """Serve Tocsin and replay the evening of 13 November 2015 (accounts printed at start)."""
    options = Options(speed=speed, seed=seed, scale=scale)
    if url is not None:
        _against(url, options)
        return
    from tocsin.demo.serve import serve_demo

    result = serve_demo(host, port, options, then_exit=then_exit, console=console)
    if result.error or (result.outcome and result.outcome.problems):
        raise typer.Exit(1)


def _against(url: str, options: Options) -> None:
    import httpx

    from tocsin.core.settings import get_settings
    from tocsin.demo.client import DemoError
    from tocsin.demo.serve import replay_against, report

    settings = get_settings()
    try:
        outcome = replay_against(url, settings.resolved_database_url, options, console, None,
                                 settings.var_dir / "demo-accounts.txt")
    except (DemoError, httpx.HTTPError) as exc:
        console.print(f"[bold red]demo failed:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    report(console, outcome, url, serving=False)
    if outcome.problems:
        raise typer.Exit(1)
