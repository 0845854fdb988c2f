"""Columns that alone predict the target: a sign of leakage worth a warning."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cleaning import as_text
from .schema import Schema

# A single column that predicts held-out rows this well is suspicious. Regression: R² (or
# Spearman's rho) of at least 0.99. Classification: the column alone removes at least 80% of
# the errors of always guessing the majority class; on real tables the strongest honest
# column removed 60% (penguins' flipper length), leaked ones 83-89% (AER's CreditCard:
# `expenditure` and `share`, recorded after the card was granted).
LEAK_R2 = 0.99


LEAK_ERROR_CUT = 0.8


def _buckets(values: pd.Series) -> pd.Series:
    """Numbers into up to 20 quantile bins, text as its levels; missing is its own bucket."""
    if pd.api.types.is_numeric_dtype(values):
        ranks = values.rank(method="dense", pct=True)
        return (ranks * 20).round().fillna(-1).astype(int).astype(str)
    return as_text(values).astype(str)


def _holdout_score(bucket: pd.Series, target: pd.Series, regression: bool) -> float:
    """Learn a per-bucket answer on half the rows, score it on the other half: R² for a
    number, else the share of the majority guess's errors the column removes."""
    order = np.random.default_rng(0).permutation(len(bucket))
    fit, held = order[: len(order) // 2], order[len(order) // 2 :]
    codes, levels = pd.factorize(bucket.to_numpy())
    seen = np.bincount(codes[fit], minlength=len(levels)) > 0
    if regression:
        y = target.to_numpy(dtype=float)
        sums = np.bincount(codes[fit], weights=y[fit], minlength=len(levels))
        means = sums / np.maximum(np.bincount(codes[fit], minlength=len(levels)), 1)
        guess = np.where(seen[codes[held]], means[codes[held]], y[fit].mean())
        total = ((y[held] - y[held].mean()) ** 2).sum()
        return float(1 - ((y[held] - guess) ** 2).sum() / total) if total else 0.0
    # Each bucket's commonest class from one count table (classes in sorted order, so a tie
    # goes to the first label), not a Python call per bucket: 751 columns in well under a
    # second, where pandas' group-by took 5 s.
    y, classes = pd.factorize(target.to_numpy(), sort=True)
    pairs = np.bincount(codes[fit] * len(classes) + y[fit], minlength=len(levels) * len(classes))
    majority = pairs.reshape(len(levels), len(classes)).argmax(axis=1)
    overall = np.bincount(y[fit], minlength=len(classes)).argmax()
    guess = np.where(seen[codes[held]], majority[codes[held]], overall)
    baseline = float((y[held] != overall).mean())
    return 1 - float((guess != y[held]).mean()) / baseline if baseline else 0.0


def _spearman(x: pd.Series, y: pd.Series) -> float:
    """Spearman's rank correlation over the rows where both are known: Pearson's on their
    average ranks (pandas' method="spearman" imports SciPy for it, a second of this stage)."""
    both = pd.DataFrame({"x": x, "y": y}).dropna()
    return float(both["x"].rank().corr(both["y"].rank()))


def leaky_columns(frame: pd.DataFrame, schema: Schema) -> dict[str, float]:
    """Columns that alone predict the target (see LEAK_R2 and LEAK_ERROR_CUT), with scores."""
    target = frame[schema.target]
    regression = schema.problem_type == "regression"
    if not regression and target.value_counts(normalize=True).iloc[0] >= 0.99:
        return {}  # a target this imbalanced is predicted "perfectly" by anything
    if len(frame) < 40:
        return {}
    leaks = {}
    for name, spec in schema.columns.items():
        values = frame[name]
        if spec.kind == "datetime":
            values = values.astype("int64", errors="ignore") if values.notna().all() else values
            if not pd.api.types.is_numeric_dtype(values):
                continue
        if regression and spec.kind == "numeric":
            score = abs(_spearman(values, target.astype(float)))
        else:
            score = _holdout_score(_buckets(values), target, regression)
        if score >= (LEAK_R2 if regression else LEAK_ERROR_CUT):
            leaks[name] = round(score, 4)
    return leaks
