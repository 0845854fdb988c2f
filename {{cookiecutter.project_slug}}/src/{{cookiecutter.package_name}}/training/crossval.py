"""Cross-validation of one configuration on the shared folds (the honest comparison of every
candidate), two folds at a time; class weights; the decision threshold.

The folds run in two threads, each model on one thread: the boosters' own threads gain
little on a small table and stall when another process holds a core, while two folds at once
keep both cores busy with whole fits (preprocessing included), and each fold's answer is the
same from run to run. Folds are read back in order, so a search that stops a trial early
decides on the same scores every time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor, wait
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.utils.class_weight import compute_sample_weight

from ..evaluation.metrics import cv_scorers, score
from .folds import STOPPING, FoldFit, fit_fold, fold_output, own_best_trees
from .growth import FORESTS, Growth
from .task import Setup

log = logging.getLogger(__name__)
Report = Callable[[int, float], None]  # (fold number, mean primary score so far); may raise


@dataclass
class OutOfFold:
    """Answers for training rows from models that did not see them (kept for blending)."""

    rows: np.ndarray  # positions in the tuning rows
    output: np.ndarray  # class probabilities, or values
    fold: np.ndarray  # each row's fold number


@dataclass
class CvResult:
    cv: dict[str, tuple[float, float]]  # metric -> (mean, std) over the folds
    oof: OutOfFold
    trees: int | None  # boosters: the number of trees the folds chose; forests: grew
    fit_rows: float  # mean rows a fold model learned from
    fit_seconds: float  # mean per fold
    predict_ms_per_row: float


def class_weights(y: np.ndarray, setting: str) -> np.ndarray | None:
    """Balanced sample weights when asked, or (auto) when the rarest class is under 20%."""
    shares = np.bincount(y) / len(y)
    if setting == "balanced" or (setting == "auto" and shares.min() < 0.2):
        return compute_sample_weight("balanced", y)
    return None


def fold_scores(setup: Setup, y: np.ndarray, output: np.ndarray) -> dict[str, float]:
    """Every CV metric of one fold's answers (classes: the most probable one)."""
    predicted = output.argmax(axis=1) if output.ndim == 2 else None
    names = cv_scorers(setup.problem)
    return {name: score(setup.problem, name, y, output, predicted) for name in names}


def summary(per_fold: list[dict[str, float]]) -> dict[str, tuple[float, float]]:
    """Each metric's (mean, std) over the folds' scores."""
    return {
        name: (float(np.mean(values)), float(np.std(values)))
        for name in per_fold[0]
        for values in [[scores[name] for scores in per_fold]]
    }


def primary_score(setup: Setup, y: np.ndarray, output: np.ndarray) -> float:
    """The primary metric alone: the pruner's running mean after each fold."""
    predicted = output.argmax(axis=1) if output.ndim == 2 else None
    return score(setup.problem, setup.metric, y, output, predicted)


def chosen_trees(fits: list[FoldFit]) -> int | None:
    """One number of trees for every fold: the best mean held-out loss over the folds, as
    the boosters' own cross-validation chooses it (None: not a booster)."""
    if any(fit.curve is None for fit in fits):
        return None
    length = min(len(fit.curve) for fit in fits)
    mean = np.mean([fit.curve[:length] for fit in fits], axis=0)
    return int(np.argmin(mean)) + 1


def _fitted(futures: list, setup: Setup, report: Report | None) -> list[FoldFit]:
    """The fold fits in fold order; `report` hears the running mean after each."""
    fits: list[FoldFit] = []
    seen: list[float] = []
    try:
        for step, future in enumerate(futures):
            fits.append(future.result())
            if report is not None:
                fit = fits[-1]
                output = fold_output(setup, fit, own_best_trees(fit))
                seen.append(primary_score(setup, setup.y[fit.held], output))
                report(step, float(np.mean(seen)))
    except BaseException:
        for future in futures:
            future.cancel()
        wait(futures)  # a fold already running finishes before the next trial starts
        raise
    return fits


def cross_validate(
    setup: Setup, family: str, cfg: Any, pool: Executor, report: Report | None = None,
    fold_seconds: float | None = None,
) -> CvResult:  # fmt: skip
    """Every metric over the shared folds, and the out-of-fold answers. `fold_seconds`: what
    one fold of a forest or a booster may take (`growth.py`); None: no limit (a forest grows
    its configured trees, a booster until early stopping)."""
    rounds = setup.cfg.early_stopping_rounds if family in STOPPING else 0
    folds = setup.folds()
    growth = None
    if family in FORESTS and fold_seconds is not None:
        growth = Growth(fold_seconds)
    limit = fold_seconds if family in STOPPING else None
    futures = [
        pool.submit(fit_fold, setup, family, cfg, f, h, rounds, growth, limit) for f, h in folds
    ]
    fits = _fitted(futures, setup, report)
    trees = chosen_trees(fits)
    if growth is not None and growth.trees < cfg.n_estimators:
        log.info("%s: %d trees a fold (of %d) fit the trial's %.1f s a fold", family,
                 growth.trees, cfg.n_estimators, fold_seconds)  # fmt: skip
    if any(fit.cut for fit in fits):
        log.info("%s: %d trees, folds stopped at the trial's %.1f s a fold", family, trees,
                 fold_seconds)  # fmt: skip
    outputs = [fold_output(setup, fit, trees) for fit in fits]
    pairs = zip(fits, outputs, strict=True)
    per_fold = [fold_scores(setup, setup.y[fit.held], output) for fit, output in pairs]
    rows = np.concatenate([fit.held for fit in fits])
    fold = np.concatenate([np.full(len(fit.held), i) for i, fit in enumerate(fits)])
    return CvResult(
        cv=summary(per_fold),
        oof=OutOfFold(rows, np.concatenate(outputs), fold),
        trees=growth.trees if growth is not None else trees,
        fit_rows=float(np.mean([fit.fit_rows for fit in fits])),
        fit_seconds=float(np.mean([fit.fit_seconds for fit in fits])),
        predict_ms_per_row=_predict_ms_per_row(setup, fits[0]),
    )


def _predict_ms_per_row(setup: Setup, fit: FoldFit) -> float:
    """The whole pipeline's answer time on one fold's held-out rows, raw rows in."""
    rows = setup.features.iloc[fit.held]
    started = time.perf_counter()
    fit.pipeline.predict(rows)
    return (time.perf_counter() - started) / len(rows) * 1000


def best_threshold(proba_positive: np.ndarray, y: np.ndarray) -> float:
    """The probability cut-off with the highest F1 for the positive class."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y, proba_positive)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1[:-1]))])
