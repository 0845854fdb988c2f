"""Curves for the report: the naive baseline, ROC and
precision-recall points, calibration bins and the threshold sweep."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize


def baseline_output(
    problem: str, y_train: np.ndarray, n_rows: int, n_classes: int = 0
) -> tuple[np.ndarray, np.ndarray | None]:
    """The naive model: training class shares (predicting the majority class), or the mean."""
    if problem == "regression":
        return np.full(n_rows, float(np.mean(y_train))), None
    shares = np.bincount(y_train, minlength=n_classes) / len(y_train)
    proba = np.tile(shares, (n_rows, 1))
    return proba, np.full(n_rows, int(np.argmax(shares)))


def curve_points(kind: str, y_true: np.ndarray, proba: np.ndarray) -> dict[str, np.ndarray]:
    """ROC ("roc": fpr, tpr) or precision-recall ("pr": recall, precision) points.

    Binary: the positive class. Multiclass: one-vs-rest, micro-averaged over the classes.
    "truth" (0/1) and "scores" are the labels and scores the curve is drawn from."""
    if proba.shape[1] == 2:
        truth, scores = y_true, proba[:, 1]
    else:
        truth = label_binarize(y_true, classes=np.arange(proba.shape[1])).ravel()
        scores = proba.ravel()
    given = {"truth": truth, "scores": scores}
    if kind == "roc":
        fpr, tpr, _ = skm.roc_curve(truth, scores)
        return given | {"fpr": fpr, "tpr": tpr, "area": skm.auc(fpr, tpr)}
    precision, recall, _ = skm.precision_recall_curve(truth, scores)
    area = skm.average_precision_score(truth, scores)
    return given | {
        "recall": recall,
        "precision": precision,
        "area": area,
        "prevalence": truth.mean(),
    }


def calibration_points(y_true: np.ndarray, proba: np.ndarray, bins: int = 10) -> dict:
    """Observed frequency against predicted probability, in quantile bins.

    Binary: the positive class. Multiclass: the predicted class (its confidence against how
    often it is right). `ece` is the expected calibration error: the row-weighted mean gap;
    `hits` (0/1) and `confidence` are the rows the bins are made of."""
    if proba.shape[1] == 2:
        hits, confidence = y_true, proba[:, 1]
    else:
        hits, confidence = (proba.argmax(axis=1) == y_true).astype(int), proba.max(axis=1)
    edges = np.quantile(confidence, np.linspace(0, 1, bins + 1))
    ids = np.searchsorted(edges[1:-1], confidence)
    counts = np.bincount(ids, minlength=bins)
    kept = counts > 0
    predicted = np.bincount(ids, weights=confidence, minlength=bins)[kept] / counts[kept]
    observed = np.bincount(ids, weights=hits, minlength=bins)[kept] / counts[kept]
    ece = float(np.sum(np.abs(observed - predicted) * counts[kept]) / counts.sum())
    return {
        "predicted": predicted,
        "observed": observed,
        "ece": ece,
        "hits": hits,
        "confidence": confidence,
    }


def threshold_sweep(y_true: np.ndarray, positive_proba: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and F1 of the positive class at each decision threshold."""
    precision, recall, thresholds = skm.precision_recall_curve(y_true, positive_proba)
    precision, recall = precision[:-1], recall[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {"threshold": thresholds, "precision": precision, "recall": recall, "f1": f1}
