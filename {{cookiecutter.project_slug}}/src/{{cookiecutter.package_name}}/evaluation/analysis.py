"""The evaluation's numbers: the champion on the test split with intervals and a naive
baseline, the other candidates, the diagnostics, and the tables behind `dvc plots`.

The champion is judged through the same path the API serves (`Predictor.predict_frame`);
the test split was not used to pick it, so its numbers are honest estimates."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor

from ..config import EvaluateParams
from ..serving.metadata import ModelMeta
from ..serving.predictor import Predictor
from ..serving.temperature import tempered
from .bootstrap import percentile_interval, resample_counts, resampled
from .budget import Budget, plan, sample
from .curves import baseline_output
from .diagnostics import (
    Scored,
    SegmentErrors,
    curve_model,
    dataset_summary,
    learning,
    one_thread,
    scored,
    segment_errors,
    truth,
)
from .importance import model_importance, permutation_importance, seconds_per_row
from .metrics import HEADLINE, classification_metrics, per_class_metrics, regression_metrics, score

log = logging.getLogger(__name__)

CANDIDATES_DIR = "candidates"  # models/candidates/<family>.joblib, when `train` saves them


@dataclass
class Evaluation:
    """Everything the plots and documents show; `metrics` is reports/metrics.json."""

    metrics: dict[str, Any]
    meta: ModelMeta
    champion: Scored
    candidates: dict[str, Scored]
    permutation: pd.DataFrame
    model_importance: tuple[pd.DataFrame, str] | None
    segments: SegmentErrors | None
    learning: pd.DataFrame
    learning_member: str | None  # a blend's: the member the learning curve refits
    dataset: dict[str, Any]
    leaderboard: pd.DataFrame
    settings: EvaluateParams
    budget: Budget  # what the diagnostics sampled on a large table


def uses_log_target(predictor: Predictor) -> bool:
    """A regression model fitted on log(target): its metrics are also given on that scale."""
    if predictor.meta.target_transform == "log":
        return True
    steps = getattr(predictor.pipeline, "steps", None)
    return bool(steps) and isinstance(steps[-1][1], TransformedTargetRegressor)


def held_out_metrics(problem: str, result: Scored, log_scale: bool = False) -> dict[str, float]:
    if problem == "regression":
        return regression_metrics(result.y, result.output, log_scale)
    return classification_metrics(problem, result.y, result.output, result.y_pred)


def summary(predictor: Predictor, result: Scored) -> dict[str, Any]:
    """The champion's answers on the test split as the core of reports/metrics.json."""
    meta, problem = predictor.meta, predictor.meta.problem_type
    report: dict[str, Any] = {
        "champion": meta.champion,
        "problem_type": problem,
        "primary_metric": meta.primary_metric,
        "test_rows": len(result.y),
        "test": held_out_metrics(problem, result, uses_log_target(predictor)),
    }
    if problem == "binary":
        report["threshold"] = 0.5 if meta.threshold is None else meta.threshold
        report["positive_class"] = meta.positive_class
    if problem == "multiclass":
        report["per_class"] = per_class_metrics(result.y, result.y_pred, predictor.classes)
    return report


def evaluate(predictor: Predictor, test: pd.DataFrame) -> dict[str, Any]:
    """Held-out metrics of the champion, through the same path the API serves."""
    return summary(predictor, scored(predictor, test))


def intervals(
    problem: str, result: Scored, names: list[str], rounds: int, seed: int
) -> dict[str, dict[str, float]]:
    """95% bootstrap intervals of the named metrics over resamples of the test rows."""
    values: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for counts in resample_counts(len(result.y), rounds, seed):
        for name in names:
            values[name].append(_resampled(problem, name, result, counts))
    out = {}
    for name, blocks in values.items():
        found = percentile_interval(np.concatenate(blocks))
        if found:
            out[name] = {"low": found[0], "high": found[1]}
    return out


def _resampled(problem: str, name: str, result: Scored, counts: np.ndarray) -> np.ndarray:
    """The metric on each resample: at once where it has a weighted form, else row by row."""
    found = resampled(problem, name, counts, result.y, result.output, result.y_pred)
    if found is not None:
        return found
    values = []
    for drawn in counts.astype(int):
        rows = np.repeat(np.arange(len(drawn)), drawn)
        y_pred = None if result.y_pred is None else result.y_pred[rows]
        values.append(score(problem, name, result.y[rows], result.output[rows], y_pred))
    return np.array(values, dtype=float)


def candidate_models(predictor: Predictor, model_dir: Path, families: list[str]) -> dict[str, Any]:
    """The other compared families as `train` fitted and saved them (models/candidates/)."""
    saved = model_dir / CANDIDATES_DIR
    others = [family for family in families if family != predictor.meta.champion]
    return {
        f: joblib.load(saved / f"{f}.joblib") for f in others if (saved / f"{f}.joblib").is_file()
    }


def score_pipeline(pipeline: Any, predictor: Predictor, test: pd.DataFrame) -> Scored:
    """Another candidate on the test split, its probabilities calibrated and cut as the
    champion's (trained with the same class weights, they lean the same way)."""
    features = predictor.features(test)
    y = truth(predictor, test)
    if predictor.classes is None:
        return Scored(y, np.asarray(pipeline.predict(features), dtype=float))
    meta = predictor.meta
    proba = tempered(pipeline.predict_proba(features), meta.temperature, meta.class_shift)
    return Scored(y, proba, predictor.decide(proba))


def analyse(
    predictor: Predictor,
    train: pd.DataFrame,
    test: pd.DataFrame,
    board: pd.DataFrame,
    cfg: EvaluateParams,
    seed: int,
    source: str,
    model_dir: Path,
    served: Predictor | None = None,
) -> Evaluation:
    """The champion's metrics with intervals and baseline, the candidates, the diagnostics.

    `served`: the model the API runs (the ONNX graph `export` checked against the pipeline),
    which permutation importance scores its shuffled copies with; the pipeline when None."""
    meta = predictor.meta
    one_thread(predictor.pipeline)
    problem, metric = meta.problem_type, meta.primary_metric
    headline = list(dict.fromkeys([metric, *HEADLINE[problem]]))
    champion = scored(predictor, test)
    metrics = summary(predictor, champion)
    columns = len(predictor.schema.features)
    row_seconds = seconds_per_row(served or predictor, test)
    budget = plan(cfg, len(test), len(train), columns, meta.refit_seconds, row_seconds)
    rounds = budget.bootstrap_rounds
    log.info("bootstrap intervals (%d resamples of %d rows)", rounds, len(test))
    metrics["intervals"] = intervals(problem, champion, headline, rounds, seed)
    base_output, base_pred = baseline_output(
        problem, truth(predictor, train), len(test), len(predictor.classes or [])
    )
    naive = Scored(champion.y, base_output, base_pred)
    metrics["baseline"] = held_out_metrics(problem, naive, uses_log_target(predictor))

    families = [str(family) for family in board["model"]]
    log.info("scoring the other candidates on the test split")
    fitted = candidate_models(predictor, model_dir, families)
    candidates = {f: score_pipeline(one_thread(p), predictor, test) for f, p in fitted.items()}
    metrics["candidates"] = {
        family: {m: v for m, v in held_out_metrics(problem, result).items() if m in headline}
        for family, result in candidates.items()
    }

    repeats, rows = budget.permutation_repeats, budget.permutation_rows
    log.info("permutation importance (%d repeats per column, %d test rows)", repeats, rows)
    shuffled = sample(test, rows, seed)
    ranking = permutation_importance(served or predictor, shuffled, metric, repeats, seed)
    points, folds, rows = budget.learning_points, budget.learning_folds, budget.learning_rows
    log.info("learning curve (%d sizes, %d folds, %d training rows)", points, folds, rows)
    curve = learning(predictor, sample(train, rows, seed), metric, points, folds, seed)
    return Evaluation(
        metrics=metrics,
        meta=meta,
        champion=champion,
        candidates=candidates,
        permutation=ranking,
        model_importance=model_importance(predictor.pipeline),
        segments=segment_errors(predictor, test, champion, ranking, cfg.top_n),
        learning=curve,
        # A fold mean's members are one model's fits: its curve is the model's, unnamed.
        learning_member=curve_model(predictor.pipeline)[1] if meta.champion == "blend" else None,
        dataset=dataset_summary(predictor, train, test) | {"source": source},
        leaderboard=board,
        settings=cfg,
        budget=budget,
    )
