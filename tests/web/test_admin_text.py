"""The audit log's words (tocsin/web/admin_text.py): every role named, every reason pattern
sound, in both languages."""

from __future__ import annotations

import json
import re

import pytest

from tocsin.core.auth import Role
from tocsin.web.admin_text import REASONS, ROLES, audit_words


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
