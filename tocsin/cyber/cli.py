"""``tocsin cyber export [--partner P] [--out F]`` / ``tocsin cyber import FILE --source P``.

STIX 2.1 bundles for partners reached by other means than TAXII (e-mail, removable media). The
export holds what the partner may receive (no partner: TLP:CLEAR and GREEN only; RED never); the
import is validated whole with ``stix2-validator`` first. Both are written to the audit log.
Exit codes: 0 done, 2 bad input (unreadable file, invalid STIX: nothing stored).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Cyber desk: STIX 2.1 export and import.", no_args_is_help=True)
console = Console(stderr=True)


def _sessions():  # type: ignore[no-untyped-def]
    from tocsin.core import seal
    from tocsin.core.db import make_engine, make_sessionmaker
    from tocsin.core.settings import get_settings

    settings = get_settings()
    seal.configure(seal.load_sealer(key=settings.seal_key, old_keys=settings.seal_old_keys,
                                    var_dir=settings.var_dir,
                                    allow_generate=settings.mode == "embedded"))
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    return engine, make_sessionmaker(engine)


@app.command("export")
def export(
    partner: Annotated[str | None, typer.Option(help="Partner account the bundle is for "
                                                     "(AMBER objects naming it included).")] = None,
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Write a STIX 2.1 bundle of Tocsin's shareable objects."""
    from tocsin.core import audit
    from tocsin.core.db import session_scope
    from tocsin.cyber import stix

    engine, sessions = _sessions()
    try:
        with session_scope(sessions) as session:
            bundle = stix.export_bundle(session, partner=partner or "")
            audit.record(session, actor="cli:cyber-export", action="cyber.stix_export",
                         object_type="stix_bundle", object_id=bundle["id"],
                         reason=f"for {partner or 'all partners'}")
    finally:
        engine.dispose()
    text = json.dumps(bundle, indent=1)  # ASCII: no stored string can break the output
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.write_text(text + "\n", encoding="utf-8")
    console.print(f"{len(bundle['objects'])} objects exported")


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle (JSON).")],
    source: Annotated[str, typer.Option(help="The partner it comes from (unmarked objects "
                                             "are held as AMBER for it).")],
) -> None:
    """Validate and store a partner's bundle; an invalid bundle stores nothing."""
    from tocsin.core import audit
    from tocsin.core.db import session_scope
    from tocsin.core.errors import DomainError
    from tocsin.cyber import exchange

    try:
        raw = file.read_bytes()
    except OSError as exc:
        console.print(f"[bold red]error:[/] cannot read {file}: {exc.strerror}")
        raise typer.Exit(2) from None
    engine, sessions = _sessions()
    try:
        with session_scope(sessions) as session:
            status = exchange.receive(session, raw=raw, source=source[:64])
            audit.record(session, actor="cli:cyber-import", action="cyber.stix_import",
                         object_type="stix_bundle", object_id=status.id, reason=f"from {source}")
            stored = sum(1 for s in status.successes if s["message"] == "stored")
            refused = len(status.failures)
    except DomainError as exc:
        console.print(f"[bold red]refused:[/] {exc.message}")
        for detail in (exc.details or [])[:20]:
            console.print(f"  {detail}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    console.print(f"{stored} objects stored, {len(status.successes) - stored} already present"
                  + (f", {refused} refused (their id belongs to another source)"
                     if refused else ""))
