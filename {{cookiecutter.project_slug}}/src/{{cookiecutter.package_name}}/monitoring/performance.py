"""How well the model does on the rows whose true values are known, next to the test split.

The numbers are the evaluation's own: `held_out_metrics` on the answers as served (the
logged probabilities), and the headline metrics' 95% bootstrap intervals (`intervals`, every
resample at once, evaluation/bootstrap.py), beside reports/metrics.json's test values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import StageError
from ..evaluation.analysis import held_out_metrics, intervals
from ..evaluation.diagnostics import Scored
from ..evaluation.metrics import HEADLINE, score
from ..serving.predictor import Predictor
from .current import Current

MIN_PERIOD_ROWS = 20  # a day (or hour) with fewer outcomes gets no point on the time plot


@dataclass
class Performance:
    rows: int  # rows with a true value
    primary: str
    metrics: dict[str, float]  # on those rows
    intervals: dict[str, dict[str, float]]  # 95% bootstrap, headline metrics
    test: dict[str, float]  # reports/metrics.json: the test split's
    test_intervals: dict[str, dict[str, float]]
    by_period: pd.DataFrame | None  # period, rows, value of the primary metric


def _encoded(truth: pd.Series, predictor: Predictor) -> np.ndarray:
    if predictor.classes is None:
        values = pd.to_numeric(truth, errors="coerce")
        if values.isna().any():
            bad = truth[values.isna()].iloc[0]
            raise StageError(
                f"outcome {bad!r} is not a number (the target is {predictor.meta.target})"
            )
        return values.to_numpy(dtype=float)
    index = {str(label): i for i, label in enumerate(predictor.classes)}
    unknown = sorted({str(v) for v in truth if str(v) not in index})
    if unknown:
        classes = ", ".join(map(str, predictor.classes))
        raise StageError(f"outcome {unknown[0]!r} is not one of the model's classes ({classes})")
    return np.array([index[str(v)] for v in truth], dtype=int)


def scored_rows(current: Current, predictor: Predictor) -> tuple[Scored, np.ndarray]:
    """The rows with a true value as the evaluation scores them, and which rows they are."""
    known = current.truth.notna().to_numpy()
    y = _encoded(current.truth[known], predictor)
    if current.proba is None:
        return Scored(y, np.asarray(current.labels, dtype=float)[known]), known
    proba = current.proba[known]
    return Scored(y, proba, predictor.decide(proba)), known


def _by_period(current: Current, result: Scored, known: np.ndarray, problem: str, metric: str):
    """The primary metric per day (per hour when the rows span under two days)."""
    if current.times is None:
        return None
    times = current.times[known].reset_index(drop=True)
    hourly = times.max() - times.min() < pd.Timedelta(days=2)
    periods = times.dt.floor("h" if hourly else "D")
    out = []
    for period, index in periods.groupby(periods).groups.items():
        rows = np.asarray(index)
        if len(rows) >= MIN_PERIOD_ROWS:
            y_pred = None if result.y_pred is None else result.y_pred[rows]
            value = score(problem, metric, result.y[rows], result.output[rows], y_pred)
            out.append({"period": period, "rows": len(rows), "value": value})
    return pd.DataFrame(out) if out else None


def measure(
    current: Current, predictor: Predictor, report: dict[str, Any], rounds: int, seed: int
) -> Performance | None:
    """The metrics on the rows with outcomes; None when no row has one."""
    if current.truth is None or not current.truth.notna().any():
        return None
    problem, metric = predictor.meta.problem_type, predictor.meta.primary_metric
    result, known = scored_rows(current, predictor)
    headline = list(dict.fromkeys([metric, *HEADLINE[problem]]))
    return Performance(
        rows=len(result.y),
        primary=metric,
        metrics=held_out_metrics(problem, result),
        intervals=intervals(problem, result, headline, rounds, seed),
        test=report.get("test", {}),
        test_intervals=report.get("intervals", {}),
        by_period=_by_period(current, result, known, problem, metric),
    )
