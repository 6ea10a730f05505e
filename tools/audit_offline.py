"""Offline dependency audit: every pin of ``constraints.txt`` against a committed advisory file.

Why it exists: ``make audit`` (pip-audit) needs PyPI's JSON API or OSV's, and some machines
(this project's build VM) reach neither. This check needs no network: the advisories of the
pinned distributions are filtered out of a snapshot of the PyPA advisory database (OSV format,
CC-BY-4.0) into ``tools/advisories/pypi.json`` by ``tools/advisories_refresh.py``.

It is only as fresh as that snapshot, so it always prints the snapshot's date and age: a clean
result means "no advisory known on that date", never "no vulnerability". Where PyPI is
reachable, ``make audit`` is the live check.

Ranges are evaluated as the OSV schema says (https://ossf.github.io/osv-schema/): PEP 440
versions (``packaging``), ``ECOSYSTEM`` ranges whose sorted events switch the state on at
``introduced`` and off at ``fixed`` (or after ``last_affected``), plus the explicit ``versions``
list; withdrawn entries are skipped. Uses only the standard library and ``packaging``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ADVISORIES = ROOT / "tools" / "advisories" / "pypi.json"
DEFAULT_CONSTRAINTS = ROOT / "constraints.txt"
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)")


def normalize(name: str) -> str:
    """Return the PEP 503 normalised distribution name (``Jinja2`` → ``jinja2``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, str]:
    """Return ``{normalised name: version}`` for every ``name==version`` line of ``path``."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            pins[normalize(match.group(1))] = match.group(2)
    return pins


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _event_key(event: dict[str, str]) -> tuple[int, Version]:
    # OSV: "introduced: 0" sorts before every version; other events sort by their version.
    kind, value = next(iter(event.items()))
    if kind == "introduced" and value == "0":
        return (0, Version("0"))
    parsed = _version(value)
    return (1, parsed if parsed is not None else Version("0"))


def in_range(version: Version, events: Iterable[dict[str, str]]) -> bool:
    """Evaluate one OSV ``ECOSYSTEM`` range's events for ``version``."""
    affected = False
    usable = [e for e in events if e and next(iter(e)) in ("introduced", "fixed", "last_affected")]
    for event in sorted(usable, key=_event_key):
        kind, value = next(iter(event.items()))
        if kind == "introduced":
            bound = None if value == "0" else _version(value)
            if value == "0" or (bound is not None and version >= bound):
                affected = True
        elif kind == "fixed":
            bound = _version(value)
            if bound is not None and version >= bound:
                affected = False
        else:  # last_affected
            bound = _version(value)
            if bound is not None and version > bound:
                affected = False
    return affected


def affects(advisory: dict[str, Any], name: str, version_text: str) -> bool:
    """Return True if ``advisory`` (OSV) affects distribution ``name`` at ``version_text``."""
    if advisory.get("withdrawn"):
        return False
    version = _version(version_text)
    for affected in advisory.get("affected", []):
        package = affected.get("package", {})
        if package.get("ecosystem") != "PyPI" or normalize(package.get("name", "")) != name:
            continue
        listed = {_version(v) for v in affected.get("versions", [])}
        if version is not None and version in listed:
            return True
        if version is None:
            if version_text in affected.get("versions", []):
                return True
            continue
        for rng in affected.get("ranges", []):
            if rng.get("type") == "ECOSYSTEM" and in_range(version, rng.get("events", [])):
                return True
    return False


def fixed_versions(advisory: dict[str, Any], name: str) -> list[str]:
    """Return the ``fixed`` versions the advisory names for ``name`` (to tell what to raise to)."""
    found = []
    for affected in advisory.get("affected", []):
        if normalize(affected.get("package", {}).get("name", "")) != name:
            continue
        for rng in affected.get("ranges", []):
            found += [e["fixed"] for e in rng.get("events", []) if "fixed" in e]
    return found


@dataclass(frozen=True)
class Finding:
    name: str
    version: str
    advisory_id: str
    aliases: tuple[str, ...]
    fixed: tuple[str, ...]
    summary: str

    def line(self) -> str:
        fix = f"fixed in {', '.join(self.fixed)}" if self.fixed else "no fixed version"
        alias = f" ({', '.join(self.aliases)})" if self.aliases else ""
        return f"VULNERABLE {self.name}=={self.version}: {self.advisory_id}{alias}, {fix}: " \
               f"{self.summary}"


def audit(
    pins: dict[str, str], advisories: Sequence[dict[str, Any]], ignore: Iterable[str] = ()
) -> list[Finding]:
    """Return every (pin, advisory) pair where the advisory affects the pinned version."""
    ignored = set(ignore)
    findings = []
    for advisory in advisories:
        ids = {advisory["id"], *advisory.get("aliases", [])}
        if ids & ignored:
            continue
        for affected in advisory.get("affected", []):
            name = normalize(affected.get("package", {}).get("name", ""))
            if name in pins and affects(advisory, name, pins[name]):
                summary = (advisory.get("summary") or advisory.get("details") or "").strip()
                findings.append(Finding(
                    name, pins[name], advisory["id"], tuple(advisory.get("aliases", [])),
                    tuple(fixed_versions(advisory, name)), summary.splitlines()[0][:160]
                    if summary else ""))
                break
    return sorted(set(findings), key=lambda f: (f.name, f.advisory_id))


def snapshot_age(snapshot: dict[str, Any], today: dt.date) -> int:
    """Days between the advisory snapshot and ``today``."""
    return (today - dt.date.fromisoformat(snapshot["date"][:10])).days


def main(argv: Sequence[str] | None = None) -> int:
    """Run the audit; exit 1 on a vulnerable pin, 2 on unusable input, 0 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--constraints", type=Path, default=DEFAULT_CONSTRAINTS)
    parser.add_argument("--advisories", type=Path, default=DEFAULT_ADVISORIES)
    parser.add_argument("--ignore", action="append", default=[], metavar="ID",
                        help="advisory id or alias to ignore (give the reason in RELIABILITY.md)")
    args = parser.parse_args(argv)
    try:
        pins = read_pins(args.constraints)
        data = json.loads(args.advisories.read_text())
    except (OSError, ValueError) as exc:
        print(f"audit: cannot read input: {exc}", file=sys.stderr)
        return 2
    if not pins:
        print(f"audit: no name==version pin in {args.constraints}", file=sys.stderr)
        return 2
    snapshot = data["snapshot"]
    age = snapshot_age(snapshot, dt.datetime.now(dt.UTC).date())
    print(f"offline audit against {snapshot['source']} at {snapshot['commit'][:12]}, "
          f"snapshot of {snapshot['date'][:10]} ({age} days old): advisories published since "
          "then are NOT checked; `make audit` is the live check where PyPI is reachable")
    findings = audit(pins, data["advisories"], args.ignore)
    covered = sum(1 for name in pins if name in set(data["packages"]))
    print(f"{len(pins)} pins checked, {covered} with advisories in the snapshot "
          f"({len(data['advisories'])} advisories), {len(findings)} vulnerable")
    for finding in findings:
        print(finding.line())
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
