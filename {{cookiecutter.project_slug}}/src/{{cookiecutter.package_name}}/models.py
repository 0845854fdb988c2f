"""Model families: each is one scikit-learn Pipeline, preprocessing and estimator together.

To add a family, write a builder `def _my_model(cfg, problem, seed) -> estimator` below,
register it in BUILDERS, say which encoding it wants in SCALED/NATIVE_NAN, and give it a
section under train.models in params.yaml (with a matching model in config.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from xgboost import XGBClassifier, XGBRegressor

from .schema import MISSING_TEXT

FAST_TREES = 40  # train.fast: enough trees to be a real model, few enough for CI
MISSING_LEVEL = "(missing)"
N_JOBS = 2


def _linear(cfg: Any, problem: str, seed: int) -> Any:
    if problem == "regression":
        return Ridge(alpha=cfg.alpha)
    return LogisticRegression(C=cfg.C, max_iter=2000)


def _random_forest(cfg: Any, problem: str, seed: int) -> Any:
    model = RandomForestRegressor if problem == "regression" else RandomForestClassifier
    return model(
        n_estimators=cfg.n_estimators,
        max_depth=cfg.max_depth,
        min_samples_leaf=cfg.min_samples_leaf,
        max_features=cfg.max_features,
        n_jobs=N_JOBS,
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
        tree_method="hist",
        n_jobs=N_JOBS,
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
        n_jobs=N_JOBS,
        random_state=seed,
        verbose=-1,
    )


BUILDERS = {
    "linear": _linear,
    "random_forest": _random_forest,
    "xgboost": _xgboost,
    "lightgbm": _lightgbm,
}
SCALED = {"linear"}  # scaled numbers and one-hot categories; trees get neither
NATIVE_NAN = {"xgboost", "lightgbm"}  # learn where missing values go; no imputation


def _preprocessor(family: str, numeric: list[str], categorical: list[str]) -> ColumnTransformer:
    fill_text = SimpleImputer(
        missing_values=MISSING_TEXT, strategy="constant", fill_value=MISSING_LEVEL
    )
    if family in SCALED:
        numbers = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
        )
        # Levels seen in under 1% of rows are grouped, so rare levels do not overfit.
        text = make_pipeline(
            fill_text, OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=0.01)
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
) -> Pipeline:
    """An unfitted Pipeline(preprocess, model) for one family and its params."""
    if fast and hasattr(cfg, "n_estimators"):
        cfg = cfg.model_copy(update={"n_estimators": min(cfg.n_estimators, FAST_TREES)})
    return Pipeline(
        [
            ("preprocess", _preprocessor(family, numeric, categorical)),
            ("model", BUILDERS[family](cfg, problem, seed)),
        ]
    )
