"""Multilingual HateCheck, French (Röttger et al., WOAH 2022; CC BY 4.0): read, labelled in our
categories, and split in two halves by template family.

Why families: HateCheck fills each template with seven target groups, and a non-hateful case is
written as the *contrast* of a hateful template (``ref_templ_id``: its negation, its quotation in
counter-speech, its spelling variants point back to it too). Trained on a template or on its
contrast, a model has seen the frame the other half would test; so templates linked by
``ref_templ_id`` (and texts written the same way) form one family, and a family goes whole to
one half. The half is a hash of the family's smallest template id: no random state, the same
split on every machine and after any reordering of the file.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from tocsin.watch.paths import DATA_DIR

MHC_FRENCH = DATA_DIR / "mhc" / "hatecheck_cases_final_french.csv"
TRAIN, HELD_OUT = "train", "held_out"
# Threats are our call_to_violence, as functional.csv labels its `threat` cases; every other
# hateful functionality is hate (MHC has no terrorism apology).
THREATS = frozenset({"threat_dir_h", "threat_norm_h"})


@dataclass(frozen=True)
class Case:
    """One MHC case with its family (smallest template id of its family) and half."""

    text: str
    functionality: str
    hateful: bool
    template: int
    family: int
    side: str

    @property
    def label(self) -> str:
        if not self.hateful:
            return "none"
        return "call_to_violence" if self.functionality in THREATS else "hate"


def side_of(family: int) -> str:
    """The half a family belongs to: the low bit of a hash of its smallest template id."""
    return TRAIN if hashlib.sha256(f"mhc-family:{family}".encode()).digest()[0] & 1 == 0 \
        else HELD_OUT


def _text_key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def read(path: Path = MHC_FRENCH) -> list[Case]:
    """All cases of the file, each with its family and half."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"test_case", "functionality", "label_gold", "templ_id"} <= set(rows[0]):
        raise ValueError(f"{path}: not a HateCheck cases CSV (test_case, functionality, "
                         f"label_gold, templ_id expected)")
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    by_text: dict[str, int] = {}
    for row in rows:
        # The file writes template ids as integers and reference ids as floats ("1.0").
        template = int(float(row["templ_id"]))
        find(template)
        if row.get("ref_templ_id"):
            union(template, int(float(row["ref_templ_id"])))
        # The same text from two templates must not land on both sides either.
        union(template, by_text.setdefault(_text_key(row["test_case"]), template))
    cases = []
    for row in rows:
        template = int(float(row["templ_id"]))
        family = find(template)
        cases.append(Case(row["test_case"], row["functionality"],
                          row["label_gold"] == "hateful", template, family, side_of(family)))
    return cases
