"""The offline dependency audit (``tools/audit_offline.py``): OSV ranges evaluated right on real
advisories of the committed snapshot, a vulnerable pin fails the run, the snapshot's age is
always printed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from tools import audit_offline
from tools.audit_offline import DEFAULT_ADVISORIES, affects, audit, in_range, main, read_pins

DATA = json.loads(DEFAULT_ADVISORIES.read_text())


def advisory(advisory_id: str) -> dict[str, Any]:
    return next(a for a in DATA["advisories"] if a["id"] == advisory_id)


@pytest.mark.parametrize(("version", "hit"), [
    ("2.6", True), ("2.7.1", True),      # before the fix
    ("2.7.2", False), ("3.1.6", False),  # the fixed release and later
])
def test_jinja2_sandbox_advisory_fixed_in_2_7_2(version: str, hit: bool) -> None:
    # PYSEC-2014-8 (CVE-2014-1402): introduced 0, fixed 2.7.2.
    assert affects(advisory("PYSEC-2014-8"), "jinja2", version) is hit


@pytest.mark.parametrize(("version", "hit"), [
    ("2.3.1", True), ("2.3.2", False),  # first range: 0 → 2.3.2
    ("2.4.0", False),                   # between the ranges
    ("2.5.1", True), ("2.5.2", False),  # second range: 2.5 → 2.5.2
])
def test_pillow_advisory_with_two_ranges(version: str, hit: bool) -> None:
    # PYSEC-2014-10: ECOSYSTEM events introduced 0, fixed 2.3.2, introduced 2.5, fixed 2.5.2
    # (its GIT range, keyed by commit, is not a PEP 440 range and is ignored).
    assert affects(advisory("PYSEC-2014-10"), "pillow", version) is hit


@pytest.mark.parametrize(("version", "hit"), [("2.0.1", False), ("2.1.0", True),
                                              ("2.5.3", True), ("2.6.0", False)])
def test_requests_advisory_introduced_later_than_zero(version: str, hit: bool) -> None:
    # PYSEC-2015-17: introduced 2.1.0, fixed 2.6.0.
    assert affects(advisory("PYSEC-2015-17"), "requests", version) is hit


def test_last_affected_is_inclusive() -> None:
    events = [{"introduced": "1.0"}, {"last_affected": "1.4.2"}]
    assert in_range(Version("1.4.2"), events)
    assert in_range(Version("1.0"), events)
    assert not in_range(Version("1.4.3"), events)
    assert not in_range(Version("0.9"), events)


def test_withdrawn_advisory_is_skipped_and_other_packages_do_not_match() -> None:
    withdrawn = copy.deepcopy(advisory("PYSEC-2014-8"))
    withdrawn["withdrawn"] = "2024-01-01T00:00:00Z"
    assert not affects(withdrawn, "jinja2", "2.7.1")
    assert not affects(advisory("PYSEC-2014-8"), "flask", "2.7.1")


def test_pin_names_are_normalised() -> None:
    pins = {"jinja2": "2.7.1", "pillow": "2.3.1"}
    found = audit(pins, DATA["advisories"])
    assert {"PYSEC-2014-8", "PYSEC-2014-10"} <= {f.advisory_id for f in found}
    assert {f.name for f in found} == {"jinja2", "pillow"}
    ignored = audit(pins, DATA["advisories"], ignore=["CVE-2014-1402"])
    assert "PYSEC-2014-8" not in {f.advisory_id for f in ignored}


def test_vulnerable_pin_fails_and_the_snapshot_age_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pins = tmp_path / "constraints.txt"
    pins.write_text("# a comment\nJinja2==2.7.1\nrequests==2.34.2\n")
    assert main(["--constraints", str(pins)]) == 1
    out = capsys.readouterr().out
    assert "days old" in out and DATA["snapshot"]["date"][:10] in out
    assert "VULNERABLE jinja2==2.7.1: PYSEC-2014-8" in out
    assert "fixed in 2.7.2" in out and "requests" not in out.split("vulnerable", 1)[1]


def test_the_locked_pins_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "0 vulnerable" in out and "days old" in out
    assert len(read_pins(audit_offline.DEFAULT_CONSTRAINTS)) > 100


def test_unusable_input_exits_2(tmp_path: Path) -> None:
    assert main(["--constraints", str(tmp_path / "missing.txt")]) == 2
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing pinned\n")
    assert main(["--constraints", str(empty)]) == 2


def test_snapshot_records_its_source_and_licence() -> None:
    snapshot = DATA["snapshot"]
    assert snapshot["licence"] == "CC-BY-4.0" and "pypa/advisory-database" in snapshot["url"]
    assert len(snapshot["commit"]) == 40
    assert set(DATA["packages"]) <= set(read_pins(audit_offline.DEFAULT_CONSTRAINTS))
