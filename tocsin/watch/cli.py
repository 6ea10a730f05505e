"""``tocsin watch train | classify | evaluate | hash``: the classifier contract of DESIGN.md,
and the hashes partners exchange (``hash``: PDQ, MD5, SHA-256, TLSH of files).

``train`` reads MLMA-FR (``--data``) and the project's own cases once and writes a model file;
from then on nothing under ``../shared`` is needed. ``classify`` uses, in order: ``--model``,
the model trained into ``<var_dir>/watch/model.joblib``, the small model shipped in the package.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from tocsin.core.settings import get_settings
from tocsin.watch import paths

if TYPE_CHECKING:
    from tocsin.watch.classifier import Model

app = typer.Typer(help="Content watch: the French classifier, content hashes.",
                  no_args_is_help=True)
console = Console(stderr=True)

ModelOption = Annotated[Path | None, typer.Option("--model", help="Model file to use.")]


def trained_model_path() -> Path:
    """Return where ``train`` writes by default (under the deployment's var dir)."""
    return get_settings().var_dir / "watch" / "model.joblib"


def resolve_model_path(explicit: Path | None) -> Path:
    """Pick the model file: explicit, else trained, else shipped."""
    if explicit is not None:
        return explicit
    trained = trained_model_path()
    return trained if trained.exists() else paths.SHIPPED_MODEL


def _load(explicit: Path | None) -> Model:
    from tocsin.watch import classifier

    path = resolve_model_path(explicit)
    if not path.exists():
        console.print(f"[bold red]error:[/] no model at {path}; run `tocsin watch train`")
        raise typer.Exit(2)
    try:
        return classifier.Model.load(path)
    except (ValueError, OSError, EOFError) as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None


@app.command()
def train(
    data: Annotated[Path, typer.Option(help="MLMA-FR CSV.")] = paths.DEFAULT_MLMA,
    cases: Annotated[Path, typer.Option(help="Own labelled cases.")] = paths.OWN_CASES,
    ftr: Annotated[Path, typer.Option(help="FTR racist-tweet CSV.")] = paths.FTR_TWEETS,
    out: Annotated[Path | None, typer.Option(help="Model file to write.")] = None,
    stage2: Annotated[bool, typer.Option(help="Also train stage 2 (sentence encoder).")] = True,
    mhc_weight: Annotated[float, typer.Option(
        help="Weight of Multilingual HateCheck's training half (0: left out, as shipped).",
        min=0.0)] = 0.0,
) -> None:
    """Train both stages from MLMA-FR, the FTR tweets, the project's own cases and templates
    (and, with --mhc-weight, Multilingual HateCheck's training half: tocsin/watch/data/mhc)."""
    from tocsin.watch import classifier

    target = out or trained_model_path()
    for path in (data, cases, ftr):
        if not path.is_file():
            console.print(f"[bold red]error:[/] {path} does not exist (see --data/--cases/--ftr)")
            raise typer.Exit(2)
    # Steps in order; "embed:n/total" moves the bar inside the embedding step.
    stages = ["read", "features", "model", "fold", "fold", "fold", "embed", "stage2", "done"]
    labels = {"features": "stage 1: features and fit", "model": "stage 1: threshold (folds)",
              "fold": "stage 1: threshold (folds)", "embed": "stage 2: sentence vectors",
              "stage2": "stage 2: head", "done": "fitted"}
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("reading data", total=len(stages) + 1)
        try:
            examples = classifier.training_examples(data, cases, ftr, mhc_weight=mhc_weight)
        except (ValueError, KeyError, UnicodeDecodeError) as exc:
            console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(2) from None
        done = {"n": 1}

        def on_step(stage: str) -> None:
            if stage.startswith("embed:"):
                got, total = (int(x) for x in stage.removeprefix("embed:").split("/"))
                progress.update(task, completed=stages.index("embed") + got / total)
                return
            done["n"] += 1
            progress.update(task, completed=done["n"], description=labels.get(stage, stage))

        model = classifier.train(examples, on_step=on_step, two_stage=stage2)
        progress.update(task, description="saving")
        size = model.save(target)
        progress.update(task, completed=len(stages) + 1, description="saved")
    point = model.meta.get("stage1_operating_point", {})
    console.print(f"trained on {len(examples)} texts; model {target} ({size / 1e6:.2f} MB); "
                  f"stage 1 threshold {model.threshold} (out-of-fold harmful recall "
                  f"{point.get('recall', float('nan')):.3f}, "
                  f"flags {point.get('flag_rate', 0):.0%})")


@app.command()
def classify(
    model: ModelOption = None,
    two_stage: Annotated[bool, typer.Option(
        "--two-stage/--stage1", help="Send what stage 1 flags to stage 2.")] = True,
) -> None:
    """Classify one text per stdin line; print one JSON object per line."""
    loaded = _load(model)
    batch: list[str] = []

    def flush() -> None:
        results = loaded.classify(batch)
        if two_stage and loaded.stage2 is not None:
            from tocsin.watch.stage2 import refine

            flagged = [i for i, r in enumerate(results) if r["flagged"]]
            for i, second in zip(flagged, refine(loaded, [batch[i] for i in flagged]),
                                 strict=True):
                results[i] = {**results[i], **second, "stage1": {
                    k: results[i][k] for k in ("flagged", "category", "score")}}
        for result in results:
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        batch.clear()

    for line in sys.stdin:
        batch.append(line.rstrip("\r\n"))
        if len(batch) >= 256:
            flush()
    if batch:
        flush()


@app.command()
def evaluate(
    model: ModelOption = None,
    cases: Annotated[Path, typer.Option(help="Held-out cases.")] = paths.EVAL_CASES,
) -> None:
    """Print precision/recall/F1 per category and the false-positive rate on counter-speech."""
    from tocsin.watch import classifier
    from tocsin.watch.evaluate import evaluate as run_evaluation
    from tocsin.watch.evaluate import report_lines

    loaded = _load(model)
    report = run_evaluation(loaded, classifier.load_cases(cases))
    for line in report_lines(report):
        typer.echo(line)


@app.command("hash")
def hash_files(
    files: Annotated[list[Path], typer.Argument(help="Files to hash.", show_default=False)],
) -> None:
    """Print one JSON line per file: file, md5, sha256, and where they apply pdq, pdq_quality
    (images) and tlsh (any file of 50 bytes or more that is not too uniform).

    The values are those ThreatExchange and HMA compute for the same file. A file that cannot
    be read gets a one-line error on stderr; the others are still hashed (exit status 1).
    """
    from tocsin.watch.filehash import FileUnreadable, hash_file

    failed = False
    for path in files:
        try:
            line = hash_file(path)
        except FileUnreadable as exc:
            failed = True
            typer.echo(f"error: {path}: {exc}", err=True)
            continue
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
    if failed:
        raise typer.Exit(1)
