"""Normalisation and the French phonetic key."""

from __future__ import annotations

import pytest

from tocsin.persons.phonetic import fold, phonetic, query_tokens, tokens


@pytest.mark.parametrize(
    ("names", "key"),
    [
        (["Gauthier", "Gautier", "Gaultier"], "gotiE"),
        (["Philippe", "Filipe", "Phillipe"], "filip"),
        (["Dupont", "Dupond"], "dupO"),
        (["Hélène", "Helene", "HELENE"], "elen"),
    ],
)
def test_spelling_variants_share_a_key(names: list[str], key: str) -> None:
    assert {phonetic(fold(n)) for n in names} == {key}


def test_a_final_e_sound_is_kept() -> None:
    # Royer ends in a said é, Roy does not: a search for "Paul Roy" must not rank Paul Royer
    # as a respelling of it.
    assert phonetic("royer") == phonetic("royez") != phonetic("roy")
    assert phonetic("millet") == phonetic("milet") != phonetic("mill")


def test_distinct_names_keep_distinct_keys() -> None:
    keys = {phonetic(fold(n)) for n in ["Martin", "Morton", "Bernard", "Petit", "Moreau"]}
    assert len(keys) == 5


def test_fold_drops_accents_case_and_punctuation() -> None:
    assert fold("  Jean-Pierre L'Œuvre-Müller ") == "jean pierre l oeuvre muller"


def test_tokens_drop_particles_and_keep_joined_forms() -> None:
    assert tokens("Jean-Pierre de la Fontaine")[:3] == ["jean", "pierre", "fontaine"]
    assert "jeanpierre" in tokens("Jean-Pierre") and "delafontaine" in tokens("de la Fontaine")
    assert query_tokens("de la Fontaine") == ["fontaine"]
    assert query_tokens("Le") == ["le"]  # a name made only of a particle stays searchable


def test_empty_and_symbol_only_input() -> None:
    assert tokens("") == [] and query_tokens("--- ' .") == [] and phonetic("") == ""
