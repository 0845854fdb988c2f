"""Cross-validation on the training split (the honest model comparison), class weights,
out-of-fold probabilities and the decision threshold chosen on them."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import (
    cross_validate,
)
from sklearn.utils.class_weight import compute_sample_weight

from ..evaluation.metrics import cv_scorers, from_cv_score
from .task import Setup

log = logging.getLogger(__name__)


def class_weights(y: np.ndarray, setting: str) -> np.ndarray | None:
    """Balanced sample weights when asked, or (auto) when the rarest class is under 20%."""
    shares = np.bincount(y) / len(y)
    if setting == "balanced" or (setting == "auto" and shares.min() < 0.2):
        return compute_sample_weight("balanced", y)
    return None


def sliced(kw: dict[str, Any], rows: np.ndarray) -> dict[str, Any]:
    return {k: (v[rows] if isinstance(v, np.ndarray) else v) for k, v in kw.items()}


def cross_validated(setup: Setup, family: str, cfg: Any) -> dict[str, Any]:
    """Mean and std of every metric over the folds, with fit and prediction times."""
    scorers = cv_scorers(setup.problem)
    scores = cross_validate(
        setup.pipeline(family, cfg), setup.features, setup.y, groups=setup.groups,
        cv=setup.cv, scoring=scorers, params=setup.fit_kw(family), error_score="raise",
    )  # fmt: skip
    summary = {}
    for name in scorers:
        values = np.array([from_cv_score(name, s) for s in scores[f"test_{name}"]])
        summary[name] = (float(values.mean()), float(values.std()))
    rows_scored = len(setup.y) / setup.cv.get_n_splits()
    return {
        "cv": summary,
        "fit_seconds": float(scores["fit_time"].mean()),
        "predict_ms_per_row": float(scores["score_time"].mean() / rows_scored * 1000),
    }


def out_of_fold_proba(setup: Setup, family: str, cfg: Any) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities for the training rows from models that did not see them."""
    kw = setup.fit_kw(family)
    proba, seen = None, np.zeros(len(setup.y), dtype=bool)
    for fit_rows, held_rows in setup.folds():
        model = clone(setup.pipeline(family, cfg))
        model.fit(setup.features.iloc[fit_rows], setup.y[fit_rows], **sliced(kw, fit_rows))
        fold = model.predict_proba(setup.features.iloc[held_rows])
        if proba is None:
            proba = np.zeros((len(setup.y), fold.shape[1]))
        proba[held_rows], seen[held_rows] = fold, True
    return proba[seen], setup.y[seen]


def best_threshold(proba_positive: np.ndarray, y: np.ndarray) -> float:
    """The probability cut-off with the highest F1 for the positive class."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y, proba_positive)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1[:-1]))])
