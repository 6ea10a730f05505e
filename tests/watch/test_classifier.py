"""The classifier contract: flags apology and violence, not what quotes or denounces them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tocsin.cli import app
from tocsin.watch import classifier
from tocsin.watch.classifier import Model
from tocsin.watch.evaluate import evaluate, two_stage
from tocsin.watch.paths import DEFAULT_MLMA, EVAL_CASES, OWN_CASES, SHIPPED_MODEL

runner = CliRunner()


def test_shipped_model_is_small_enough_to_commit() -> None:
    assert SHIPPED_MODEL.stat().st_size < 2_000_000


def test_clear_apology_and_threat_are_flagged(model: Model) -> None:
    apology, threat = model.classify([
        "Gloire aux frères qui ont attaqué le Bataclan, ce sont des héros",
        "Je vais te retrouver et t'égorger, je sais où tu habites",
    ])
    assert apology["flagged"] and apology["category"] == "terrorism_apology"
    assert threat["flagged"] and threat["category"] == "call_to_violence"
    assert apology["score"] > 0.8


def test_condemnation_is_not_flagged_and_explained(model: Model) -> None:
    text = "Je condamne fermement les attentats de Paris"
    (final,) = two_stage(model, [text])
    assert not final["flagged"] and final["category"] == "none"
    # The explanation names what held the decision back: the condemnation, in words.
    (result,) = model.classify([text])
    assert any("condemn" in f["feature"] or "condamne" in f["feature"]
               for f in result["features"])
    assert any(r["kind"] == "condemn" and "condamne" in r["text"]
               and r["label"].startswith("condamnation : « ") for r in result["reasons"])


def test_spans_point_into_the_original_text(model: Model) -> None:
    text = "Vive l'État islamique, gloire aux martyrs de Paris"
    (result,) = model.classify([text])
    assert result["spans"]
    for span in result["spans"]:
        assert text[span["start"]:span["end"]] == span["text"]


def test_held_out_counter_speech_is_rarely_flagged(model: Model) -> None:
    report = evaluate(model, classifier.load_cases(EVAL_CASES))
    # Measured 0.083 (3 of 36) for the shipped model; 0.2 leaves room for retraining noise.
    assert report["counter_speech_fpr"] <= 0.2
    assert report["harmful_recall"] >= 0.9
    assert report["kinds"]["denunciation"]["flagged"] <= 1
    assert report["per_category"]["terrorism_apology"].recall >= 0.8


def test_eval_set_is_held_out() -> None:
    train = {c.text for c in classifier.load_cases(OWN_CASES)}
    held = {c.text for c in classifier.load_cases(EVAL_CASES)}
    assert not train & held


def test_classify_cli_prints_one_json_object_per_line() -> None:
    result = runner.invoke(app, ["watch", "classify", "--model", str(SHIPPED_MODEL)],
                           input="Bravo aux kamikazes du Stade de France\n\nIl fait beau\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3  # one answer per line, so answers line up with questions
    for line in lines:
        assert {"flagged", "category", "score", "features", "spans"} <= line.keys()
        assert isinstance(line["flagged"], bool) and 0 <= line["score"] <= 1
    assert lines[0]["flagged"]
    assert not lines[1]["flagged"] and lines[1]["score"] == 0.0


@pytest.mark.skipif(not DEFAULT_MLMA.exists(), reason="needs ../shared/data")
def test_train_cli_on_a_subsample(tmp_path: Path) -> None:
    rows = DEFAULT_MLMA.read_text(encoding="utf-8").splitlines()
    small = tmp_path / "mlma.csv"
    small.write_text("\n".join(rows[:400]) + "\n", encoding="utf-8")
    out = tmp_path / "model.joblib"
    result = runner.invoke(app, ["watch", "train", "--data", str(small), "--out", str(out)])
    assert result.exit_code == 0, result.output
    trained = Model.load(out)
    assert trained.classify(["Vive le djihad, gloire aux martyrs"])[0]["flagged"]
    assert trained.meta["examples"] > 399


def test_train_cli_refuses_missing_data(tmp_path: Path) -> None:
    result = runner.invoke(app, ["watch", "train", "--data", str(tmp_path / "nope.csv"),
                                 "--out", str(tmp_path / "m.joblib")])
    assert result.exit_code == 2
    assert not (tmp_path / "m.joblib").exists()


def test_bad_model_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.joblib"
    import joblib

    joblib.dump({"format": 99}, bad)
    result = runner.invoke(app, ["watch", "classify", "--model", str(bad)], input="x\n")
    assert result.exit_code == 2
