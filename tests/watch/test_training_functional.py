"""Issue 21: the templated training sentences stay apart from the evaluation sets, and stage 2's
negation-scope counts read what a negation governs."""

from __future__ import annotations

import csv
import re

import numpy as np

from tocsin.watch import classifier
from tocsin.watch.features import fold, negation_scope
from tocsin.watch.paths import EVAL_CASES, FUNCTIONAL_CASES
from tools import watch_training_functional as generator

HELD_OUT = (FUNCTIONAL_CASES, EVAL_CASES)


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", fold(text)))


def _grams(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", fold(text))
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def test_file_is_what_the_generator_writes() -> None:
    with classifier.TRAINING_FUNCTIONAL.open(encoding="utf-8", newline="") as handle:
        assert list(csv.DictReader(handle)) == generator.rows()


def test_no_training_sentence_is_an_evaluation_sentence() -> None:
    training = {_key(e.text) for e in classifier.load_cases(classifier.TRAINING_FUNCTIONAL)}
    for path in HELD_OUT:
        assert not training & {_key(c.text) for c in classifier.load_cases(path)}, path


def test_no_word_5_gram_is_shared_with_the_evaluation_sets() -> None:
    held = set().union(*(_grams(c.text) for path in HELD_OUT
                         for c in classifier.load_cases(path)))
    shared = [e.text for e in classifier.load_cases(classifier.TRAINING_FUNCTIONAL)
              if _grams(e.text) & held]
    assert shared == []


def test_targets_slurs_and_names_are_not_functional_csv_ones() -> None:
    words = {w for c in classifier.load_cases(FUNCTIONAL_CASES)
             for w in re.findall(r"\w+", fold(c.text))}
    text = " ".join(_key(c.text) for c in classifier.load_cases(FUNCTIONAL_CASES))
    for plural, singular, _adjective in generator.GROUPS:
        assert not {fold(plural), fold(singular)} & words, plural
    for slur, slurs in generator.SLURS:
        assert not {fold(slur), fold(slurs)} & words, slur
    for name in generator.ATTACKERS + generator.PEOPLE:
        assert f" {_key(name)} " not in f" {text} ", name


def test_every_functional_kind_is_trained_and_templates_stay_in_one_fold() -> None:
    examples = classifier.load_cases(classifier.TRAINING_FUNCTIONAL,
                                     weight=classifier.TEMPLATE_WEIGHT)
    with FUNCTIONAL_CASES.open(encoding="utf-8", newline="") as handle:
        kinds = {r["functional_category"] for r in csv.DictReader(handle)}
    assert kinds <= {e.kind for e in examples}
    assert all(e.group for e in examples)
    groups = classifier.fold_groups(examples)
    by_template: dict[str, set[int]] = {}
    for example, group in zip(examples, groups, strict=True):
        by_template.setdefault(example.group, set()).add(int(group))
    assert all(len(ids) == 1 for ids in by_template.values())
    # Tweets without a template: equal texts (case, punctuation aside) share a group.
    plain = [classifier.Example("Bonjour, Lyon !", "none"),
             classifier.Example("bonjour lyon", "none"), classifier.Example("Autre chose", "none")]
    assert list(np.unique(classifier.fold_groups(plain), return_index=True)[1]) == [0, 2]


def test_negation_scope_reads_what_the_negation_governs() -> None:
    assert negation_scope("Les Kurdes ne sont ni des poux ni des sangsues")["negated_harm"] == 2
    asserted = negation_scope("Les Kurdes sont des poux, on ne le dira jamais assez")
    assert asserted["asserted_harm"] == 1 and asserted["negated_harm"] == 0
    # « ne … que » restricts, it does not negate.
    assert negation_scope("Ils ne savent que voler, ces profiteurs")["negated_harm"] == 0
    denied = negation_scope("Il est faux de dire que les Turcs sont paresseux, c'est un préjugé")
    assert denied["denied_claim"] == 1 and denied["stereotype"] == 1
