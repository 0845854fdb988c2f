"""The primary metric as a score to maximise, for the blend's selection and keep rule, which
score thousands of weighted averages: through the evaluation's numpy forms of the metrics
(`evaluation.bootstrap`, one resample that holds every row once), several times quicker than
scikit-learn's checked versions; any other metric through `evaluation.metrics.score`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..evaluation.bootstrap import resampled
from ..evaluation.metrics import LOWER_IS_BETTER, score

Gain = Callable[[np.ndarray, np.ndarray], float]  # (truth, answers) -> score, higher better


def gain_of(problem: str, metric: str) -> Gain:
    """The metric as a score to maximise; an undefined score counts as the worst."""
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0

    def gain(y: np.ndarray, output: np.ndarray) -> float:
        predicted = output.argmax(axis=1) if output.ndim == 2 else None
        every_row = np.ones((1, len(y)))
        fast = resampled(problem, metric, every_row, y, output, predicted)
        value = score(problem, metric, y, output, predicted) if fast is None else fast[0]
        return sign * value if np.isfinite(value) else -np.inf

    return gain
