"""The banner: each role's page with the demo account that opens it, and the accounts file."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from tocsin.demo.cast import Cast
from tocsin.web.pages import ROLE_PAGES, Audience

# Which demo accounts open which staff page (pages that do not exist yet are skipped).
PAGE_ACCOUNTS: dict[str, tuple[str, ...]] = {
    "/dispatch": ("dispatcher",),
    "/unit": ("unit01", "unit02"),
    "/authority": ("authority", "authority2"),
    "/watch": ("moderator", "moderator2", "analyst"),
    "/stats": ("analyst",),
    "/cyber": ("organisation", "analyst", "analyst2"),
    "/admin": ("admin",),
}


def banner_lines(base_url: str, cast: Cast) -> list[tuple[str, str, str, str]]:
    """Return (URL, role, username, password) for every page that exists, home first.

    A unit account's role says the unit its crew drives (``unit PS 10-1``): the unit page shows
    that unit's offers, and the dispatcher's map its callsign.
    """
    base = base_url.rstrip("/")
    rows = [(f"{base}/", "everyone", "", "")]
    for page in ROLE_PAGES:
        if not page.available:
            continue
        if page.audience is Audience.citizen:
            rows.append((f"{base}{page.path}", "citizen", "(no account)", ""))
            continue
        for key in PAGE_ACCOUNTS.get(page.path, ()):
            account = cast.accounts.get(key)
            if account is not None:
                role = f"{account.role} {account.drives}".strip()
                rows.append((f"{base}{page.path}", role, account.username, account.password))
    platform = cast.accounts.get("platform")
    if platform is not None:
        rows.append((f"{base}/docs", "platform", platform.username, platform.password))
    partner = cast.accounts.get("partner")
    cyber = any(p.path == "/cyber" and p.available for p in ROLE_PAGES)
    if partner is not None and cyber:  # TAXII 2.1, HTTP Basic: no page
        rows.append((f"{base}/taxii2/", "partner", partner.username, partner.password))
    return rows


def print_banner(console: Console, base_url: str, cast: Cast,
                 accounts_file: Path | None = None) -> None:
    """Print the URL of each role's page and the accounts (with their passwords) to use."""
    rows = banner_lines(base_url, cast)
    width = max(len(r[0]) for r in rows)
    roles = max(12, *(len(r[1]) for r in rows))
    console.rule("[bold]Tocsin — the evening of 13 November 2015, replayed")
    for url, role, username, password in rows:
        console.print(f"  {url:<{width}}  {role:<{roles}} {username:<24} {password}".rstrip(),
                      highlight=False, soft_wrap=True)
    if accounts_file is not None:
        console.print(f"  Every demo account, units included: {accounts_file}",
                      highlight=False, soft_wrap=True)
    console.rule()


def write_accounts(path: Path, base_url: str, cast: Cast) -> None:
    """Write the accounts to a file only its owner can read (the banner scrolls away)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# Tocsin demo accounts for {base_url} (generated at this run)"]
    lines += [f"{a.role:12} {a.username:28} {a.password}" for a in cast.rows()]
    # The password stays each line's last word; which unit each unit account drives follows.
    lines += [f"# {a.username} drives the unit {a.drives}" for a in cast.rows() if a.drives]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
