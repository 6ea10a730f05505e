"""Benchmark of the watch classifier (issue 8), run as ``python -m bench.watch_classifier``.

Beside ours, in the same run, the naive baseline the issue names: word TF-IDF + logistic
regression with default settings. Figures:

1. 5-fold stratified macro-F1 on MLMA-FR reduced to hostile / normal (``normal`` = the row's
   only label is ``normal``; any hostile label makes it hostile), both trained on the same folds
   of MLMA only, so the comparison is on the corpus alone. Rows whose text is the same after
   lower-casing and dropping punctuation are kept in one fold (grouped folds): a duplicate on
   both sides would be a test text seen in training;
2. accuracy per kind on the project's held-out cases (``tocsin/watch/data/eval.csv``), both
   trained on all of MLMA plus the project's own cases;
3. texts per second of ``Model.classify`` with explanations, per CPU-second of one core (BLAS
   threads pinned to 1; process CPU time) and per wall-clock second (run it under
   ``taskset -c 0`` on a quiet machine for the one-core wall figure).

4. (issue 21) per functional category of ``tocsin/watch/data/functional.csv``: the previous
   model (issue 8's recipe: MLMA + own cases, no folding, no lexicon, threshold 0.5) beside the
   new stage 1 alone and the two stages together, all trained in this run; and stage 2's texts
   per second (sentence encoder on one BLAS thread, plus its head).

5. (issue 21, ``--mhc``) Multilingual HateCheck, French (``tocsin/watch/data/mhc``, written by
   native speakers, not by this project): its held-out half (``--mhc-side held_out``, the half of
   the template families never trained on) or all of it (``--mhc-side all``, for a model that
   never saw any), per MHC functionality: flag rate for the hateful ones, accuracy (not flagged)
   for the others. ``--model PATH`` (repeatable) adds a saved model's column beside the ones
   trained in the run (e.g. the model shipped before); ``--no-train`` evaluates only those.

``python -m bench.watch_variants`` runs the alternatives tried for the macro-F1 on the same folds.
``--skip-cv`` leaves out figure 1 (the longest).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402

from tocsin.watch import classifier as clf  # noqa: E402
from tocsin.watch import mhc, stage2  # noqa: E402
from tocsin.watch.evaluate import COUNTER_KINDS, two_stage  # noqa: E402
from tocsin.watch.paths import DEFAULT_MLMA, EVAL_CASES, FUNCTIONAL_CASES, OWN_CASES  # noqa: E402


def baseline() -> Pipeline:
    """The naive baseline: word TF-IDF, logistic regression, all defaults."""
    return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))


def duplicate_groups(texts: list[str]) -> np.ndarray:
    """Return one group id per text; texts equal once lower-cased and unpunctuated share one."""
    keys = [re.sub(r"\W+", " ", t.casefold()).strip() for t in texts]
    ids = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    return np.asarray([ids[k] for k in keys])


def folds(texts: list[str], labels: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The 5 stratified folds every model of the bench is scored on (duplicates grouped)."""
    split = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=13)
    return list(split.split(texts, labels, duplicate_groups(texts)))


def cross_validate(texts: list[str], labels: np.ndarray) -> dict[str, float]:
    """Return the mean 5-fold macro-F1 of ours and the baseline (binary hostile/normal)."""
    scores: dict[str, list[float]] = {"baseline": [], "ours": []}
    arr = np.asarray(texts, dtype=object)
    for train_idx, test_idx in folds(texts, labels):
        for name, model in (("baseline", baseline()), ("ours", clf.build_pipeline())):
            model.fit(list(arr[train_idx]), labels[train_idx])
            pred = model.predict(list(arr[test_idx]))
            scores[name].append(f1_score(labels[test_idx], pred, average="macro"))
    return {k: float(np.mean(v)) for k, v in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_MLMA)
    parser.add_argument("--skip-cv", action="store_true")
    parser.add_argument("--mhc", action="store_true", help="Multilingual HateCheck table too.")
    parser.add_argument("--mhc-weight", type=float, default=clf.MHC_WEIGHT,
                        help="Weight of MHC's training half in the model trained here.")
    parser.add_argument("--mhc-side", choices=(mhc.HELD_OUT, "all"), default=mhc.HELD_OUT)
    parser.add_argument("--model", type=Path, action="append", default=[],
                        help="A saved model to evaluate beside those trained here.")
    parser.add_argument("--no-train", action="store_true",
                        help="Evaluate the --model files only (functional.csv, eval.csv, MHC).")
    args = parser.parse_args()
    saved = {p.name: clf.Model.load(p) for p in args.model}
    if args.no_train:
        compare(saved, args.mhc_side if args.mhc else None)
        return
    mlma = clf.load_mlma(args.data)
    texts = [clf._mask(e.text) for e in mlma]
    labels = np.asarray(["normal" if e.label == "none" else "hostile" for e in mlma])
    print(f"machine: {platform.node()} {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, python {platform.python_version()}")
    groups = duplicate_groups(texts)
    print(f"MLMA-FR: {len(texts)} tweets, {int((labels == 'hostile').sum())} hostile, "
          f"{int((labels == 'normal').sum())} normal; {len(texts) - len(set(groups))} rows "
          f"duplicate another (kept in the same fold)")
    if not args.skip_cv:
        cv = cross_validate(texts, labels)
        print(f"MLMA-FR 5-fold macro-F1 (hostile/normal): baseline {cv['baseline']:.3f}  "
              f"ours {cv['ours']:.3f}")

    train = clf.training_examples(args.data, OWN_CASES, mhc_weight=args.mhc_weight)
    started = time.perf_counter()
    ours = clf.train(train)
    print(f"two stages trained on {len(train)} texts in {time.perf_counter() - started:.0f} s; "
          f"stage 1 operating point {ours.meta['stage1_operating_point']}")
    # The previous model's data: MLMA-FR and the own cases only (no FTR, no templates).
    functional(ours, clf.training_examples(args.data, OWN_CASES, ftr=None, templated=None,
                                           mhc_weight=0.0))
    if saved or args.mhc:
        compare({"trained here": ours, **saved}, args.mhc_side if args.mhc else None)
    base = baseline()
    base.fit([clf._mask(e.text) for e in train], [e.label for e in train])
    cases = clf.load_cases(EVAL_CASES)
    ours_pred = [r["category"] for r in ours.classify([c.text for c in cases], explain=0)]
    both_pred = [r["category"] for r in two_stage(ours, [c.text for c in cases])]
    base_pred = list(base.predict([c.text for c in cases]))
    print(f"{'held-out kind':<16}{'n':>4}{'baseline acc':>14}{'stage 1 acc':>13}"
          f"{'2 stages acc':>14}")
    for kind in sorted({c.kind for c in cases}):
        idx = [i for i, c in enumerate(cases) if c.kind == kind]
        b = sum(base_pred[i] == cases[i].label for i in idx) / len(idx)
        o = sum(ours_pred[i] == cases[i].label for i in idx) / len(idx)
        t = sum(both_pred[i] == cases[i].label for i in idx) / len(idx)
        print(f"{kind:<16}{len(idx):>4}{b:>14.3f}{o:>13.3f}{t:>14.3f}")
    counter = [i for i, c in enumerate(cases) if c.kind in COUNTER_KINDS]
    b_fp = sum(base_pred[i] != "none" for i in counter) / len(counter)
    o_fp = sum(ours_pred[i] != "none" for i in counter) / len(counter)
    t_fp = sum(both_pred[i] != "none" for i in counter) / len(counter)
    print(f"false-positive rate on counter-speech kinds: baseline {b_fp:.3f}  stage 1 {o_fp:.3f}"
          f"  2 stages {t_fp:.3f}")

    sample = [e.text for e in mlma] * 2
    # CPU time of this process, not wall time: the figure is per core even on a busy machine.
    ours.classify(sample[:256])  # first call builds the feature-name table
    runs = (("baseline", base.predict_proba), ("ours, explained", ours.classify),
            ("ours, scores only", lambda b: ours.classify(b, explain=0)))
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    print(f"throughput, MLMA tweets in batches of 256, CPUs allowed {affinity}:")
    for name, run in runs:
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(0, len(sample), 256):
            run(sample[i:i + 256])
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"  {name:<18} {len(sample) / cpu:>8,.0f} texts per CPU-second, "
              f"{len(sample) / wall:>8,.0f} texts per wall second")
    flagged = [t for t, r in zip(sample, ours.classify(sample[:2048]), strict=False)
               if r["flagged"]][:1024]
    stage2.refine(ours, flagged[:8])  # loads the encoder (not timed: once per process)
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(0, len(flagged), 64):
        stage2.refine(ours, flagged[i:i + 64])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"  {'stage 2 (encoder + head)':<18} {len(flagged) / cpu:>8,.0f} texts per CPU-second, "
          f"{len(flagged) / wall:>8,.0f} texts per wall second ({len(flagged)} stage-1 flags)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f}")


def functional(ours: clf.Model, previous_data: list[clf.Example]) -> None:
    """Per functional category: the previous model, stage 1 alone, both stages."""
    previous = clf.build_pipeline(legacy=True)
    previous.fit([clf._mask(e.text) for e in previous_data], [e.label for e in previous_data],
                 model__sample_weight=[e.weight for e in previous_data])
    cases = clf.load_cases(FUNCTIONAL_CASES)
    texts = [c.text for c in cases]
    before = [clf.Model(previous).classify(texts, explain=0)]
    first = ours.classify(texts, explain=0)
    second = stage2.refine(ours, texts)
    both = [s if f["flagged"] else f for f, s in zip(first, second, strict=True)]
    print(f"{'functional category':<20}{'n':>4}{'goal':>7}{'previous':>10}{'stage 1':>9}"
          f"{'2 stages':>10}   (recall of harm for harmful, accuracy for the others)")
    for cat in dict.fromkeys(c.kind for c in cases):
        idx = [i for i, c in enumerate(cases) if c.kind == cat]
        harmful = cases[idx[0]].label != "none"

        def score(results: list[dict[str, object]], idx: list[int] = idx,
                  harmful: bool = harmful) -> float:
            if harmful:  # flagged at all: a moderator sees it, whatever the category
                return sum(bool(results[i]["flagged"]) for i in idx) / len(idx)
            return sum(results[i]["category"] == "none" for i in idx) / len(idx)

        goal = 0.85 if harmful else 0.80
        print(f"{cat:<20}{len(idx):>4}{goal:>7.2f}{score(before[0]):>10.2f}"
              f"{score(first):>9.2f}{score(both):>10.2f}")
    exact = sum(b["category"] == c.label for b, c in zip(both, cases, strict=True))
    print(f"exact category, two stages: {exact}/{len(cases)}")


def _score(results: list[dict[str, object]], idx: list[int], harmful: bool) -> float:
    """Flag rate of harmful cases (any category: a moderator sees it), else accuracy."""
    if harmful:
        return sum(bool(results[i]["flagged"]) for i in idx) / len(idx)
    return sum(results[i]["category"] == "none" for i in idx) / len(idx)


def _table(title: str, models: dict[str, clf.Model], groups: dict[str, list[int]],
           harmful: dict[str, bool], texts: list[str]) -> None:
    results = {name: two_stage(model, texts) for name, model in models.items()}
    names = list(models)
    print(f"{title:<22}{'n':>5}  " + "  ".join(f"{n[-24:]:>24}" for n in names))
    for group, idx in groups.items():
        print(f"{group:<22}{len(idx):>5}  " + "  ".join(
            f"{_score(results[n], idx, harmful[group]):>24.2f}" for n in names))


def compare(models: dict[str, clf.Model], mhc_side: str | None) -> None:
    """Both stages of each model, per category of functional.csv and eval.csv, and (when
    ``mhc_side``) per functionality of MHC French and per our category of its labels."""
    print("columns: two stages of each model; harmful rows: flag rate, others: accuracy")
    for path in (FUNCTIONAL_CASES, EVAL_CASES):
        own = clf.load_cases(path)
        groups: dict[str, list[int]] = {}
        for i, e in enumerate(own):
            groups.setdefault(e.kind, []).append(i)
        _table(path.name, models, groups,
               {k: own[v[0]].label != "none" for k, v in groups.items()}, [e.text for e in own])
    if mhc_side is None:
        return
    all_cases = mhc.read()
    picked = [c for c in all_cases if mhc_side == "all" or c.side == mhc_side]
    groups = {}
    for i, c in enumerate(picked):
        groups.setdefault(c.functionality, []).append(i)
    harmful = {k: picked[v[0]].hateful for k, v in groups.items()}
    for i, c in enumerate(picked):
        groups.setdefault(f"= {c.label}", []).append(i)
        harmful[f"= {c.label}"] = c.hateful
    print(f"MHC French, {mhc_side}: {len(picked)} of {len(all_cases)} cases, "
          f"{len({c.family for c in picked})} template families")
    _table("MHC functionality", models, dict(sorted(groups.items())), harmful,
           [c.text for c in picked])


if __name__ == "__main__":
    main()
