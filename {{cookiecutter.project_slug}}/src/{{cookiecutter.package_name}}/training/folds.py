"""One cross-validation fold: a candidate fitted on the fold's training rows, answering for
its held-out rows. Boosters stop adding trees once the held-out score has not improved for
`train.early_stopping_rounds` trees, and keep the score after every tree (their curve), so
that the folds together can choose one number of trees (`crossval.chosen_trees`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.compose import TransformedTargetRegressor

from .growth import Deadline, Growth, grow
from .task import Setup

# The held-out loss a booster stops on, whatever the primary metric: the loss it minimises.
# ROC AUC was tried and is a poor stopping rule: flat and noisy on a small fold, it peaked
# after a dozen trees on Telco, leaving probabilities that were barely fitted.
_LOSS = {
    "lightgbm": {"binary": "binary_logloss", "multiclass": "multi_logloss", "regression": "rmse"},
    "xgboost": {"binary": "logloss", "multiclass": "mlogloss", "regression": "rmse"},
}
STOPPING = set(_LOSS)  # the families that early-stop


@dataclass
class FoldFit:
    """A fitted fold: its pipeline, its held-out rows and, for boosters, the held-out loss
    after each tree (lower is better)."""

    pipeline: Any
    held: np.ndarray
    fit_rows: int
    fit_seconds: float
    curve: np.ndarray | None = None
    encoded_held: Any = None  # boosters: the held-out rows as the model reads them
    answered: tuple[int | None, np.ndarray] | None = None  # the last answers, by trees
    cut: bool = False  # a booster stopped by its time limit, not by early stopping


def _estimator(model: Any, fitted: bool) -> Any:
    """The booster itself, inside a log-target wrapper or not."""
    if isinstance(model, TransformedTargetRegressor):
        return model.regressor_ if fitted else model.regressor
    return model


def _stopping_kw(family: str, booster: Any, metric: str, rounds: int) -> dict[str, Any]:
    """Set the booster up to stop early on `metric`; the extra keyword arguments of its fit."""
    if family == "xgboost":
        booster.set_params(early_stopping_rounds=rounds, eval_metric=metric)
        return {"verbose": False}
    import lightgbm

    booster.set_params(metric=metric)
    return {"callbacks": [lightgbm.early_stopping(rounds, first_metric_only=True, verbose=False)]}


def _curve(family: str, booster: Any, metric: str) -> np.ndarray:
    if family == "xgboost":
        values = booster.evals_result()["validation_0"][metric]
    else:
        values = booster.evals_result_["valid_0"][metric]
    return np.asarray(values, dtype=float)


def fit_fold(
    setup: Setup, family: str, cfg: Any, fit_rows: np.ndarray, held: np.ndarray, rounds: int,
    growth: Growth | None = None, seconds: float | None = None,
) -> FoldFit:  # fmt: skip
    """Fit one fold; a booster (rounds > 0) stops early on the held-out rows, or once the fold
    has run `seconds`; a forest with a `growth` grows as many trees as the trial's time
    allows."""
    pipeline = setup.pipeline(family, cfg)
    x_fit, y_fit = setup.features.iloc[fit_rows], setup.y[fit_rows]
    kw = {
        name.removeprefix("model__"): value[fit_rows] if isinstance(value, np.ndarray) else value
        for name, value in setup.fit_kw(family).items()
    }
    started = time.perf_counter()
    stops = family in STOPPING and rounds > 0
    if not stops and growth is None:
        pipeline.fit(x_fit, y_fit, **{f"model__{k}": v for k, v in kw.items()})
        return FoldFit(pipeline, held, len(fit_rows), time.perf_counter() - started)
    preprocess, model = pipeline.named_steps["preprocess"], pipeline.named_steps["model"]
    x_fit = preprocess.fit_transform(x_fit, y_fit)
    if not stops:
        grow(model, x_fit, y_fit, kw, growth, prepare=time.perf_counter() - started)
        return FoldFit(pipeline, held, len(fit_rows), time.perf_counter() - started)
    x_held, y_held = preprocess.transform(setup.features.iloc[held]), setup.y[held]
    if setup.log_target:
        y_held = np.log(y_held)  # the booster inside the wrapper learns log(target)
    metric = _LOSS[family][setup.problem]
    kw |= _stopping_kw(family, _estimator(model, fitted=False), metric, rounds)
    deadline = None if seconds is None else Deadline(started + seconds)
    if deadline is not None:
        deadline.attach(family, _estimator(model, fitted=False), kw)
    # Weighted classes: the held-out loss is weighted as the training loss is.
    weights = None if setup.weights is None else [setup.weights[held]]
    if family == "xgboost":
        kw |= {"eval_set": [(x_held, y_held)], "sample_weight_eval_set": weights}
    else:
        kw |= {"eval_X": x_held, "eval_y": y_held, "eval_sample_weight": weights}
    model.fit(x_fit, y_fit, **kw)
    curve = _curve(family, _estimator(model, fitted=True), metric)
    took = time.perf_counter() - started
    cut = deadline is not None and deadline.hit
    return FoldFit(pipeline, held, len(fit_rows), took, curve, encoded_held=x_held, cut=cut)


def fold_output(setup: Setup, fold: FoldFit, trees: int | None) -> np.ndarray:
    """The fold's answers for its held-out rows: class probabilities, or values; a booster
    answers with its first `trees` trees. Asked twice for the same trees (the pruner's
    running score, then the trial's), the fold answers once."""
    if fold.answered is None or fold.answered[0] != trees:
        fold.answered = trees, _answers(setup, fold, trees)
    return fold.answered[1]


def _answers(setup: Setup, fold: FoldFit, trees: int | None) -> np.ndarray:
    classify = setup.problem != "regression"
    if trees is None:
        rows = setup.features.iloc[fold.held]
        return fold.pipeline.predict_proba(rows) if classify else fold.pipeline.predict(rows)
    booster = _estimator(fold.pipeline.named_steps["model"], fitted=True)
    encoded = fold.encoded_held
    if type(booster).__module__.startswith("xgboost"):
        limit: dict[str, Any] = {"iteration_range": (0, trees)}
    else:
        limit = {"num_iteration": trees}
    if classify:
        return booster.predict_proba(encoded, **limit)
    values = booster.predict(encoded, **limit)
    return np.exp(values) if setup.log_target else values


def own_best_trees(fold: FoldFit) -> int | None:
    """The number of trees this fold alone would choose (None: not a booster)."""
    return None if fold.curve is None else int(np.argmin(fold.curve)) + 1
