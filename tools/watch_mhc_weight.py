"""Choose the weight of Multilingual HateCheck's training half by cross-validation on the
training data only (issue 21, third pass): ``python -m tools.watch_mhc_weight [--kinds]``.

Why here and how: the weight trades MHC's native-speaker frames against the tweets and our own
templates; it must be chosen without looking at MHC's held-out half or at ``functional.csv``. So
all training examples (MHC training half included) are cut in 3 folds, each template family,
template or duplicate tweet whole in one fold (``classifier.fold_groups``); for each weight both
stages are trained on two folds exactly as ``classifier.train`` does (its own out-of-fold
thresholds inside) and read on the third. Weight 0 leaves MHC out of the fit but not out of the
scoring, so every weight is scored on the same texts.

The figure read: on the held-out folds' *functional* texts (MHC training half, the templated
sentences, the own cases), the mean of harmful recall (flagged at all) and harmless accuracy, per
source, averaged over sources; tweets' harmful recall is printed as a guard. The sentence vectors
are computed once and cached (the encoder is deterministic).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402

from tocsin.watch import classifier as clf  # noqa: E402
from tocsin.watch import stage2  # noqa: E402
from tocsin.watch.evaluate import two_stage  # noqa: E402
from tocsin.watch.paths import DEFAULT_MLMA  # noqa: E402

FUNCTIONAL_SOURCES = ("mhc", "templated", "own")


def source(example: clf.Example) -> str:
    if example.group.startswith("mhc:"):
        return "mhc"
    if example.group:
        return "templated"
    return "tweets" if example.kind in ("mlma", "ftr") else "own"


def cached_embed() -> None:
    """Replace ``stage2.embed`` by a per-text cache of itself (same vectors, computed once)."""
    original = stage2.embed
    cache: dict[str, np.ndarray] = {}

    def embed(texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in cache))
        if missing:
            cache.update(zip(missing, original(missing), strict=True))
        return np.vstack([cache[t] for t in texts]) if texts else original([])

    stage2.embed = embed  # type: ignore[assignment]


def scores(examples: Sequence[clf.Example], results: Sequence[dict[str, object]]
           ) -> dict[str, tuple[float, float]]:
    """Per source: (harmful recall, harmless accuracy)."""
    out = {}
    for name in (*FUNCTIONAL_SOURCES, "tweets"):
        idx = [i for i, e in enumerate(examples) if source(e) == name]
        harm = [i for i in idx if examples[i].label != "none"]
        safe = [i for i in idx if examples[i].label == "none"]
        out[name] = (sum(bool(results[i]["flagged"]) for i in harm) / max(1, len(harm)),
                     sum(not results[i]["flagged"] for i in safe) / max(1, len(safe)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_MLMA)
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 1.0, 2.0, 4.0, 8.0, 16.0])
    parser.add_argument("--kinds", action="store_true",
                        help="Also print harmless accuracy per kind (diagnosis, not the pick).")
    args = parser.parse_args()
    cached_embed()
    base = clf.training_examples(args.data, mhc_weight=1.0)
    labels = np.asarray([e.label for e in base])
    split = StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=21)
    folds = list(split.split(np.zeros(len(base)), labels, clf.fold_groups(base)))
    print(f"{len(base)} training texts, {sum(source(e) == 'mhc' for e in base)} of MHC's "
          f"training half; 3 folds, families whole", flush=True)
    for weight in args.weights:
        examples = [replace(e, weight=weight) if source(e) == "mhc" else e for e in base]
        results: list[dict[str, object]] = [{} for _ in examples]
        started = time.perf_counter()
        for train_idx, test_idx in folds:
            fit = [examples[i] for i in train_idx if examples[i].weight > 0]
            model = clf.train(fit)
            for i, r in zip(test_idx, two_stage(model, [examples[i].text for i in test_idx]),
                            strict=True):
                results[i] = r
        got = scores(examples, results)
        mean = float(np.mean([(got[s][0] + got[s][1]) / 2 for s in FUNCTIONAL_SOURCES]))
        parts = "  ".join(f"{s} {got[s][0]:.3f}/{got[s][1]:.3f}" for s in got)
        print(f"weight {weight:g}: functional mean {mean:.3f}  (recall/harmless acc.) {parts}"
              f"  [{time.perf_counter() - started:.0f} s]", flush=True)
        if args.kinds:
            print("  harmless accuracy per kind: " + "  ".join(
                f"{k} {a:.2f}" for k, a in harmless_kinds(examples, results).items()), flush=True)


def harmless_kinds(examples: Sequence[clf.Example], results: Sequence[dict[str, object]]
                   ) -> dict[str, float]:
    """Accuracy (not flagged) per harmless kind of the functional sources (source:kind)."""
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        if e.label == "none" and source(e) in FUNCTIONAL_SOURCES:
            groups.setdefault(f"{source(e)}:{e.kind}", []).append(i)
    return {k: sum(not results[i]["flagged"] for i in idx) / len(idx)
            for k, idx in sorted(groups.items())}


if __name__ == "__main__":
    main()
