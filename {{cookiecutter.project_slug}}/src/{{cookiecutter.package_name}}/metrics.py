"""Metrics by problem type: the names used in CV, in reports/metrics.json and in MLflow."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

PRIMARY = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
LOWER_IS_BETTER = {"log_loss", "rmse", "mae"}

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


def better(metric: str, a: float, b: float) -> bool:
    """True when score a beats score b."""
    return a < b if metric in LOWER_IS_BETTER else a > b


def classification_metrics(
    problem: str, y_true: np.ndarray, proba: np.ndarray, y_pred: np.ndarray
) -> dict[str, float]:
    """Held-out metrics from encoded labels (0..k-1) and class probabilities."""
    labels = np.arange(proba.shape[1])
    result = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "log_loss": skm.log_loss(y_true, proba, labels=labels),
    }
    if problem == "binary":
        result |= {
            "roc_auc": skm.roc_auc_score(y_true, proba[:, 1]),
            "pr_auc": skm.average_precision_score(y_true, proba[:, 1]),
            "precision": skm.precision_score(y_true, y_pred, zero_division=0),
            "recall": skm.recall_score(y_true, y_pred, zero_division=0),
            "f1": skm.f1_score(y_true, y_pred, zero_division=0),
        }
    else:
        result["f1_macro"] = skm.f1_score(y_true, y_pred, average="macro", zero_division=0)
    return {name: float(value) for name, value in result.items()}


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    return {
        "rmse": float(skm.root_mean_squared_error(y_true, y_pred)),
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        "r2": float(skm.r2_score(y_true, y_pred)),
    }
