"""Which columns matter: permutation importance through the served path, and the fitted
model's own importance per encoded input."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from ..serving.predictor import Predictor
from .diagnostics import truth
from .metrics import LOWER_IS_BETTER, score

ROWS_PER_CALL = 200_000  # shuffled rows scored at once (a few columns' worth on a large split)


def permutation_importance(
    predictor: Predictor, test: pd.DataFrame, metric: str, repeats: int, seed: int
) -> pd.DataFrame:
    """How much the metric worsens when one original column is shuffled (mean, std).

    Columns are typed once: typing is row-wise, so shuffling a typed column is the same as
    shuffling the raw one. Engineered features are computed after the shuffle, so they count
    toward the columns they are made from."""
    problem, y = predictor.meta.problem_type, truth(predictor, test)
    inputs = predictor.inputs
    typed = pd.DataFrame(inputs.typed(test), index=test.index)

    def metric_of(output: np.ndarray) -> float:
        if predictor.classes is None:
            return score(problem, metric, y, output)
        return score(problem, metric, y, output, predictor.decide(output))

    base = metric_of(predictor.score(inputs.features(typed)))
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    rng = np.random.default_rng(seed)
    shuffles = [
        (column, rng.permutation(len(typed))) for column in typed.columns for _ in range(repeats)
    ]
    losses: dict[str, list[float]] = {column: [] for column in typed.columns}

    def shuffled_outputs(block: list[tuple[str, np.ndarray]]) -> list[np.ndarray]:
        copies = []
        for column, order in block:
            shuffled = typed.copy()
            shuffled[column] = typed[column].array[order]  # keeps the dtype
            copies.append(shuffled)
        # Many shuffled copies in one call: the pipeline's cost is mostly per call.
        outputs = predictor.score(inputs.features(pd.concat(copies, ignore_index=True)))
        return np.split(outputs, len(block))

    # Two calls at a time in threads (the models answer on one thread and release the GIL),
    # each holding at most half of ROWS_PER_CALL shuffled rows.
    per_call = max(1, ROWS_PER_CALL // 2 // max(len(typed), 1))
    per_call = min(per_call, max(1, -(-len(shuffles) // 2)))
    blocks = [shuffles[start : start + per_call] for start in range(0, len(shuffles), per_call)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for block, parts in zip(blocks, pool.map(shuffled_outputs, blocks), strict=True):
            for (column, _), part in zip(block, parts, strict=True):
                losses[column].append(sign * (base - metric_of(part)))
    rows = [
        {"column": column, "importance": np.mean(found), "std": np.std(found)}
        for column, found in losses.items()
    ]
    board = pd.DataFrame(rows, columns=["column", "importance", "std"])
    return board.sort_values("importance", ascending=False, ignore_index=True)


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
