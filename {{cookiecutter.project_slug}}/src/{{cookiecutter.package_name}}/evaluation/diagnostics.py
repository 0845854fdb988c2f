"""What the champion's answers on the test split reveal: importance, errors, learning.

Each function takes the loaded champion (`Predictor`) and plain tables and returns numbers;
`evaluate` collects them and the report draws and reads them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import parallel_config
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold, learning_curve

from ..data.cleaning import as_text
from ..data.schema import MISSING_TEXT
from ..parallel import FITS_AT_ONCE, one_blas_thread
from ..serving.predictor import Predictor
from .metrics import cv_scorers, from_cv_score


@dataclass
class Scored:
    """A model's answers on the test split."""

    y: np.ndarray  # true labels (encoded 0..k-1) or values
    output: np.ndarray  # class probabilities, or predicted values
    y_pred: np.ndarray | None = None  # predicted class indices (classification)


@dataclass
class SegmentErrors:
    """The champion's error by level of one column (quartiles for a number)."""

    column: str
    measure: str  # "error rate" (classes) or "mean absolute error"
    overall: float
    table: pd.DataFrame  # segment, rows, error; worst first


def one_thread(pipeline: Any) -> Any:
    """Set every n_jobs in the pipeline to 1. Evaluation fits and predicts many small models
    in turn; on a small busy machine OpenMP threads waiting for each other stall such fits
    for seconds, while one thread each is quick and steady."""
    for member in getattr(pipeline, "estimators_", []):  # a blend's fitted members
        one_thread(member)
    threaded = [
        name
        for name, value in pipeline.get_params().items()
        if name.endswith("n_jobs") and value not in (None, 1)
    ]
    return pipeline.set_params(**dict.fromkeys(threaded, 1))


def encode(labels: pd.Series, classes: list[Any]) -> np.ndarray:
    index = {str(label): i for i, label in enumerate(classes)}
    return labels.map(lambda value: index[str(value)]).to_numpy(dtype=int)


def truth(predictor: Predictor, frame: pd.DataFrame) -> np.ndarray:
    target = frame[predictor.meta.target]
    if predictor.classes is None:
        return target.to_numpy(dtype=float)
    return encode(target, predictor.classes)


def scored(predictor: Predictor, frame: pd.DataFrame) -> Scored:
    labels, proba = predictor.predict_frame(frame)
    if proba is None:
        return Scored(truth(predictor, frame), np.asarray(labels, dtype=float))
    return Scored(truth(predictor, frame), proba, predictor.decide(proba))


def segment_errors(
    predictor: Predictor, test: pd.DataFrame, result: Scored, ranking: pd.DataFrame, top_n: int
) -> SegmentErrors | None:
    """Error by level of the most important categorical column (else numeric, in quartiles)."""
    columns = predictor.schema.columns
    ranked = [c for c in ranking["column"] if c in columns]
    categorical = [c for c in ranked if columns[c].kind == "categorical"]
    numeric = [c for c in ranked if columns[c].kind == "numeric"]
    if categorical:
        column = categorical[0]
        groups = as_text(test[column]).replace(MISSING_TEXT, "(missing)")
    elif numeric:
        column = numeric[0]
        values = pd.Series(predictor.inputs.typed(test)[column], index=test.index)
        bins = pd.qcut(values, 4, duplicates="drop")
        groups = bins.map(lambda b: f"{b.left:,.4g} to {b.right:,.4g}").astype(object)
        groups = groups.where(values.notna(), "(missing)")
    else:
        return None
    top = groups.value_counts().index[:top_n]
    hidden = groups.nunique() - len(top)
    groups = groups.where(groups.isin(top), f"other ({hidden} levels)")
    if result.y_pred is None:
        errors, measure = np.abs(result.output - result.y), "mean absolute error"
    else:
        errors, measure = (result.y_pred != result.y).astype(float), "error rate"
    table = (
        pd.DataFrame({"segment": groups.to_numpy(), "error": errors})
        .groupby("segment", sort=False)["error"]
        .agg(rows="size", error="mean")
        .reset_index()
        .sort_values("error", ascending=False, ignore_index=True)
    )
    return SegmentErrors(column, measure, float(errors.mean()), table)


def curve_model(pipeline: Any) -> tuple[Any, str | None]:
    """What the learning curve refits: the champion, or a blend's heaviest member (its name).

    A blend would refit every member at every size; its heaviest member shows the same
    thing (does more data help?) at a fraction of the cost."""
    weights = getattr(pipeline, "weights", None)
    members = getattr(pipeline, "estimators", None)
    if weights is None or not members:
        return pipeline, None
    name, member = members[int(np.argmax(weights))]
    return member, name


def learning(
    predictor: Predictor, train: pd.DataFrame, metric: str, points: int, folds: int, seed: int
) -> pd.DataFrame:
    """Train and validation scores of the champion's settings (or, for a blend, its heaviest
    member's: `curve_model`) as the training set grows."""
    problem = predictor.meta.problem_type
    features, y = predictor.features(train), truth(predictor, train)
    if problem == "regression":
        cv = KFold(folds, shuffle=True, random_state=seed)
        smallest = 10
    else:
        folds = max(2, min(folds, int(np.bincount(y).min())))
        cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
        smallest = 10 * len(predictor.classes)  # every class in the smallest training set
    largest = len(y) * (folds - 1) // folds
    start = min(1.0, max(0.1, smallest / max(largest, 1)))
    # Two fits at a time in threads: the models run one thread each (one_thread, and BLAS's
    # too) and the boosters and trees release the GIL; worker processes would each import the
    # stack again.
    with (
        one_blas_thread(),
        parallel_config(backend="threading", n_jobs=FITS_AT_ONCE),
        warnings.catch_warnings(),
    ):
        # On a small table several sizes round to one row count: the curve has fewer points.
        warnings.filterwarnings("ignore", "Removed duplicate entries", RuntimeWarning)
        sizes, train_scores, valid_scores = learning_curve(
            clone(curve_model(predictor.pipeline)[0]),
            features,
            y,
            train_sizes=np.linspace(start, 1.0, points),
            cv=cv,
            scoring=cv_scorers(problem)[metric],
            shuffle=True,
            random_state=seed,
            error_score=np.nan,
        )
    train_scores = from_cv_score(metric, train_scores)
    valid_scores = from_cv_score(metric, valid_scores)
    curve = pd.DataFrame(
        {
            "train_size": sizes,
            "train_score": np.nanmean(train_scores, axis=1),
            "train_std": np.nanstd(train_scores, axis=1),
            "validation_score": np.nanmean(valid_scores, axis=1),
            "validation_std": np.nanstd(valid_scores, axis=1),
        }
    )
    return curve.dropna(subset=["train_score", "validation_score"]).reset_index(drop=True)


def dataset_summary(predictor: Predictor, train: pd.DataFrame, test: pd.DataFrame) -> dict:
    schema = predictor.schema
    typed = pd.DataFrame(predictor.inputs.typed(pd.concat([train, test])))
    missing = typed.isna() | typed.eq(MISSING_TEXT)
    target = pd.concat([train, test])[schema.target]
    summary: dict[str, Any] = {
        "target": schema.target,
        "train_rows": len(train),
        "test_rows": len(test),
        "numeric": sum(spec.kind == "numeric" for spec in schema.columns.values()),
        "categorical": sum(spec.kind == "categorical" for spec in schema.columns.values()),
        "text": sum(spec.kind == "text" for spec in schema.columns.values()),
        "datetime": sum(spec.kind == "datetime" for spec in schema.columns.values()),
        "dropped": dict(schema.dropped),
        "missing_share": float(missing.to_numpy().mean()),
    }
    if predictor.classes is None:
        values = target.astype(float)
        summary["target_stats"] = {
            "mean": values.mean(),
            "median": values.median(),
            "min": values.min(),
            "max": values.max(),
        }
    else:
        shares = target.astype(str).value_counts(normalize=True)
        summary["class_shares"] = {
            str(c): float(shares.get(str(c), 0.0)) for c in predictor.classes
        }
    return summary
