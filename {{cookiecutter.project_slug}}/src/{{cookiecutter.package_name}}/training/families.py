"""Model families: each is one scikit-learn Pipeline, preprocessing and estimator together.

Each family has a builder (params -> estimator), a preprocessing suited to it, and an Optuna
search space. To add a family (any scikit-learn compatible estimator):

1. write `def _my_model(cfg, problem, seed)` returning the estimator, and add it to BUILDERS;
2. say how it wants its inputs, in `preprocessing.py`: add it to SCALED (numbers clipped to
   their training range and scaled, optionally with quantile bins; one-hot categories) or
   leave it with the trees (raw numbers, ordinal categories); NATIVE_NAN if it takes NaN;
3. add a search space to SPACES in `spaces.py` (or none: it is then cross-validated with its
   params as set);
4. give it a section under train.models in params.yaml and a matching model in config.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from xgboost import XGBClassifier, XGBRegressor

from .preprocessing import NATIVE_CATEGORIES, preprocessor

# One thread per model: cross-validation fits two folds at once (`crossval.py`), and the
# refits run two candidates at once (`trainer.py`).
BOOSTER_JOBS = 1
FOREST_JOBS = 1
# Newton steps solve a system of (encoded columns x classes) unknowns: fine for a few hundred,
# but on 32 classes of about 640 encoded columns (leaf_id_flavia) one fold ran for minutes on
# gigabytes. Past NEWTON_UNKNOWNS, estimated before fitting (a number gives itself, a missing
# flag and its bins; a category about LEVELS_GUESS one-hot columns), quasi-Newton steps.
NEWTON_UNKNOWNS = 2000
LEVELS_GUESS = 20


def _linear(cfg: Any, problem: str, seed: int) -> Any:
    if problem == "regression":
        return Ridge(alpha=cfg.alpha)
    # Newton steps converge in a handful of iterations where lbfgs needs dozens on one-hot
    # columns; the width stays moderate (rare levels grouped, quantile bins). Past
    # NEWTON_UNKNOWNS, build_pipeline turns to lbfgs.
    return LogisticRegression(C=cfg.C, solver="newton-cholesky", max_iter=1000)


def _forest(regressor: type, classifier: type) -> Callable[[Any, str, int], Any]:
    """A builder of scikit-learn forests: random forests (bootstrap rows, best splits) or
    extremely randomised trees (every row, each split point drawn at random for each column
    weighed, the best of those kept: smoother answers where numbers carry the signal, and
    several times cheaper to grow)."""

    def build(cfg: Any, problem: str, seed: int) -> Any:
        model = regressor if problem == "regression" else classifier
        return model(
            n_estimators=cfg.n_estimators,
            max_depth=cfg.max_depth,
            min_samples_leaf=cfg.min_samples_leaf,
            max_features=cfg.max_features,
            **({} if problem == "regression" else {"criterion": cfg.criterion}),
            n_jobs=FOREST_JOBS,
            random_state=seed,
        )

    return build


def _xgboost(cfg: Any, problem: str, seed: int) -> Any:
    model = XGBRegressor if problem == "regression" else XGBClassifier
    return model(
        n_estimators=cfg.n_estimators,
        learning_rate=cfg.learning_rate,
        max_depth=cfg.max_depth,
        subsample=cfg.subsample,
        colsample_bytree=cfg.colsample_bytree,
        min_child_weight=cfg.min_child_weight,
        reg_lambda=cfg.reg_lambda,
        tree_method="hist",
        n_jobs=BOOSTER_JOBS,
        random_state=seed,
    )


def _lightgbm(cfg: Any, problem: str, seed: int) -> Any:
    model = LGBMRegressor if problem == "regression" else LGBMClassifier
    return model(
        n_estimators=cfg.n_estimators,
        learning_rate=cfg.learning_rate,
        num_leaves=cfg.num_leaves,
        min_child_samples=cfg.min_child_samples,
        subsample=cfg.subsample,
        subsample_freq=1,
        colsample_bytree=cfg.colsample_bytree,
        reg_lambda=cfg.reg_lambda,
        n_jobs=BOOSTER_JOBS,
        random_state=seed,
        verbose=-1,
    )


BUILDERS: dict[str, Callable[[Any, str, int], Any]] = {
    "linear": _linear,
    "random_forest": _forest(RandomForestRegressor, RandomForestClassifier),
    "extra_trees": _forest(ExtraTreesRegressor, ExtraTreesClassifier),
    "xgboost": _xgboost,
    "lightgbm": _lightgbm,
}


def build_pipeline(
    family: str,
    cfg: Any,
    problem: str,
    numeric: list[str],
    categorical: list[str],
    seed: int,
    log_target: bool = False,
    text: list[str] | tuple[str, ...] = (),
    classes: int = 2,
) -> Pipeline:
    """An unfitted Pipeline(preprocess, model) for one family and its params.

    log_target: regression on log(target); predictions are mapped back with exp, so every
    metric stays on the target's own scale. text: the free-text columns among `categorical`.
    classes: how many the target has (classification).
    """
    model = BUILDERS[family](cfg, problem, seed)
    if isinstance(model, LogisticRegression):
        bins = cfg.n_bins if cfg.n_bins >= 2 else 0
        width = len(numeric) * (2 + bins) + LEVELS_GUESS * len(categorical)
        # Free text adds thousands of word columns (`words.LINEAR_WORDS`).
        if text or width * (classes if classes > 2 else 1) > NEWTON_UNKNOWNS:
            model.set_params(solver="lbfgs")
    if log_target:
        model = TransformedTargetRegressor(
            regressor=model, func=np.log, inverse_func=np.exp, check_inverse=False
        )
    preprocess = preprocessor(family, numeric, categorical, getattr(cfg, "n_bins", 0), text)
    return Pipeline([("preprocess", preprocess), ("model", model)])


def bounded_forest(pipeline: Pipeline, tuned_rows: int, rows: int) -> Pipeline:
    """A forest refitted on more rows than it was tuned on draws each tree from as many rows
    as in tuning (max_samples): the same tree sizes, so a million-row table does not grow
    trees of a million leaves (gigabytes of model) that the search never measured. Extra
    trees, which grow on every row, then draw as many rows (with replacement) too."""
    if rows > tuned_rows:
        for name in pipeline.get_params():
            if name.endswith("max_samples"):
                bootstrap = name.removesuffix("max_samples") + "bootstrap"
                pipeline.set_params(**{name: tuned_rows, bootstrap: True})
    return pipeline


def fit_params(
    family: str,
    numeric: list[str],
    categorical: list[str],
    sample_weight: np.ndarray | None = None,
) -> dict[str, Any]:
    """Keyword arguments for Pipeline.fit: class weights, and LightGBM's categorical columns."""
    params: dict[str, Any] = {}
    if sample_weight is not None:
        params["model__sample_weight"] = sample_weight
    if family in NATIVE_CATEGORIES and categorical:
        # The preprocessor puts numbers first, then one ordinal code per categorical column.
        start = len(numeric)
        params["model__categorical_feature"] = list(range(start, start + len(categorical)))
    return params
