"""Benchmark of the watch classifier (issue 8), run as ``python -m bench.watch_classifier``.

Beside ours, in the same run, the naive baseline the issue names: word TF-IDF + logistic
regression with default settings. Figures:

1. 5-fold stratified macro-F1 on MLMA-FR reduced to hostile / normal (both trained on the folds
   of MLMA only, so the comparison is on the corpus alone);
2. accuracy per kind on the project's held-out cases (``tocsin/watch/data/eval.csv``), both
   trained on all of MLMA plus the project's own cases;
3. texts per second of ``Model.classify`` per CPU-second of one core (BLAS threads pinned to
   1; process CPU time, so other load on the machine does not lower the figure).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402

from tocsin.watch import classifier as clf  # noqa: E402
from tocsin.watch.evaluate import COUNTER_KINDS  # noqa: E402
from tocsin.watch.paths import DEFAULT_MLMA, EVAL_CASES, OWN_CASES  # noqa: E402


def baseline() -> Pipeline:
    """The naive baseline: word TF-IDF, logistic regression, all defaults."""
    return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))


def cross_validate(texts: list[str], labels: np.ndarray) -> dict[str, float]:
    """Return the mean 5-fold macro-F1 of ours and the baseline (binary hostile/normal)."""
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=13)
    scores: dict[str, list[float]] = {"baseline": [], "ours": []}
    arr = np.asarray(texts, dtype=object)
    for train_idx, test_idx in folds.split(arr, labels):
        for name, model in (("baseline", baseline()), ("ours", clf.build_pipeline())):
            model.fit(list(arr[train_idx]), labels[train_idx])
            pred = model.predict(list(arr[test_idx]))
            scores[name].append(f1_score(labels[test_idx], pred, average="macro"))
    return {k: float(np.mean(v)) for k, v in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_MLMA)
    args = parser.parse_args()
    mlma = clf.load_mlma(args.data)
    texts = [clf._mask(e.text) for e in mlma]
    labels = np.asarray(["normal" if e.label == "none" else "hostile" for e in mlma])
    print(f"machine: {platform.node()} {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, python {platform.python_version()}")
    cv = cross_validate(texts, labels)
    print(f"MLMA-FR 5-fold macro-F1 (hostile/normal): baseline {cv['baseline']:.3f}  "
          f"ours {cv['ours']:.3f}")

    train = clf.training_examples(args.data, OWN_CASES)
    ours = clf.train(train)
    base = baseline()
    base.fit([clf._mask(e.text) for e in train], [e.label for e in train])
    cases = clf.load_cases(EVAL_CASES)
    ours_pred = [r["category"] for r in ours.classify([c.text for c in cases], explain=0)]
    base_pred = list(base.predict([c.text for c in cases]))
    print(f"{'held-out kind':<16}{'n':>4}{'baseline acc':>14}{'ours acc':>10}")
    for kind in sorted({c.kind for c in cases}):
        idx = [i for i, c in enumerate(cases) if c.kind == kind]
        b = sum(base_pred[i] == cases[i].label for i in idx) / len(idx)
        o = sum(ours_pred[i] == cases[i].label for i in idx) / len(idx)
        print(f"{kind:<16}{len(idx):>4}{b:>14.3f}{o:>10.3f}")
    counter = [i for i, c in enumerate(cases) if c.kind in COUNTER_KINDS]
    b_fp = sum(base_pred[i] != "none" for i in counter) / len(counter)
    o_fp = sum(ours_pred[i] != "none" for i in counter) / len(counter)
    print(f"false-positive rate on counter-speech kinds: baseline {b_fp:.3f}  ours {o_fp:.3f}")

    sample = [e.text for e in mlma] * 2
    # CPU time of this process, not wall time: the figure is per core even on a busy machine.
    rates = {}
    for name, run in (("baseline", base.predict_proba), ("ours", ours.classify)):
        start = time.process_time()
        for i in range(0, len(sample), 256):
            run(sample[i:i + 256])
        rates[name] = len(sample) / (time.process_time() - start)
    start = time.process_time()
    for i in range(0, len(sample), 256):
        ours.classify(sample[i:i + 256], explain=0)
    bare = len(sample) / (time.process_time() - start)
    print(f"throughput, one core (CPU time), MLMA tweets in batches of 256: "
          f"baseline {rates['baseline']:,.0f} texts/s, ours {rates['ours']:,.0f} texts/s "
          f"with explanations, {bare:,.0f} texts/s without")
    print(f"load average during the run: {os.getloadavg()[0]:.1f}")

if __name__ == "__main__":
    main()
