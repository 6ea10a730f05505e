"""Issue 21: the classifier in two stages, its data, its evaluation set and its reasons."""

from __future__ import annotations

import csv
import socket
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tocsin.watch import classifier, service, stage2
from tocsin.watch.classifier import Model
from tocsin.watch.features import fold, reasons
from tocsin.watch.models import WatchPlatform
from tocsin.watch.paths import (
    DATA_DIR,
    DEFAULT_MLMA,
    EVAL_CASES,
    FTR_TWEETS,
    FUNCTIONAL_CASES,
    OWN_CASES,
)
from tocsin.watch.service import Intake

HARMFUL = {"slur", "derogation", "dehumanisation", "threat", "apology", "call_to_violence",
           "spelling_variant"}
BENIGN = {"negated_hate", "counter_speech", "reporting", "neutral_group"}


@pytest.fixture(scope="module")
def two_stage_model() -> Model:
    """Both stages trained here on a sample (own cases, the templated training sentences, 600
    FTR tweets), so the tests do not need MLMA-FR from ../shared."""
    examples = (classifier.load_cases(OWN_CASES, weight=classifier.OWN_WEIGHT)
                + classifier.load_cases(classifier.TRAINING_FUNCTIONAL,
                                        weight=classifier.TEMPLATE_WEIGHT)
                + classifier.load_ftr(FTR_TWEETS)[:600])
    return classifier.train(examples)


def _key(text: str) -> str:
    return " ".join(fold(text).split())


def test_functional_set_has_every_category_and_300_cases() -> None:
    with FUNCTIONAL_CASES.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 300
    per = Counter(r["functional_category"] for r in rows)
    assert set(per) == HARMFUL | BENIGN
    assert min(per.values()) >= 20
    for row in rows:
        benign = row["functional_category"] in BENIGN
        assert (row["label"] == "none") == benign, row


def test_functional_set_is_kept_out_of_every_training_file() -> None:
    held = {_key(c.text) for c in classifier.load_cases(FUNCTIONAL_CASES)}
    training = [classifier.load_cases(OWN_CASES), classifier.load_ftr(FTR_TWEETS),
                classifier.load_cases(EVAL_CASES), classifier.load_mhc()]
    if DEFAULT_MLMA.exists():
        training.append(classifier.load_mlma(DEFAULT_MLMA))
    for examples in training:
        assert not held & {_key(e.text) for e in examples}


def test_licences_of_committed_data_travel_with_it() -> None:
    for folder in ("ftr", "badwords"):
        assert "MIT License" in (DATA_DIR / folder / "LICENSE").read_text(encoding="utf-8")
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    for name in ("FTR", "french-badwords-list", "MLMA", "CONAN", "functional.csv"):
        assert name in readme


def test_fold_undoes_disguises_and_leaves_numbers() -> None:
    assert fold("S@l3 b0ugn0ul3") == "sale bougnoule"
    assert fold("il faut t u e r") == "il faut tuer"
    assert fold("t.u.e.r") == "tuer"
    assert fold("saaaale") == "sale"
    assert fold("Rendez-vous au 17 à 17h30, le 13/11/2015") == \
        "rendez-vous au 17 a 17h30, le 13/11/2015"


def test_reasons_name_the_words_and_why() -> None:
    labels = [r["label"] for r in reasons("Ces migrants sont de la v3rmine, sale bougnoule")]
    assert "mot : « v3rmine » (déshumanisation)" in labels
    assert "mot : « bougnoule » (injure discriminatoire)" in labels
    (negation,) = reasons("Les Roms ne sont pas des voleurs")
    assert negation == {"kind": "negation", "text": "ne sont pas",
                        "label": "négation : « ne sont pas »"}


def test_stage1_explains_with_reasons_not_feature_names(two_stage_model: Model) -> None:
    (result,) = two_stage_model.classify(["Les juifs sont des rats"])
    assert result["flagged"]
    assert result["reasons"][0]["label"] == "mot : « rats » (déshumanisation)"
    assert not any(":" in r["text"] for r in result["reasons"])


def test_stage1_threshold_was_chosen_for_recall(two_stage_model: Model) -> None:
    point = two_stage_model.meta["stage1_operating_point"]
    assert point["recall"] >= classifier.RECALL_TARGET
    assert two_stage_model.threshold == point["threshold"] < classifier.DEFAULT_THRESHOLD
    point2 = two_stage_model.meta["stage2_operating_point"]
    # Stage 2 keeps the target, or (threshold 0) clears nothing when it cannot.
    assert point2["recall"] >= stage2.RECALL_TARGET or point2["threshold"] == 0.0
    assert two_stage_model.stage2.threshold == point2["threshold"]


def test_saved_model_carries_a_stage2_head_not_the_encoder(two_stage_model: Model,
                                                           tmp_path: Path) -> None:
    size = two_stage_model.save(tmp_path / "m.joblib")
    loaded = Model.load(tmp_path / "m.joblib")
    assert isinstance(loaded.stage2, stage2.Head)
    assert set(loaded.stage2.classes) == set(classifier.CATEGORIES)
    assert size < 2_000_000  # the encoder's 32 MB stay in the wheel


def test_head_reads_counts_and_negation_scope_not_stage1_probabilities(
        two_stage_model: Model) -> None:
    head = two_stage_model.stage2
    assert head.layout == stage2.LAYOUT == "counts+scope"
    context = stage2.context_columns(two_stage_model, ["Les Kurdes ne sont pas des poux"])
    assert head.pipeline.n_features_in_ == 512 + context.shape[1]
    # Heads saved before the layout existed read stage 1's probabilities first.
    assert stage2.Head(head.pipeline).layout == "probs+counts"
    with pytest.raises(ValueError, match="layout"):
        stage2.context_columns(two_stage_model, ["x"], layout="other")


def test_encoder_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kw: object) -> None:
        raise OSError("network is unreachable in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    stage2.encoder.cache_clear()
    vectors = stage2.embed(["Bonjour à tous", "Les juifs sont des rats"])
    assert vectors.shape == (2, 512)


def test_stage2_decides_with_its_own_probabilities(two_stage_model: Model) -> None:
    texts = ["Je vais t'égorger ce soir, je sais où tu habites", "Il fait beau à Lyon"]
    threat, weather = stage2.refine(two_stage_model, texts)
    assert threat["stage"] == 2 and set(threat["probabilities"]) == set(classifier.CATEGORIES)
    assert threat["score"] > weather["score"]
    assert stage2.refine(two_stage_model, []) == []


def test_flagged_item_waits_for_stage2_then_takes_its_decision(
        db: Session, two_stage_model: Model, platform: WatchPlatform) -> None:
    item, _ = service.record_item(db, model=two_stage_model, intake=Intake(
        url="https://x.example/s/21", platform="x", source="report", category="other",
        excerpt="Les juifs sont des rats"))
    assert service.second_stage_pending(item)
    assert item.explanation["reasons"]
    second = {"flagged": False, "category": "none", "score": 0.1,
              "probabilities": {"none": 0.9}}
    assert service.apply_second_stage(db, item_id=item.id, second=second)
    assert item.category == "none" and item.explanation["stage"] == 2
    assert item.explanation["stage1"]["flagged"] is True
    assert item.explanation["reasons"]  # the words stay for the moderator
    assert not service.apply_second_stage(db, item_id=item.id, second=second)  # applied once


def test_unflagged_item_does_not_wait_for_stage2(db: Session, two_stage_model: Model,
                                                 platform: WatchPlatform) -> None:
    strict = Model(two_stage_model.pipeline, 1.01, {}, two_stage_model.stage2)  # flags nothing
    item, _ = service.record_item(db, model=strict, intake=Intake(
        url="https://x.example/s/22", platform="x", source="report", category="other",
        excerpt="Il fait beau sur Lyon ce matin"))
    assert not service.second_stage_pending(item)


def test_a_model_without_stage2_never_leaves_items_pending(db: Session, model: Model,
                                                           platform: WatchPlatform) -> None:
    stage1_only = Model(model.pipeline, model.threshold, {}, None)
    item, _ = service.record_item(db, model=stage1_only, intake=Intake(
        url="https://x.example/s/23", platform="x", source="report", category="other",
        excerpt="Gloire aux frères qui ont frappé le Bataclan, ce sont des héros"))
    assert item.explanation["flagged"] and not service.second_stage_pending(item)


def test_format_1_models_still_load(tmp_path: Path, model: Model) -> None:
    import joblib

    old = tmp_path / "old.joblib"
    joblib.dump({"format": 1, "pipeline": model.pipeline, "threshold": 0.5, "meta": {}}, old)
    loaded = Model.load(old)
    assert loaded.stage2 is None
    (result,) = stage2.refine(loaded, ["Les juifs sont des rats"])
    assert result["stage"] == 1
