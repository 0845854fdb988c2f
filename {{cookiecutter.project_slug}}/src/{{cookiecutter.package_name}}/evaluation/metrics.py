"""Metrics by problem type: the names used in CV, in reports/metrics.json and in MLflow.

Classification metrics take encoded labels (0..k-1, the binary positive class as 1) and class
probabilities; regression metrics take values. Curves and intervals for the evaluation report
are here too, so every number in the report comes from one place.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn import metrics as skm

from .direction import LOWER_IS_BETTER
from .direction import better as better  # re-exported: training/leaderboard.py reads it here

PRIMARY = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
# Shown first in the report, each with a bootstrap interval.
HEADLINE = {
    "binary": ["roc_auc", "pr_auc", "f1"],
    "multiclass": ["log_loss", "accuracy", "f1_macro"],
    "regression": ["rmse", "mae", "r2"],
}
LABELS = {
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
    "f1_macro": "F1 (macro)",
    "f1_weighted": "F1 (weighted)",
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "log_loss": "Log loss",
    "brier": "Brier score",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
    "mape": "MAPE",
    "rmse_log": "RMSE (log scale)",
    "mae_log": "MAE (log scale)",
    "r2_log": "R² (log scale)",
}

# Our metric name -> scikit-learn scorer, for cross-validation on the training split.
_SCORERS = {
    "binary": {
        "roc_auc": "roc_auc",
        "pr_auc": "average_precision",
        "log_loss": "neg_log_loss",
        "accuracy": "accuracy",
        "f1": "f1",
    },
    "multiclass": {
        "log_loss": "neg_log_loss",
        "accuracy": "accuracy",
        "f1_macro": "f1_macro",
        "roc_auc": "roc_auc_ovr",
    },
    "regression": {
        "rmse": "neg_root_mean_squared_error",
        "mae": "neg_mean_absolute_error",
        "r2": "r2",
    },
}

Labels = np.ndarray  # encoded true labels, or true values for regression
Score = Callable[[Labels, np.ndarray, np.ndarray], float]  # (y_true, proba, y_pred) -> value


def _roc_auc(y: Labels, proba: np.ndarray, _: np.ndarray) -> float:
    if proba.shape[1] == 2:
        return skm.roc_auc_score(y, proba[:, 1])
    return skm.roc_auc_score(y, proba, multi_class="ovr", labels=np.arange(proba.shape[1]))


def _log_loss(y: Labels, proba: np.ndarray, _: np.ndarray) -> float:
    """Log loss, each row of probabilities rescaled to sum to 1 in float64: models answer in
    float32 (XGBoost, LightGBM, the ONNX graph), whose rows sum to 1 within about 1e-7 only,
    which scikit-learn's float64 check calls not probabilities (a warning a score each)."""
    proba = np.asarray(proba, dtype=np.float64)
    proba = proba / proba.sum(axis=1, keepdims=True)
    return skm.log_loss(y, proba, labels=np.arange(proba.shape[1]))


_CLASSIFICATION: dict[str, Score] = {
    "accuracy": lambda y, p, yhat: skm.accuracy_score(y, yhat),
    "balanced_accuracy": lambda y, p, yhat: skm.balanced_accuracy_score(y, yhat),
    "precision": lambda y, p, yhat: skm.precision_score(y, yhat, zero_division=0),
    "recall": lambda y, p, yhat: skm.recall_score(y, yhat, zero_division=0),
    "f1": lambda y, p, yhat: skm.f1_score(y, yhat, zero_division=0),
    "f1_macro": lambda y, p, yhat: skm.f1_score(y, yhat, average="macro", zero_division=0),
    "f1_weighted": lambda y, p, yhat: skm.f1_score(y, yhat, average="weighted", zero_division=0),
    "roc_auc": _roc_auc,
    "pr_auc": lambda y, p, yhat: skm.average_precision_score(y, p[:, 1]),
    "log_loss": _log_loss,
    "brier": lambda y, p, yhat: skm.brier_score_loss(y, p[:, 1]),
}
_REGRESSION: dict[str, Callable[[Labels, np.ndarray], float]] = {
    "rmse": skm.root_mean_squared_error,
    "mae": skm.mean_absolute_error,
    "r2": skm.r2_score,
    # A relative error is undefined where the true value is zero.
    "mape": lambda y, p: skm.mean_absolute_percentage_error(y, p) if np.all(y != 0) else np.nan,
}
_REPORTED = {
    "binary": [
        *("accuracy", "balanced_accuracy", "precision", "recall", "f1"),
        *("roc_auc", "pr_auc", "log_loss", "brier"),
    ],
    "multiclass": [
        "accuracy",
        "balanced_accuracy",
        "f1_macro",
        "f1_weighted",
        "roc_auc",
        "log_loss",
    ],
    "regression": ["rmse", "mae", "r2", "mape"],
}


def cv_scorers(problem: str) -> dict[str, str]:
    return dict(_SCORERS[problem])


def primary_metric(problem: str, chosen: str | None) -> str:
    """The metric that picks the champion; a choice that does not fit the problem fails."""
    metric = chosen or PRIMARY[problem]
    if metric not in _SCORERS[problem]:
        allowed = ", ".join(_SCORERS[problem])
        raise ValueError(
            f"train.primary_metric: {metric!r} does not apply to {problem} problems "
            f"(choose one of {allowed})"
        )
    return metric


def from_cv_score(metric: str, score: float) -> float:
    """scikit-learn negates losses so that greater is better; undo it for reporting."""
    return -score if metric in LOWER_IS_BETTER else score


def score(
    problem: str, name: str, y_true: Labels, output: np.ndarray, y_pred: np.ndarray | None = None
) -> float:
    """One metric; NaN where it is undefined (a single class in a resample, a zero for MAPE)."""
    try:
        if problem == "regression":
            return float(_REGRESSION[name](y_true, output))
        return float(_CLASSIFICATION[name](y_true, output, y_pred))
    except ValueError:
        return float("nan")


def _defined(values: dict[str, float]) -> dict[str, float]:
    return {name: value for name, value in values.items() if np.isfinite(value)}


def classification_metrics(
    problem: str, y_true: np.ndarray, proba: np.ndarray, y_pred: np.ndarray
) -> dict[str, float]:
    """Held-out metrics from encoded labels (0..k-1) and class probabilities."""
    return _defined({m: score(problem, m, y_true, proba, y_pred) for m in _REPORTED[problem]})


def regression_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, log_scale: bool = False
) -> dict[str, float]:
    """Held-out metrics; with log_scale (a model fitted on log(target)) also on that scale."""
    result = {m: score("regression", m, y_true, y_pred) for m in _REPORTED["regression"]}
    if log_scale and np.all(y_true > 0) and np.all(y_pred > 0):
        log_true, log_pred = np.log(y_true), np.log(y_pred)
        for name in ("rmse", "mae", "r2"):
            result[f"{name}_log"] = score("regression", name, log_true, log_pred)
    return _defined(result)


def per_class_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, classes: list
) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support of each class, keyed by the class label as text."""
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=np.arange(len(classes)), zero_division=0
    )
    return {
        str(label): {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(classes)
    }
