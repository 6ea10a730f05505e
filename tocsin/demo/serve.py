"""Serve Tocsin with the demo: one worker in this process, the replay in a thread beside it.

Embedded by default on its own database file, ``var/demo.db``, recreated at each start so every
``make run`` shows the same fresh evening and never touches ``var/tocsin.db``. With
``TOCSIN_DATABASE_URL`` set (e.g. PostgreSQL), that database is used as it is.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console

from tocsin.core.auth import service as auth_service
from tocsin.core.db import make_engine, make_sessionmaker, session_scope
from tocsin.core.errors import Conflict
from tocsin.core.settings import Settings, get_settings
from tocsin.demo.banner import print_banner, write_accounts
from tocsin.demo.cast import Account, new_password
from tocsin.demo.client import DemoError
from tocsin.demo.receiver import Receiver
from tocsin.demo.replay import Options, Outcome, Replay

WEBHOOK_HOSTS = "TOCSIN_ALERTS_WEBHOOK_HOSTS"


def bootstrap_admin(database_url: str) -> tuple[Account, str]:
    """Create the demo's administrator directly in the database, as ``tocsin users add`` does.

    Every other account is then created through the API by this one. A database that already
    holds a demo (PostgreSQL, or a kept file) gets accounts with a fresh suffix instead.
    """
    engine = make_engine(database_url, pool_size=1)
    try:
        for tag in ["", *(f"-{secrets.token_hex(2)}" for _ in range(5))]:
            account = Account(username=f"demo-admin{tag}", role="admin",
                              password=new_password())
            try:
                with session_scope(make_sessionmaker(engine)) as session:
                    auth_service.create_user(session, username=account.username,
                                             password=account.password, role="admin")
            except Conflict:
                continue
            return account, tag
    finally:
        engine.dispose()
    raise DemoError("could not create a demo administrator account")


def demo_settings(var_dir: Path | None = None) -> Settings:
    """Settings for the served demo: ``var/demo.db`` (fresh) unless a database URL is set."""
    settings = get_settings()
    if os.environ.get("TOCSIN_DATABASE_URL"):
        return settings
    var = var_dir or settings.var_dir
    var.mkdir(parents=True, exist_ok=True)
    db = var / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return settings.model_copy(update={"database_url": f"sqlite:///{db.as_posix()}"})


def allow_webhook_host(receiver: Receiver) -> None:
    """Let the alerts fan-out call the demo platform's loopback receiver (and nothing else)."""
    current = [h for h in os.environ.get(WEBHOOK_HOSTS, "").split(",") if h.strip()]
    os.environ[WEBHOOK_HOSTS] = ",".join([*current, receiver.host])


@dataclass
class Result:
    outcome: Outcome | None = None
    error: str = ""
    done: threading.Event = field(default_factory=threading.Event)


def replay_against(base_url: str, database_url: str, options: Options, console: Console,
                   receiver: Receiver | None, accounts_file: Path | None) -> Outcome:
    """Run the replay against a server at ``base_url`` whose database is ``database_url``."""
    admin, tag = bootstrap_admin(database_url)
    with httpx.Client(base_url=base_url, timeout=60) as http:
        replay = Replay(http, admin, options, console=console, receiver=receiver, tag=tag)
        cast = replay.prepare()
        if accounts_file is not None:
            write_accounts(accounts_file, base_url, cast)
        print_banner(console, base_url, cast, accounts_file)
        console.print(f"Replaying the evening at speed {options.speed:g} "
                      "(pages update as it goes)…", highlight=False)
        return replay.play()


def serve_demo(host: str, port: int, options: Options, *, then_exit: bool = False,
               console: Console | None = None) -> Result:
    """Migrate, serve on ``host:port`` and replay the evening beside it; block until stopped."""
    import uvicorn

    from tocsin.app import create_app
    from tocsin.core.migrate import upgrade

    console = console or Console(stderr=True)
    settings = demo_settings()
    receiver = Receiver().start()
    allow_webhook_host(receiver)
    upgrade(settings.resolved_database_url)
    app = create_app(settings)
    # X-Forwarded-For only from TOCSIN_TRUSTED_PROXIES, as `tocsin serve` (cli.serve).
    server = uvicorn.Server(uvicorn.Config(
        app, host=host, port=port, log_level="warning",
        proxy_headers=bool(settings.trusted_proxy_list),
        forwarded_allow_ips=settings.trusted_proxy_list,
    ))
    client_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    base_url = f"http://{client_host}:{port}"
    result = Result()

    def play() -> None:
        try:
            while not server.started:
                if result.done.is_set() or server.should_exit:
                    return
                time.sleep(0.05)
            result.outcome = replay_against(
                base_url, settings.resolved_database_url, options, console, receiver,
                settings.var_dir / "demo-accounts.txt")
            report(console, result.outcome, base_url)
        except Exception as exc:  # the server keeps running; say what broke
            result.error = f"{type(exc).__name__}: {exc}"
            console.print(f"[bold red]demo failed:[/] {result.error}", highlight=False)
        finally:
            result.done.set()
            if then_exit:
                server.should_exit = True

    console.print(f"Tocsin demo on {base_url} — database {settings.resolved_database_url}",
                  highlight=False)
    thread = threading.Thread(target=play, name="demo-replay", daemon=True)
    thread.start()
    try:
        server.run()
    finally:
        result.done.set()
        receiver.stop()
    return result


def report(console: Console, outcome: Outcome, base_url: str, *, serving: bool = True) -> None:
    """Print what the evening left in the server."""
    o = outcome
    lines = [
        f"\n[bold]Evening replayed[/] in {o.seconds:.0f} s ({o.api_calls} API calls):",
        f"  SOS: {o.sos_sent} sent, {o.sos_in_incidents} in {o.incidents} incidents, "
        f"{o.incidents_with_unit} with a unit, {o.units_on_scene} units on scene",
        f"  alert: {o.alert_state}, {o.deliveries_sent} deliveries sent, "
        f"{o.webhook_received} received by the platform; an update "
        f"{'waits for approval' if o.update_waiting else 'is not waiting'}",
        f"  safety check: {o.marks} marks · persons: {o.persons} records, {o.notes} notes",
        f"  shelter: {o.offers} offers, {o.requests} requests, {o.matched} accepted",
        f"  watch: {o.items} items, {o.decided} decided, {o.queue_pending} waiting in the "
        f"queue, {o.orders} removal orders, {o.confirmed} confirmed",
    ]
    if o.advisory_state:
        lines.append(f"  cyber desk: {o.cyber_incidents} incident reports, "
                     f"advisory {o.advisory_state}, {o.partner_indicators} indicators read "
                     "by a partner over TAXII")
    lines.append("  observatory: " + ", ".join(f"{k} {v}" for k, v in o.observatory.items()))
    lines.append(f"Open {base_url}/" + (" — Ctrl-C stops the server." if serving else ""))
    console.print("\n".join(lines), highlight=False)
    for problem in o.problems:
        console.print(f"[bold red]problem:[/] {problem}", highlight=False)
