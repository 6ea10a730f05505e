"""The audit log's words (tocsin/web/admin_text.py): every role named, every reason pattern
sound, in both languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tocsin.core.auth import Role
from tocsin.web.admin_text import ACTIONS, OBJECTS, REASONS, ROLES, audit_words

ROOT = Path(__file__).resolve().parents[2]


def test_every_role_has_words() -> None:
    assert {str(r) for r in Role} <= {str(code) for code in ROLES}


@pytest.mark.parametrize(("pattern", "fr", "en"), REASONS)
def test_each_reason_pattern_fills_its_words(pattern: str, fr: str, en: str) -> None:
    groups = set(re.compile(pattern).groupindex)
    for text in (fr, en):
        assert set(re.findall(r"\{(?:role:)?(\w+)\}", text)) <= groups, (pattern, text)


def test_the_page_gets_javascript_patterns_in_its_language() -> None:
    fr = json.loads(audit_words("fr"))
    en = json.loads(audit_words("en"))
    assert fr["actions"]["dispatch_assign"] == "engagement d'une unité"
    assert en["roles"]["dispatcher"] == "dispatcher"
    assert all("(?P<" not in p for p, _ in fr["reasons"])
    assert ["role (?<r>\\w+)", "rôle {role:r}"] in fr["reasons"]


def _translated(reason: str) -> bool:
    return any(re.fullmatch(pattern, reason) for pattern, _fr, _en in REASONS)


def _literals(name: str) -> set[str]:
    """Every ``name="..."`` string literal the platform's code passes (audit reasons, actions)."""
    found: set[str] = set()
    for path in (ROOT / "tocsin").rglob("*.py"):
        found |= set(re.findall(rf'\b{name}="([^"{{}}]+)"', path.read_text(encoding="utf-8")))
    return found


def test_every_fixed_reason_the_code_writes_is_in_words() -> None:
    # The literal reasons, the other branch of two conditional ones, and samples of the
    # formatted ones (tocsin/*/: f"..." reasons).
    written = _literals("reason") | {
        "2FA optional", "2FA enrolment only", "3 people", "3 people (group)",
        "Fausse alerte (withdrawn from 2 unit(s))", "role dispatcher", "unit PS-75-11",
        "merged into 4f1c", "12 SOS to 4f1c", "offer 7", "version 2", "for all partners",
        "from partner-a", "person feed: 3 records, 2 notes", "note feed: 2 notes",
        "status=triaged tlp=amber",
    }
    assert {r for r in written if not _translated(r)} == set()


def test_every_action_the_code_audits_is_in_words() -> None:
    audited = set()
    for path in (ROOT / "tocsin").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in re.finditer(r"audit\.record\((.{0,400}?)\)", text, re.S):
            audited |= set(re.findall(r'action="([\w.]+)"', call.group(1)))
    assert audited, "the scan found no audited action"
    assert audited - set(ACTIONS) == set()


def test_every_object_kind_the_code_audits_is_in_words() -> None:
    kinds = _literals("object_type")
    assert {"account", "sos", "watch_order"} <= kinds  # the scan reads the code
    assert kinds - set(OBJECTS) == set()
    objects = json.loads(audit_words("fr"))["objects"]
    assert objects["safety_check"] == "vérification « en sécurité »"
