"""Where the classifier's data and models live (no heavy imports: the CLI loads this eagerly)."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
SHIPPED_MODEL = DATA_DIR / "model.joblib"
OWN_CASES = DATA_DIR / "cases.csv"
EVAL_CASES = DATA_DIR / "eval.csv"
FUNCTIONAL_CASES = DATA_DIR / "functional.csv"
FTR_TWEETS = DATA_DIR / "ftr" / "FTR_new_labels.csv"
DEFAULT_MLMA = Path("..") / "shared" / "data" / "hate" / "mlma_fr.csv"
