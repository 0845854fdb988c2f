"""Bootstrap intervals of the headline metrics, all resamples at once.

A resample of n rows is a row of counts (how often each row was drawn: a multinomial draw).
Every metric the report puts an interval on is a weighted sum over the rows, or, for the
ranking metrics (ROC AUC and average precision of a binary model), weighted sums over the
rows in one score order that all resamples share. So a thousand resamples are a few matrix
products instead of a thousand calls to scikit-learn, and they give scikit-learn's values:
tests/test_evaluate.py compares the two on every metric here. A metric without a weighted
form here falls back to one scikit-learn call per resample."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

BLOCK_CELLS = 2_000_000  # resamples x rows held at once (16 MB a copy)

# (counts of shape resamples x rows, truth, output, decisions) -> one value per resample
Weighted = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None], np.ndarray]


def resample_counts(n_rows: int, rounds: int, seed: int) -> Iterator[np.ndarray]:
    """How often each row appears in each of `rounds` bootstrap resamples of n_rows rows,
    in blocks of resamples small enough to keep memory flat on a large split."""
    rng = np.random.default_rng(seed)
    per_block = max(1, BLOCK_CELLS // n_rows)
    for start in range(0, rounds, per_block):
        size = min(per_block, rounds - start)
        yield rng.multinomial(n_rows, np.full(n_rows, 1.0 / n_rows), size=size).astype(float)


def percentile_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float] | None:
    """The percentile interval of the finite values; None when fewer than half are defined."""
    finite = values[np.isfinite(values)]
    if len(finite) < max(len(values) // 2, 1):
        return None
    tail = (1 - level) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return float(low), float(high)


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)


def _f1_counts(w: np.ndarray, truth: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """F1 of one class per resample (0 where it has no true and no predicted rows)."""
    tp = w @ (truth & guess).astype(float)
    wrong = w @ (truth ^ guess).astype(float)
    return np.nan_to_num(_ratio(2 * tp, 2 * tp + wrong), nan=0.0)


def _ranked(w: np.ndarray, y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, ...]:
    """Weighted positives and negatives per distinct score, highest score first."""
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    positive = (y[order] == 1).astype(np.float64)
    pos = np.add.reduceat(w[:, order] * positive, starts, axis=1)
    neg = np.add.reduceat(w[:, order] * (1.0 - positive), starts, axis=1)
    return pos, neg


def _roc_auc(w: np.ndarray, y: np.ndarray, proba: np.ndarray, _: object) -> np.ndarray:
    pos, neg = _ranked(w, y, proba[:, 1])
    above = np.cumsum(pos, axis=1) - pos  # positives scored above each group
    area = (neg * (above + pos / 2)).sum(axis=1)
    return _ratio(area, pos.sum(axis=1) * neg.sum(axis=1))


def _average_precision(w: np.ndarray, y: np.ndarray, proba: np.ndarray, _: object) -> np.ndarray:
    pos, neg = _ranked(w, y, proba[:, 1])
    tps = np.cumsum(pos, axis=1)
    precision = _ratio(tps, tps + np.cumsum(neg, axis=1))
    return _ratio((pos * np.nan_to_num(precision)).sum(axis=1), tps[:, -1])


def _log_loss(w: np.ndarray, y: np.ndarray, proba: np.ndarray, _: object) -> np.ndarray:
    eps = np.finfo(proba.dtype).eps
    picked = np.clip(proba[np.arange(len(y)), y], eps, 1 - eps)
    return (w @ -np.log(picked)) / w.sum(axis=1)


def _accuracy(w: np.ndarray, y: np.ndarray, _: np.ndarray, y_pred: np.ndarray | None) -> np.ndarray:
    return (w @ (y == y_pred).astype(float)) / w.sum(axis=1)


def _f1(w: np.ndarray, y: np.ndarray, _: np.ndarray, y_pred: np.ndarray | None) -> np.ndarray:
    return _f1_counts(w, y == 1, y_pred == 1)


def _f1_macro(
    w: np.ndarray, y: np.ndarray, proba: np.ndarray, y_pred: np.ndarray | None
) -> np.ndarray:
    """Mean F1 over the classes present (true or predicted) in each resample."""
    per_class, present = [], []
    for k in range(proba.shape[1]):
        truth, guess = y == k, y_pred == k
        per_class.append(_f1_counts(w, truth, guess))
        present.append(w @ (truth | guess).astype(float) > 0)
    scores, shown = np.array(per_class), np.array(present)
    return (scores * shown).sum(axis=0) / shown.sum(axis=0)


def _rmse(w: np.ndarray, y: np.ndarray, output: np.ndarray, _: object) -> np.ndarray:
    return np.sqrt((w @ (y - output) ** 2) / w.sum(axis=1))


def _mae(w: np.ndarray, y: np.ndarray, output: np.ndarray, _: object) -> np.ndarray:
    return (w @ np.abs(y - output)) / w.sum(axis=1)


def _r2(w: np.ndarray, y: np.ndarray, output: np.ndarray, _: object) -> np.ndarray:
    total = w.sum(axis=1)
    mean = (w @ y) / total
    spread = w @ y**2 - total * mean**2
    return 1 - _ratio(w @ (y - output) ** 2, spread)


WEIGHTED: dict[tuple[str, str], Weighted] = {
    ("binary", "roc_auc"): _roc_auc,
    ("binary", "pr_auc"): _average_precision,
    ("binary", "f1"): _f1,
    ("binary", "accuracy"): _accuracy,
    ("binary", "log_loss"): _log_loss,
    ("multiclass", "log_loss"): _log_loss,
    ("multiclass", "accuracy"): _accuracy,
    ("multiclass", "f1_macro"): _f1_macro,
    ("regression", "rmse"): _rmse,
    ("regression", "mae"): _mae,
    ("regression", "r2"): _r2,
}


def resampled(
    problem: str,
    name: str,
    counts: np.ndarray,
    y: np.ndarray,
    output: np.ndarray,
    y_pred: np.ndarray | None,
) -> np.ndarray | None:
    """The metric on every resample at once; None when it has no weighted form here."""
    weighted = WEIGHTED.get((problem, name))
    if weighted is None:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(weighted(counts, y, output, y_pred), dtype=float)
