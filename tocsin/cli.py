"""The ``tocsin`` command line (also ``python -m tocsin``). Bad input exits with code 2."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from tocsin import __version__
from tocsin.alerts.cli import app as cap_app
from tocsin.cli_errors import safe_url as _safe_url
from tocsin.core.audit.cli import app as audit_app
from tocsin.core.settings import get_settings
from tocsin.cyber.cli import app as cyber_app
from tocsin.demo.cli import demo as demo_command
from tocsin.keys_cli import app as keys_app
from tocsin.persons.cli import app as pfif_app
from tocsin.persons.cli import persons_app
from tocsin.stats.cli import app as stats_app
from tocsin.watch.cli import app as watch_app


class _TocsinApp(typer.Typer):
    """The app as the console script runs it: an embedded database is migrated before the
    command that needs it, and expected failures (database absent, unmigrated, unreachable; a
    missing key) end in one line saying what to run, never a traceback (tocsin.cli_errors).
    Tests that invoke the click command directly still see the exceptions themselves."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from tocsin import cli_errors

        argv = kwargs.get("args")
        with cli_errors.handled():
            cli_errors.migrate_embedded(list(sys.argv[1:] if argv is None else argv))
            return super().__call__(*args, **kwargs)


app = _TocsinApp(
    help="Tocsin: silent SOS, dispatch, alerts, persons, shelter, watch, cyber desk.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(pfif_app, name="pfif")
app.add_typer(persons_app, name="persons")
app.add_typer(cap_app, name="cap")
app.add_typer(watch_app, name="watch")
app.add_typer(keys_app, name="keys")
app.add_typer(cyber_app, name="cyber")
app.command("demo")(demo_command)
app.add_typer(stats_app, name="stats")
app.add_typer(audit_app, name="audit")

console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as an error and return the exit to raise."""
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


@app.command()
def version() -> None:
    """Print Tocsin's version."""
    typer.echo(f"tocsin {__version__}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations to TOCSIN_DATABASE_URL."""
    from tocsin.core.migrate import upgrade

    url = get_settings().resolved_database_url
    try:
        upgrade(url)
    except Exception as exc:
        raise fail(f"migration failed on {_safe_url(url)}: {exc}", 1) from None
    typer.echo(f"database at {_safe_url(url)} is up to date")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Username (3-64 letters, digits, . _ -).")],
    role: Annotated[str, typer.Option("--role", help="unit, dispatcher, authority, ...")],
) -> None:
    """Create an account; the password comes from TOCSIN_PASSWORD or a prompt."""
    from tocsin.core import audit
    from tocsin.core.auth import service
    from tocsin.core.db import make_engine, make_sessionmaker, session_scope
    from tocsin.core.errors import DomainError

    try:
        service.parse_role(role)
    except DomainError as exc:
        raise fail(exc.message) from None
    password = os.environ.get("TOCSIN_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise fail("no password: set TOCSIN_PASSWORD or run in a terminal to be prompted")
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            service.create_user(session, username=name, password=password, role=role)
            # Accounts made from the shell are in the audit log like those made by an admin.
            audit.record(session, actor="system:cli", action="create_account",
                         object_type="account", object_id=name, reason=f"role {role}")
    except DomainError as exc:
        raise fail(exc.message) from None
    finally:
        engine.dispose()
    typer.echo(f"created {name} ({role})")


@users_app.command("reset-password")
def users_reset_password(
    name: Annotated[str, typer.Argument(help="The account whose password is reset.")],
) -> None:
    """Reset a password: the old one stops working, every session is revoked, and a one-time
    code (24 h) is printed with which the person chooses a new one (staff page or
    POST /api/v1/auth/password/reset)."""
    from tocsin.core import audit
    from tocsin.core.auth import passwords
    from tocsin.core.db import make_engine, make_sessionmaker, session_scope
    from tocsin.core.errors import DomainError

    engine = make_engine(get_settings().resolved_database_url, pool_size=1)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            _, code, expires = passwords.issue_reset(session, username=name, by="system:cli")
            audit.record(session, actor="system:cli", action="password_reset_issued",
                         object_type="account", object_id=name)
    except DomainError as exc:
        raise fail(exc.message) from None
    finally:
        engine.dispose()
    # The code last, alone on its line: a script can take it with ``tail -1``.
    typer.echo(f"reset code for {name}, single use, valid until {expires:%Y-%m-%d %H:%M} UTC:")
    typer.echo(code)


@users_app.command("mfa-code")
def users_mfa_code(
    name: Annotated[str, typer.Argument(help="The account that will enrol 2FA.")],
    reset: Annotated[bool, typer.Option(
        "--reset", help="First remove the account's 2FA and revoke its sessions (lost phone).",
    )] = False,
) -> None:
    """Print a one-time activation code (72 h) with which the account may enrol 2FA."""
    from tocsin.core import audit
    from tocsin.core.auth import mfa, service
    from tocsin.core.db import make_engine, make_sessionmaker, session_scope
    from tocsin.core.errors import DomainError

    engine = make_engine(get_settings().resolved_database_url, pool_size=1)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            if reset:
                user = mfa.reset(session, username=name)
                service.revoke_all_tokens(session, user_id=user.id)
                audit.record(session, actor="system:cli", action="mfa_reset",
                             object_type="account", object_id=name)
            _, code, expires = mfa.issue_activation(session, username=name, by="system:cli")
            audit.record(session, actor="system:cli", action="mfa_activation_issued",
                         object_type="account", object_id=name)
    except DomainError as exc:
        raise fail(exc.message) from None
    finally:
        engine.dispose()
    typer.echo(f"2FA activation code for {name}, single use, valid until "
               f"{expires:%Y-%m-%d %H:%M} UTC:")
    typer.echo(code)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    demo: Annotated[bool, typer.Option(
        "--demo", help="Also replay the evening of 13 November (as `tocsin demo`).")] = False,
) -> None:
    """Apply migrations if needed, then serve the API and the web pages."""
    import uvicorn

    from tocsin.core.migrate import upgrade

    if demo:
        if workers != 1:
            raise fail("--demo runs one worker; drop --workers")
        demo_command(host=host, port=port)
        return

    from pydantic import ValidationError

    try:
        settings = get_settings()
    except ValidationError as exc:  # e.g. a TOCSIN_TRUSTED_PROXIES entry that is no address
        raise fail("invalid setting: " + "; ".join(e["msg"] for e in exc.errors())) from None
    upgrade(settings.resolved_database_url)
    console.print(
        f"Tocsin {__version__} ({settings.mode}) on http://{host}:{port}  ·  API docs /docs"
    )
    uvicorn.run(
        "tocsin.app:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        # Off unless the operator asks for the redacted one (tocsin.core.logredact).
        access_log=settings.access_log == "redacted",
        # X-Forwarded-For is believed only from the operator's proxies: uvicorn's own default
        # trusts loopback, which let any local client choose its rate-limit address.
        proxy_headers=bool(settings.trusted_proxy_list),
        forwarded_allow_ips=settings.trusted_proxy_list,
    )


@app.command()
def purge() -> None:
    """Delete what has passed its retention (expired tokens, published events, domain data)."""
    from tocsin.core.db import make_engine, make_sessionmaker, session_scope
    from tocsin.retention import purge_all

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    deleted = 0

    def show(name: str, done: dict[str, int]) -> None:
        nonlocal deleted
        deleted += sum(done.values())
        status.update(f"purging {name}: {deleted} deleted so far")

    try:
        # One short transaction per batch (tocsin.retention): the SOS writer is never held long.
        with console.status("purging…") as status, \
                session_scope(make_sessionmaker(engine)) as session:
            counts = purge_all(session, progress=show)
    finally:
        engine.dispose()
    for what, count in counts.items():
        typer.echo(f"{what}: {count} deleted")


bus_app = typer.Typer(help="Message bus.", no_args_is_help=True)
app.add_typer(bus_app, name="bus")


@bus_app.command("tail")
def bus_tail(
    subject: Annotated[str, typer.Argument(help="Subject pattern, e.g. 'sos.*' or '>'.")] = ">",
    count: Annotated[int, typer.Option(help="Stop after this many events (0: never).", min=0)] = 0,
    durable: Annotated[str | None, typer.Option(help="Durable consumer name.")] = None,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.", min=0)] = 0,
) -> None:
    """Print events from the bus as JSON lines (cluster mode), for operators and tests."""
    import asyncio

    from tocsin.core.bus import Event, make_bus

    settings = get_settings()
    if settings.bus_url.startswith("memory"):
        raise fail("the in-process bus (memory://) cannot be tailed from another process")
    from tocsin.core import seal

    # Event payloads travel sealed (tocsin.core.bus.wire): the tail opens them with the key.
    seal.configure(seal.load_sealer(key=settings.seal_key, old_keys=settings.seal_old_keys,
                                    var_dir=settings.var_dir, allow_generate=False))

    async def run() -> int:
        bus = make_bus(settings.bus_url, stream=settings.bus_stream, prefix=settings.bus_prefix)
        await bus.connect()
        seen = 0
        done = asyncio.Event()

        async def show(event: Event) -> None:
            nonlocal seen
            typer.echo(event.model_dump_json())
            seen += 1
            if count and seen >= count:
                done.set()

        sub = await bus.subscribe(subject, show, durable=durable)
        typer.echo("listening", err=True)
        try:
            await asyncio.wait_for(done.wait(), timeout=timeout or None)
        except TimeoutError:
            pass
        finally:
            await sub.stop()
            await bus.close()
        return seen

    seen = asyncio.run(run())
    if count and seen < count:
        raise fail(f"timed out after {seen} of {count} events", 1)
