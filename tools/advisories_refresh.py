"""Rebuild ``tools/advisories/pypi.json`` from a snapshot of the PyPA advisory database.

Usage (a clone, bare or not, of https://github.com/pypa/advisory-database)::

    python -m tools.advisories_refresh /path/to/advisory-database [--rev HEAD]

Only the advisories of distributions pinned in ``constraints.txt`` are kept (all their
versions, so that lowering a pin is caught too), trimmed to the OSV fields the audit reads plus
the references that say where each came from. The snapshot's commit and date are recorded: the
audit prints its age on every run. The PyPA advisory database is published under CC-BY-4.0;
the attribution is written into the file. Needs PyYAML and ``git``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tools.audit_offline import DEFAULT_ADVISORIES, DEFAULT_CONSTRAINTS, normalize, read_pins

KEEP = ("id", "aliases", "summary", "details", "affected", "withdrawn", "modified", "published")


def _git(repo: Path, *args: str) -> str:
    # Fixed git sub-commands on a repository path the maintainer names: nothing untrusted.
    # git from PATH, as every maintainer command in the Makefile.
    command = ["git", "-C", str(repo), *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603


def _trim(entry: dict[str, Any], name: str) -> dict[str, Any]:
    kept = {k: entry[k] for k in KEEP if k in entry}
    kept["affected"] = [a for a in entry.get("affected", [])
                        if normalize(a.get("package", {}).get("name", "")) == name]
    for affected in kept["affected"]:
        affected.pop("database_specific", None)
        affected.pop("ecosystem_specific", None)
    if "details" in kept:
        kept["details"] = kept["details"].strip()[:500]
    kept["references"] = [r["url"] for r in entry.get("references", [])
                          if r.get("type") == "ADVISORY"][:3]
    return json.loads(json.dumps(kept, default=str))  # dates from YAML → ISO strings


def build(repo: Path, rev: str, pins: dict[str, str]) -> dict[str, Any]:
    """Return the filtered advisory document for ``pins`` from ``repo`` at ``rev``."""
    commit = _git(repo, "rev-parse", rev).strip()
    date = _git(repo, "show", "-s", "--format=%cI", commit).strip()
    directories = {normalize(Path(p).name): p
                   for p in _git(repo, "ls-tree", "--name-only", commit, "vulns/").split()}
    advisories = []
    packages = sorted(name for name in pins if name in directories)
    for name in packages:
        for path in _git(repo, "ls-tree", "--name-only", commit,
                         directories[name] + "/").split():
            entry = yaml.safe_load(_git(repo, "show", f"{commit}:{path}"))
            advisories.append(_trim(entry, name))
    return {
        "snapshot": {
            "source": "pypa/advisory-database",
            "url": "https://github.com/pypa/advisory-database",
            "commit": commit,
            "date": date,
            "licence": "CC-BY-4.0",
            "attribution": "PyPA advisory database (https://github.com/pypa/advisory-database),"
                           " CC-BY-4.0; filtered to the distributions pinned in constraints.txt",
            "filtered_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        },
        "packages": packages,
        "advisories": sorted(advisories, key=lambda a: a["id"]),
    }


def main() -> None:
    """Write the filtered advisory file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("repo", type=Path)
    parser.add_argument("--rev", default="HEAD")
    parser.add_argument("--constraints", type=Path, default=DEFAULT_CONSTRAINTS)
    parser.add_argument("--out", type=Path, default=DEFAULT_ADVISORIES)
    args = parser.parse_args()
    document = build(args.repo, args.rev, read_pins(args.constraints))
    args.out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"{len(document['advisories'])} advisories for {len(document['packages'])} "
          f"distributions, snapshot {document['snapshot']['commit'][:12]} of "
          f"{document['snapshot']['date']} → {args.out}")


if __name__ == "__main__":
    main()
