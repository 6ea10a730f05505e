"""How equally plausible records are ordered (issue 22): the tie-breaks a reader can follow."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.persons.helpers import add_person
from tocsin.persons import service
from tocsin.persons.search import Hit, diversify
from tocsin.persons.search_rank import rank_score


def found(db: Session, query: str, n: int = 10) -> list[tuple[str, float]]:
    return [(f.person.full_name, f.score) for f in service.search_persons(db, text=query, limit=n)]


def names(db: Session, query: str, n: int = 10) -> list[str]:
    return [name for name, _ in found(db, query, n)]


def test_a_final_e_sound_is_no_respelling(db: Session) -> None:
    # Royer is no phonetic spelling of Roy (its final -er is said): the compound given name of
    # which "Paul" is a part goes first.
    for name in ("Paul Royer", "Louis-Paul Roy", "Paul Roy"):
        add_person(db, name)
    assert names(db, "Paul Roy")[:2] == ["Paul Roy", "Louis-Paul Roy"]


def test_one_part_of_a_compound_before_a_respelt_family_name(db: Session) -> None:
    add_person(db, "Louis Leclerc")
    add_person(db, "Louis-Marc Leclercq")
    assert names(db, "Louis Leclercq") == ["Louis-Marc Leclercq", "Louis Leclerc"]


def test_the_typed_order_tells_given_from_family_name(db: Session) -> None:
    add_person(db, "Thomas Jean")
    add_person(db, "Jean Thomas")
    assert names(db, "Jean Thomas") == ["Jean Thomas", "Thomas Jean"]
    assert names(db, "Thomas Jean") == ["Thomas Jean", "Jean Thomas"]
    [(_, exact), (_, swapped)] = found(db, "Jean Thomas")
    assert exact == 1.0 and 0.98 <= swapped < 1.0


def test_equal_scores_give_the_commonest_name_first_and_each_name_once(db: Session) -> None:
    # "J. Dupont" cannot tell these apart: the name most records carry first, then each other
    # name once before any name twice (added rarest first, so record order is no help).
    for name in ("Julie Dupont", "Jacques Dupont", "Jacques Dupont", "Jean Dupont",
                 "Jean Dupont", "Jean Dupont"):
        add_person(db, name)
    assert names(db, "J. Dupont") == ["Jean Dupont", "Jacques Dupont", "Julie Dupont",
                                      "Jean Dupont", "Jacques Dupont", "Jean Dupont"]
    scores = [score for _, score in found(db, "J. Dupont")]
    assert len(set(scores)) == 1


def test_a_typed_particle_keeps_scores_within_one(db: Session) -> None:
    add_person(db, "Fatima Breton")
    add_person(db, "Fatima Lebreton")
    result = found(db, "Fatima le Breton")
    assert [name for name, _ in result] == ["Fatima Lebreton", "Fatima Breton"]
    assert result[0][1] == 1.0 and result[1][1] < 1.0


def test_diversify_orders_by_score_then_commonness() -> None:
    hits = [(Hit(1, 0.9), "anne"), (Hit(2, 0.9), "marc"), (Hit(3, 0.9), "marc"),
            (Hit(4, 1.0), "zoe"), (Hit(5, 0.8), "marc")]
    assert [h.person_id for h in diversify(hits)] == [4, 2, 1, 3, 5]


def test_rank_score_stays_within_zero_and_one() -> None:
    for query, stored in ((["jean", "thomas"], "jean thomas | "),
                          (["jean", "thomas"], "thomas jean | "),
                          (["pierre", "martin"], "jean pierre martin | jeanpierre"),
                          (["j", "martin"], "jean martin | ")):
        assert 0.0 <= rank_score(query, stored) <= 1.0
    # The other part of a compound given name costs half a missing word.
    half = rank_score(["pierre", "martin"], "jean pierre martin | jeanpierre")
    whole = rank_score(["pierre", "martin"], "jean pierre martin | ")
    assert whole < half < 1.0
