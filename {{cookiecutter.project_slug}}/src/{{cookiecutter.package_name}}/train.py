"""Stage `train`: tune and cross-validate every enabled family, refit the best, track it."""

from __future__ import annotations

import argparse
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from . import cli
from .config import Params, load_params
from .leaderboard import Candidate, champion_of, leaderboard, leaderboard_markdown
from .metrics import primary_metric
from .predictor import Predictor, model_input
from .progress import TrainingProgress
from .schema import MISSING_TEXT, Schema
from .tables import atomic_write, write_text
from .tracking import git_commit, log_training
from .tuning import (
    Setup,
    best_threshold,
    class_weights,
    cross_validated,
    model_params,
    out_of_fold_proba,
    search,
    trial_budget,
)

log = logging.getLogger(__name__)


def ordered_classes(schema: Schema, labels: pd.Series, positive: Any = None) -> list[Any]:
    """Class labels in model order; for binary problems the positive class comes last."""
    classes = list(schema.classes or [])
    if len(classes) != 2:
        return classes
    if positive is None:
        counts = labels.value_counts()
        positive = min(classes, key=lambda c: (counts.get(c, 0), str(c)))
    matches = [c for c in classes if str(c) == str(positive)]
    if not matches:
        raise cli.StageError(
            f"data.positive_class: {positive!r} is not one of the classes {classes}"
        )
    return [c for c in classes if c != matches[0]] + matches


def encode(labels: pd.Series, classes: list[Any]) -> np.ndarray:
    index = {label: i for i, label in enumerate(classes)}
    return labels.map(index).to_numpy(dtype=int)


def split_kinds(features: pd.DataFrame, schema: Schema) -> tuple[list[str], list[str]]:
    """Numeric and categorical columns; engineered columns take their kind from their dtype."""
    numeric, categorical = [], []
    for name in features.columns:
        spec = schema.columns.get(name)
        is_numeric = (
            spec.kind != "categorical" if spec else pd.api.types.is_numeric_dtype(features[name])
        )
        (numeric if is_numeric else categorical).append(name)
    return numeric, categorical


def wants_log_target(y: np.ndarray, setting: str) -> bool:
    """auto: log for a positive, right-skewed target such as a price."""
    if setting != "auto":
        return setting == "log"
    return bool(y.min() > 0 and pd.Series(y).skew() > 0.75)


def example_record(frame: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    """A real training row as an API request body (None for missing values)."""
    row = frame.iloc[0]
    example: dict[str, Any] = {}
    for name, spec in schema.columns.items():
        value = row[name]
        if pd.isna(value) or value == MISSING_TEXT:
            example[name] = None
        elif spec.kind == "numeric":
            number = float(value)
            example[name] = int(number) if number.is_integer() else number
        else:
            example[name] = value.isoformat() if spec.kind == "datetime" else str(value)
    return example


def compare(setup: Setup, progress: TrainingProgress) -> list[Candidate]:
    """Tune (unless fast or switched off) and cross-validate each enabled family."""
    train = setup.params.train
    searching = train.search.enabled and not train.fast
    candidates = []
    for family, cfg in train.models.enabled().items():
        trials = None
        budget = trial_budget(cfg, train.search) if searching else 0
        with progress.family(family, budget) as tick:
            if searching:
                cfg, trials = search(setup, family, cfg, on_trial=tick)
            scores = cross_validated(setup, family, cfg)
        candidates.append(Candidate(family, model_params(cfg), trials=trials, **scores))
    if not candidates:
        raise cli.StageError("train.models: every model family is disabled in params.yaml")
    return candidates


def train(frame: pd.DataFrame, schema: Schema, params: Params) -> tuple[Predictor, list[Candidate]]:
    """Compare the families by CV, refit the champion on the whole training split."""
    labels = frame[schema.target]
    features = model_input(frame, schema)
    numeric, categorical = split_kinds(features, schema)
    problem = schema.problem_type
    try:
        metric = primary_metric(problem, params.train.primary_metric)
    except ValueError as exc:
        raise cli.StageError(f"params.yaml: {exc}") from None
    classes, weights, log_target = None, None, False
    if problem == "regression":
        y = labels.to_numpy(dtype=float)
        log_target = wants_log_target(y, params.train.target_transform)
    else:
        classes = ordered_classes(schema, labels, params.data.positive_class)
        y = encode(labels, classes)
        weights = class_weights(y, params.train.class_weight)
    group = params.split.group_column
    setup = Setup(
        features, y, problem, numeric, categorical, metric, params, log_target,
        groups=frame[group].to_numpy() if group else None, weights=weights,
    )  # fmt: skip
    with TrainingProgress() as progress:
        candidates = compare(setup, progress)
    best = champion_of(candidates, metric)
    cfg = getattr(params.train.models, best.family).model_copy(update=best.config)
    log.info("champion: %s (CV %s %.4f)", best.family, metric, best.cv[metric][0])

    threshold = None
    if problem == "binary":
        threshold = params.train.decision_threshold
        if threshold == "auto":
            proba, seen_y = out_of_fold_proba(setup, best.family, cfg)
            threshold = best_threshold(proba[:, 1], seen_y)
    for candidate in candidates:  # refitted as tuned, so evaluation compares like with like
        if candidate is not best:
            other = getattr(params.train.models, candidate.family)
            other = other.model_copy(update=candidate.config)
            candidate.pipeline = setup.pipeline(candidate.family, other)
            candidate.pipeline.fit(features, y, **setup.fit_kw(candidate.family))
    started = time.perf_counter()
    pipeline = setup.pipeline(best.family, cfg)
    pipeline.fit(features, y, **setup.fit_kw(best.family))
    meta = {
        "project": params.project.model_dump(),
        "champion": best.family,
        "problem_type": problem,
        "target": schema.target,
        "classes": classes,
        "positive_class": classes[-1] if classes and len(classes) == 2 else None,
        "threshold": threshold,
        "class_weight": "balanced" if weights is not None else "none",
        "target_transform": "log" if log_target else "none",
        "primary_metric": metric,
        "cv": {m: {"mean": mean, "std": std} for m, (mean, std) in best.cv.items()},
        "model_params": best.config,
        "features": {"numeric": numeric, "categorical": categorical},
        "train_rows": len(frame),
        "refit_seconds": round(time.perf_counter() - started, 3),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "schema": schema.model_dump(),
        "example": example_record(frame, schema),
    }
    return Predictor(pipeline=pipeline, meta=meta), candidates


def save_candidates(candidates: list[Candidate], folder: Path) -> None:
    """Every other family's fitted pipeline, for the evaluation report's comparisons."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.joblib"):
        stale.unlink()
    for candidate in candidates:
        if candidate.pipeline is not None:
            path = folder / f"{candidate.family}.joblib"
            atomic_write(path, lambda tmp, c=candidate: joblib.dump(c.pipeline, tmp))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--schema", type=Path, required=True)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--leaderboard", type=Path, required=True)
    args = parser.parse_args()
    params = load_params()
    schema = Schema.load(args.schema)

    frame = pd.read_parquet(args.train)
    predictor, candidates = train(frame, schema, params)
    metric = predictor.meta["primary_metric"]
    board = leaderboard(candidates, metric)
    settings = params.train
    note = "2 folds, fast setting" if settings.fast else f"{settings.cv_folds} folds"
    if settings.search.enabled and not settings.fast:
        note += f", up to {settings.search.n_trials} Optuna trials per family"
    markdown = leaderboard_markdown(board, metric, note)
    predictor.meta["mlflow"] = log_training(params, frame, candidates, predictor, board, args.train)
    predictor.save(args.model_dir)
    save_candidates(candidates, args.model_dir / "candidates")
    write_text(board.to_csv(index=False), args.leaderboard)
    write_text(markdown, args.leaderboard.with_suffix(".md"))
    log.info("leaderboard:\n%s", board.to_string(index=False))


if __name__ == "__main__":
    cli.run(main)
