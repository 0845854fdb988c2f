"""Which columns matter: permutation importance through the served path, and the fitted
model's own importance per encoded input."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from ..serving.predictor import Predictor
from .bootstrap import resampled
from .diagnostics import truth
from .metrics import LOWER_IS_BETTER, score

# Shuffled cells scored at once (rows x columns; a few columns' worth on a large split, a few
# hundred shuffles of a short, wide one).
CELLS_PER_CALL = 20_000_000
TIMED_ROWS = 1_000  # the rows `seconds_per_row` times one call on


def permutation_importance(
    predictor: Predictor, test: pd.DataFrame, metric: str, repeats: int, seed: int
) -> pd.DataFrame:
    """How much the metric worsens when one original column is shuffled (mean, std).

    Columns are typed once: typing is row-wise, so shuffling a typed column is the same as
    shuffling the raw one. Engineered features are computed after the shuffle, so they count
    toward the columns they are made from."""
    problem, y = predictor.meta.problem_type, truth(predictor, test)
    inputs = predictor.inputs
    typed = inputs.typed(test)  # one array per column
    rows = len(test)

    metric_of = metric_function(
        problem, metric, y, None if predictor.classes is None else predictor.decide
    )
    base = metric_of(predictor.score(inputs.features(typed)))
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    rng = np.random.default_rng(seed)
    shuffles = [(column, rng.permutation(rows)) for column in typed for _ in range(repeats)]
    losses: dict[str, list[float]] = {column: [] for column in typed}

    def shuffled_outputs(block: list[tuple[str, np.ndarray]]) -> list[np.ndarray]:
        # Many shuffled copies in one call (the pipeline's cost is mostly per call), made as
        # arrays: copy k holds column k's shuffle in its rows k * rows to (k + 1) * rows.
        copies = {name: np.tile(values, len(block)) for name, values in typed.items()}
        for k, (column, order) in enumerate(block):
            copies[column][k * rows : (k + 1) * rows] = typed[column][order]
        return np.split(predictor.score(inputs.features(copies)), len(block))

    # Two calls at a time in threads (the models answer on one thread and release the GIL),
    # each holding at most half of CELLS_PER_CALL shuffled cells.
    per_call = max(1, CELLS_PER_CALL // 2 // max(rows * len(typed), 1))
    per_call = min(per_call, max(1, -(-len(shuffles) // 2)))
    blocks = [shuffles[start : start + per_call] for start in range(0, len(shuffles), per_call)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for block, parts in zip(blocks, pool.map(shuffled_outputs, blocks), strict=True):
            for (column, _), part in zip(block, parts, strict=True):
                losses[column].append(sign * (base - metric_of(part)))
    found = [
        {"column": column, "importance": np.mean(values), "std": np.std(values)}
        for column, values in losses.items()
    ]
    board = pd.DataFrame(found, columns=["column", "importance", "std"])
    return board.sort_values("importance", ascending=False, ignore_index=True)


def seconds_per_row(predictor: Predictor, test: pd.DataFrame, rows: int = TIMED_ROWS) -> float:
    """The model's time per row, timed on one call over up to `rows` test rows (after a
    one-row call, so that a runtime's first-call set-up is not counted)."""
    typed = predictor.inputs.typed(test.head(rows))
    predictor.score(predictor.inputs.features({k: v[:1] for k, v in typed.items()}))
    started = time.perf_counter()
    predictor.score(predictor.inputs.features(typed))
    return (time.perf_counter() - started) / max(len(test.head(rows)), 1)


def metric_function(
    problem: str, metric: str, y: np.ndarray, decide: Callable[[np.ndarray], np.ndarray] | None
) -> Callable[[np.ndarray], float]:
    """The metric of a model output on these rows (class probabilities, or values in one
    column or two), for thousands of shuffles: in the bootstrap's weighted form where the
    metric has one, which gives scikit-learn's value without its checks (2 ms a call: 2,253
    calls on a 751-column table); else scikit-learn's."""
    whole = np.ones((1, len(y)))  # every row once

    def metric_of(output: np.ndarray) -> float:
        output = output.reshape(-1) if decide is None else output
        decided = None if decide is None else decide(output)
        fast = resampled(problem, metric, whole, y, output, decided)
        return float(fast[0]) if fast is not None else score(problem, metric, y, output, decided)

    return metric_of


def model_importance(pipeline: Any) -> tuple[pd.DataFrame, str] | None:
    """The fitted model's own importance per encoded input, as shares of the total; None for
    a model without one, or a blend (its members encode their inputs differently)."""
    if not hasattr(pipeline, "steps"):
        return None
    model = pipeline.steps[-1][1]
    model = getattr(model, "regressor_", model)  # a log-target wrapper
    name = type(model).__name__
    if name.startswith("LGBM"):
        values, kind = model.booster_.feature_importance(importance_type="gain"), "total gain"
    elif name.startswith("XGB"):
        values, kind = model.feature_importances_, "gain"
    elif hasattr(model, "feature_importances_"):
        values, kind = model.feature_importances_, "mean decrease in impurity"
    elif hasattr(model, "coef_"):
        values = np.abs(np.atleast_2d(model.coef_)).mean(axis=0)
        kind = "|coefficient| on standardised inputs"
    else:
        return None
    names = pipeline[:-1].get_feature_names_out()
    values = np.asarray(values, dtype=float)
    share = values / values.sum() if values.sum() > 0 else values
    board = pd.DataFrame({"feature": names, "importance": share})
    return board.sort_values("importance", ascending=False, ignore_index=True), kind
