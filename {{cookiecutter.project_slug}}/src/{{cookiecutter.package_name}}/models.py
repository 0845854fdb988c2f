"""Model families: each is one scikit-learn Pipeline, preprocessing and estimator together.

Each family has a builder (params -> estimator), a preprocessing suited to it, and an Optuna
search space. To add a family (any scikit-learn compatible estimator):

1. write `def _my_model(cfg, problem, seed)` returning the estimator, and add it to BUILDERS;
2. say how it wants its inputs: add it to SCALED (numbers clipped to their training range and
   scaled, optionally with quantile bins; one-hot categories) or leave it with the trees (raw
   numbers, ordinal categories); NATIVE_NAN if it takes NaN;
3. add a search space to SPACES (or none: it is then cross-validated with its params as set);
4. give it a section under train.models in params.yaml and a matching model in config.py.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import (
    KBinsDiscretizer,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)
from xgboost import XGBClassifier, XGBRegressor

from .schema import MISSING_TEXT

FAST_TREES = 40  # train.fast: enough trees to be a real model, few enough for CI
MISSING_LEVEL = "(missing)"
# Threads per model. The boosters run single-threaded: on a small table their OpenMP threads
# gain little and stall badly when another process holds a core. The forest's trees are
# independent, so it uses both cores of a small machine.
BOOSTER_JOBS = 1
FOREST_JOBS = 2
# Quantile bins of a column with few distinct values (counts, 0/1 flags) or a spike at zero
# collapse; scikit-learn drops the empty ones and says so on every fit, which is expected.
warnings.filterwarnings("ignore", message="Bins whose width are too small", category=UserWarning)


def _linear(cfg: Any, problem: str, seed: int) -> Any:
    if problem == "regression":
        return Ridge(alpha=cfg.alpha)
    # Newton steps converge in a handful of iterations where lbfgs needs dozens on one-hot
    # columns; the width stays moderate (rare levels grouped, quantile bins).
    return LogisticRegression(C=cfg.C, solver="newton-cholesky", max_iter=1000)


def _random_forest(cfg: Any, problem: str, seed: int) -> Any:
    model = RandomForestRegressor if problem == "regression" else RandomForestClassifier
    return model(
        n_estimators=cfg.n_estimators,
        max_depth=cfg.max_depth,
        min_samples_leaf=cfg.min_samples_leaf,
        max_features=cfg.max_features,
        n_jobs=FOREST_JOBS,
        random_state=seed,
    )


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
    "random_forest": _random_forest,
    "xgboost": _xgboost,
    "lightgbm": _lightgbm,
}
SCALED = {"linear"}  # scaled numbers and one-hot categories; trees get neither
NATIVE_NAN = {"xgboost", "lightgbm"}  # learn where missing values go; no imputation
NATIVE_CATEGORIES = {"lightgbm"}  # splits on category codes directly


def _space_linear(trial: Any, problem: str) -> dict[str, Any]:
    bins = {"n_bins": trial.suggest_int("n_bins", 0, 16)}  # 0 and 1: no bins
    if problem == "regression":
        return bins | {"alpha": trial.suggest_float("alpha", 1e-2, 1e3, log=True)}
    return bins | {"C": trial.suggest_float("C", 1e-3, 10.0, log=True)}


def _space_random_forest(trial: Any, problem: str) -> dict[str, Any]:
    return {
        "max_depth": trial.suggest_categorical("max_depth", [None, 8, 12, 16]),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 20, log=True),
        "max_features": trial.suggest_float("max_features", 0.15, 0.8),
    }


def _space_boosting(trial: Any, problem: str) -> dict[str, Any]:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 100, 600, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.15, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 30.0, log=True),
    }


def _space_xgboost(trial: Any, problem: str) -> dict[str, Any]:
    return _space_boosting(trial, problem) | {
        "max_depth": trial.suggest_int("max_depth", 2, 6),
        "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 30.0, log=True),
    }


def _space_lightgbm(trial: Any, problem: str) -> dict[str, Any]:
    return _space_boosting(trial, problem) | {
        "num_leaves": trial.suggest_int("num_leaves", 4, 64, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 5, 100, log=True),
    }


SPACES: dict[str, Callable[[Any, str], dict[str, Any]]] = {
    "linear": _space_linear,
    "random_forest": _space_random_forest,
    "xgboost": _space_xgboost,
    "lightgbm": _space_lightgbm,
}


def _scaled_numbers(n_bins: int) -> Any:
    """Numbers for a linear model: imputed (with missing-value flags) and standardised, clipped
    to the range seen in training, so that one extreme row cannot get an extrapolated answer;
    with n_bins, also one-hot quantile bins of each column, so the model can bend with them
    (a U-shaped or saturating effect) instead of fitting one slope."""
    scaled = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True),
        MinMaxScaler(clip=True),  # identity on training rows; caps new ones at their range
        StandardScaler(),
    )
    if n_bins < 2:
        return scaled
    bins = make_pipeline(
        SimpleImputer(strategy="median"),
        KBinsDiscretizer(n_bins, encode="onehot-dense", strategy="quantile"),
    )
    return FeatureUnion([("scaled", scaled), ("bins", bins)])


def _preprocessor(
    family: str, numeric: list[str], categorical: list[str], n_bins: int = 0
) -> ColumnTransformer:
    fill_text = SimpleImputer(
        missing_values=MISSING_TEXT, strategy="constant", fill_value=MISSING_LEVEL
    )
    if family in SCALED:
        numbers = _scaled_numbers(n_bins)
        # Levels seen in under 1% of rows are grouped, so rare levels do not overfit.
        text = make_pipeline(
            fill_text,
            OneHotEncoder(
                handle_unknown="infrequent_if_exist", min_frequency=0.01, max_categories=50
            ),
        )
    else:
        numbers = "passthrough" if family in NATIVE_NAN else SimpleImputer(strategy="median")
        text = make_pipeline(
            fill_text,
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float32),
        )
    return ColumnTransformer(
        [("numeric", numbers, numeric), ("categorical", text, categorical)],
        remainder="drop",
        verbose_feature_names_out=False,
    )


def build_pipeline(
    family: str,
    cfg: Any,
    problem: str,
    numeric: list[str],
    categorical: list[str],
    seed: int,
    fast: bool = False,
    log_target: bool = False,
) -> Pipeline:
    """An unfitted Pipeline(preprocess, model) for one family and its params.

    log_target: regression on log(target); predictions are mapped back with exp, so every
    metric stays on the target's own scale.
    """
    if fast and hasattr(cfg, "n_estimators"):
        cfg = cfg.model_copy(update={"n_estimators": min(cfg.n_estimators, FAST_TREES)})
    model = BUILDERS[family](cfg, problem, seed)
    if log_target:
        model = TransformedTargetRegressor(
            regressor=model, func=np.log, inverse_func=np.exp, check_inverse=False
        )
    preprocess = _preprocessor(family, numeric, categorical, getattr(cfg, "n_bins", 0))
    return Pipeline([("preprocess", preprocess), ("model", model)])


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
