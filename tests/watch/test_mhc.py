"""Issue 21, third pass: Multilingual HateCheck French is split by template family, and its
held-out half never reaches training."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from tocsin.watch import classifier, mhc
from tocsin.watch.paths import DATA_DIR, DEFAULT_MLMA


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


@pytest.fixture(scope="module")
def cases() -> list[mhc.Case]:
    return mhc.read()


def test_file_is_the_whole_french_set_with_its_licence(cases: list[mhc.Case]) -> None:
    assert len(cases) == 3718
    assert len({c.functionality for c in cases}) == 27
    assert "Attribution 4.0 International" in (DATA_DIR / "mhc" / "LICENSE").read_text("utf-8")
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert "Multilingual HateCheck" in readme
    assert "a03f2caf2023a402d85064bda243e46d280408f0" in readme


def test_no_family_straddles_the_split(cases: list[mhc.Case]) -> None:
    sides: dict[int, set[str]] = {}
    for case in cases:
        sides.setdefault(case.family, set()).add(case.side)
    assert all(len(s) == 1 for s in sides.values())
    # A contrast and the hateful template it contrasts are in one family.
    with mhc.MHC_FRENCH.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    family = {c.template: c.family for c in cases}
    linked = [r for r in rows if r["ref_templ_id"]]
    assert linked
    for row in linked:
        assert family[int(float(row["templ_id"]))] == family[int(float(row["ref_templ_id"]))]


def test_no_text_is_on_both_sides(cases: list[mhc.Case]) -> None:
    train = {_key(c.text) for c in cases if c.side == mhc.TRAIN}
    held = {_key(c.text) for c in cases if c.side == mhc.HELD_OUT}
    assert train and held and not train & held


def test_halves_are_balanced_and_cover_every_functionality(cases: list[mhc.Case]) -> None:
    sides = Counter(c.side for c in cases)
    assert 0.35 < sides[mhc.TRAIN] / len(cases) < 0.65
    for side in (mhc.TRAIN, mhc.HELD_OUT):
        assert {c.functionality for c in cases if c.side == side} == \
            {c.functionality for c in cases}


def test_split_does_not_depend_on_row_order(tmp_path: Path, cases: list[mhc.Case]) -> None:
    with mhc.MHC_FRENCH.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    shuffled = tmp_path / "reversed.csv"
    with shuffled.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(fields or []))
        writer.writeheader()
        writer.writerows(reversed(rows))
    again = {(c.text, c.template): c.side for c in mhc.read(shuffled)}
    assert again == {(c.text, c.template): c.side for c in cases}


def test_labels_follow_functional_csv(cases: list[mhc.Case]) -> None:
    labels = {(c.functionality, c.label) for c in cases}
    assert ("threat_dir_h", "call_to_violence") in labels
    assert ("slur_h", "hate") in labels
    assert ("counter_quote_nh", "none") in labels
    assert all(c.label == "none" for c in cases if not c.hateful)


def test_only_the_training_half_is_trained_on(cases: list[mhc.Case]) -> None:
    if not DEFAULT_MLMA.exists():
        pytest.skip("MLMA-FR is not in ../shared")
    assert not any(e.group.startswith("mhc:")
                   for e in classifier.training_examples(DEFAULT_MLMA, mhc_weight=0.0))
    examples = classifier.training_examples(DEFAULT_MLMA, mhc_weight=classifier.MHC_WEIGHT_CV)
    trained = {_key(e.text) for e in examples if e.group.startswith("mhc:")}
    assert trained == {_key(c.text) for c in cases if c.side == mhc.TRAIN}
    held = {_key(c.text) for c in cases if c.side == mhc.HELD_OUT}
    assert not held & {_key(e.text) for e in examples}
    # Families stay whole in cross-validation folds.
    mhc_examples = [e for e in examples if e.group.startswith("mhc:")]
    groups = classifier.fold_groups(mhc_examples)
    by_family: dict[str, set[int]] = {}
    for example, group in zip(mhc_examples, groups, strict=True):
        by_family.setdefault(example.group, set()).add(int(group))
    assert all(len(g) == 1 for g in by_family.values())


def test_a_file_without_hatecheck_columns_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nbonjour,none\n", encoding="utf-8")
    with pytest.raises(ValueError, match="HateCheck"):
        mhc.read(bad)
