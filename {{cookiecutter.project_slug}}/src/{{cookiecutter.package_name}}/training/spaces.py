"""Optuna search spaces, one per model family.

The boosters' number of trees is not searched: early stopping picks it in each trial
(`training/folds.py`), so a trial spends its time on the params that matter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _space_linear(trial: Any, problem: str) -> dict[str, Any]:
    bins = {"n_bins": trial.suggest_int("n_bins", 0, 16)}  # 0 and 1: no bins
    if problem == "regression":
        return bins | {"alpha": trial.suggest_float("alpha", 1e-2, 1e3, log=True)}
    return bins | {"C": trial.suggest_float("C", 1e-3, 10.0, log=True)}


def _space_random_forest(trial: Any, problem: str) -> dict[str, Any]:
    space = {
        "max_depth": trial.suggest_categorical("max_depth", [None, 8, 12, 16]),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 30, log=True),
        "max_features": trial.suggest_float("max_features", 0.1, 1.0),
    }
    if problem == "regression":  # squared error, the one criterion fast enough here
        return space
    return space | {"criterion": trial.suggest_categorical("criterion", ["gini", "entropy"])}


def _space_boosting(trial: Any, problem: str) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 30.0, log=True),
    }


def _space_xgboost(trial: Any, problem: str) -> dict[str, Any]:
    return _space_boosting(trial, problem) | {
        "max_depth": trial.suggest_int("max_depth", 2, 10),
        "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 30.0, log=True),
    }


def _space_lightgbm(trial: Any, problem: str) -> dict[str, Any]:
    return _space_boosting(trial, problem) | {
        "num_leaves": trial.suggest_int("num_leaves", 4, 256, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 2, 100, log=True),
    }


SPACES: dict[str, Callable[[Any, str], dict[str, Any]]] = {
    "linear": _space_linear,
    "random_forest": _space_random_forest,
    "extra_trees": _space_random_forest,  # the same knobs; its own study
    "xgboost": _space_xgboost,
    "lightgbm": _space_lightgbm,
}
