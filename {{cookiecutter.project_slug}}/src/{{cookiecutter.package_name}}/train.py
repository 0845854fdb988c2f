"""Stage `train`: cross-validate every enabled model family, refit the best, track in MLflow."""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate

from . import cli
from .config import Params, load_params
from .features import add_features
from .metrics import better, cv_scorers, from_cv_score, primary_metric
from .models import build_pipeline
from .predictor import Predictor
from .schema import MISSING_TEXT, Schema, coerce_features
from .tables import write_text
from .tracking import git_commit, pip_requirements, setup_mlflow

log = logging.getLogger(__name__)


@dataclass
class Candidate:
    family: str
    config: dict[str, Any]
    cv: dict[str, tuple[float, float]]  # metric -> (mean, std) over folds
    fit_seconds: float


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
            spec.kind == "numeric" if spec else pd.api.types.is_numeric_dtype(features[name])
        )
        (numeric if is_numeric else categorical).append(name)
    return numeric, categorical


def example_record(frame: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    """A real training row as an API request body (None for missing values)."""
    row = frame.iloc[0]
    example = {}
    for name, spec in schema.columns.items():
        value = row[name]
        missing = pd.isna(value) or value == MISSING_TEXT
        if missing:
            example[name] = None
        elif spec.kind == "numeric":
            number = float(value)
            example[name] = int(number) if number.is_integer() else number
        else:
            example[name] = str(value)
    return example


def compare(
    features: pd.DataFrame, y: np.ndarray, schema: Schema, params: Params
) -> list[Candidate]:
    """Cross-validate each enabled family on the training split only."""
    problem = schema.problem_type
    numeric, categorical = split_kinds(features, schema)
    folds = 2 if params.train.fast else params.train.cv_folds
    if problem == "regression":
        cv = KFold(folds, shuffle=True, random_state=params.seed)
    else:
        folds = min(folds, int(np.bincount(y).min()))
        cv = StratifiedKFold(folds, shuffle=True, random_state=params.seed)
    scorers = cv_scorers(problem)
    candidates = []
    for family, cfg in params.train.models.enabled().items():
        log.info("cross-validating %s (%d folds)", family, folds)
        pipeline = build_pipeline(
            family, cfg, problem, numeric, categorical, params.seed, params.train.fast
        )
        scores = cross_validate(pipeline, features, y, cv=cv, scoring=scorers, error_score="raise")
        summary = {}
        for metric in scorers:
            values = np.array([from_cv_score(metric, s) for s in scores[f"test_{metric}"]])
            summary[metric] = (float(values.mean()), float(values.std()))
        candidates.append(
            Candidate(family, cfg.model_dump(), summary, float(scores["fit_time"].mean()))
        )
    if not candidates:
        raise cli.StageError("train.models: every model family is disabled in params.yaml")
    return candidates


def champion_of(candidates: list[Candidate], metric: str) -> Candidate:
    best = candidates[0]
    for candidate in candidates[1:]:
        if better(metric, candidate.cv[metric][0], best.cv[metric][0]):
            best = candidate
    return best


def leaderboard(candidates: list[Candidate], metric: str) -> pd.DataFrame:
    rows = []
    for c in candidates:
        row: dict[str, Any] = {"model": c.family}
        for name, (mean, std) in c.cv.items():
            row[f"{name}_mean"], row[f"{name}_std"] = mean, std
        row["fit_seconds"] = c.fit_seconds
        rows.append(row)
    board = pd.DataFrame(rows)
    ascending = not better(metric, 1.0, 0.0)
    return board.sort_values(f"{metric}_mean", ascending=ascending).reset_index(drop=True)


def leaderboard_markdown(board: pd.DataFrame, metric: str, folds_note: str) -> str:
    metrics = [c.removesuffix("_mean") for c in board.columns if c.endswith("_mean")]
    header = "| model | " + " | ".join(metrics) + " | fit time (s) |"
    lines = [
        f"# Leaderboard\n\nCross-validated on the training split ({folds_note}); "
        f"ranked by {metric}. Mean ± standard deviation over folds.\n",
        header,
        "|" + "---|" * (len(metrics) + 2),
    ]
    for _, row in board.iterrows():
        cells = [f"{row[f'{m}_mean']:.4f} ± {row[f'{m}_std']:.4f}" for m in metrics]
        lines.append(f"| {row['model']} | " + " | ".join(cells) + f" | {row['fit_seconds']:.2f} |")
    return "\n".join(lines) + "\n"


def _log_to_mlflow(
    params: Params, candidates: list[Candidate], champion: Predictor, example: pd.DataFrame
) -> dict[str, str]:
    import mlflow
    from mlflow.models import infer_signature
    from skops.io import dumps, get_untrusted_types

    setup_mlflow(params.mlflow.experiment)
    pipeline = champion.pipeline
    with mlflow.start_run(run_name="train") as parent:
        mlflow.log_params(
            {"seed": params.seed, "fast": params.train.fast, "source": params.data.source}
        )
        champion_run = None
        for c in candidates:
            with mlflow.start_run(run_name=c.family, nested=True) as run:
                mlflow.log_params(c.config)
                mlflow.log_metrics({f"cv_{m}": mean for m, (mean, _) in c.cv.items()})
                mlflow.log_metrics({f"cv_{m}_std": std for m, (_, std) in c.cv.items()})
                mlflow.log_metric("fit_seconds", c.fit_seconds)
                if c.family != champion.meta["champion"]:
                    continue
                champion_run = run.info.run_id
                mlflow.set_tag("champion", "true")
                output = pipeline.predict(example)
                info = mlflow.sklearn.log_model(
                    pipeline,
                    name="model",
                    signature=infer_signature(example, output),
                    input_example=example,
                    pip_requirements=pip_requirements(),
                    skops_trusted_types=get_untrusted_types(data=dumps(pipeline)),
                )
    return {
        "parent_run_id": parent.info.run_id,
        "run_id": champion_run or "",
        "model_uri": info.model_uri,
    }


def train(frame: pd.DataFrame, schema: Schema, params: Params) -> tuple[Predictor, list[Candidate]]:
    """Compare the families by CV, refit the champion on the whole training split."""
    labels = frame[schema.target]
    features = add_features(coerce_features(frame, schema))
    classes = None
    if schema.problem_type == "regression":
        y = labels.to_numpy(dtype=float)
    else:
        classes = ordered_classes(schema, labels, params.data.positive_class)
        y = encode(labels, classes)
    try:
        metric = primary_metric(schema.problem_type, params.train.primary_metric)
    except ValueError as exc:
        raise cli.StageError(f"params.yaml: {exc}") from None
    candidates = compare(features, y, schema, params)
    best = champion_of(candidates, metric)
    log.info("champion: %s (CV %s %.4f)", best.family, metric, best.cv[metric][0])

    numeric, categorical = split_kinds(features, schema)
    cfg = getattr(params.train.models, best.family)
    pipeline = build_pipeline(
        best.family, cfg, schema.problem_type, numeric, categorical, params.seed, params.train.fast
    )
    started = time.perf_counter()
    pipeline.fit(features, y)
    meta = {
        "project": params.project.model_dump(),
        "champion": best.family,
        "problem_type": schema.problem_type,
        "target": schema.target,
        "classes": classes,
        "positive_class": classes[-1] if classes and len(classes) == 2 else None,
        "threshold": 0.5,
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
    example = predictor.features(frame.head(5))
    predictor.meta["mlflow"] = _log_to_mlflow(params, candidates, predictor, example)
    predictor.save(args.model_dir)
    folds = "2 folds, fast setting" if params.train.fast else f"{params.train.cv_folds} folds"
    write_text(board.to_csv(index=False), args.leaderboard)
    write_text(leaderboard_markdown(board, metric, folds), args.leaderboard.with_suffix(".md"))
    log.info("leaderboard:\n%s", board.to_string(index=False))


if __name__ == "__main__":
    cli.run(main)
