"""The primary metric as a score to maximise, for the blend's selection and keep rule, which
score thousands of weighted averages: ROC AUC (binary), log loss, RMSE and MAE in plain
numpy, several times quicker than scikit-learn's checked versions (tests compare them);
any other metric through `evaluation.metrics.score`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..evaluation.metrics import LOWER_IS_BETTER, score

Gain = Callable[[np.ndarray, np.ndarray], float]  # (truth, answers) -> score, higher better


def _roc_auc(y: np.ndarray, output: np.ndarray) -> float:
    """Binary ROC AUC as the Mann-Whitney statistic of the positive class's probability."""
    positive = y == 1
    count = int(positive.sum())
    if count in (0, len(y)):
        return np.nan
    _, level, ties = np.unique(output[:, 1], return_inverse=True, return_counts=True)
    ranks = (np.cumsum(ties) - (ties - 1) / 2)[level]  # tied values share their mean rank
    return (ranks[positive].sum() - count * (count + 1) / 2) / (count * (len(y) - count))


def _log_loss(y: np.ndarray, output: np.ndarray) -> float:
    eps = np.finfo(output.dtype).eps
    return float(-np.log(np.clip(output[np.arange(len(y)), y], eps, 1.0)).mean())


def _rmse(y: np.ndarray, output: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y - output) ** 2)))


def _mae(y: np.ndarray, output: np.ndarray) -> float:
    return float(np.mean(np.abs(y - output)))


FAST = {
    ("binary", "roc_auc"): _roc_auc,
    ("binary", "log_loss"): _log_loss,
    ("multiclass", "log_loss"): _log_loss,
    ("regression", "rmse"): _rmse,
    ("regression", "mae"): _mae,
}


def gain_of(problem: str, metric: str) -> Gain:
    """The metric as a score to maximise; an undefined score counts as the worst."""
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    fast = FAST.get((problem, metric))

    def gain(y: np.ndarray, output: np.ndarray) -> float:
        if fast is not None:
            value = fast(y, output)
        else:
            predicted = output.argmax(axis=1) if output.ndim == 2 else None
            value = score(problem, metric, y, output, predicted)
        return sign * value if np.isfinite(value) else -np.inf

    return gain
