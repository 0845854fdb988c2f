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
    table = pd.DataFrame({"b": bucket.to_numpy(), "y": target.to_numpy()})
    learn, test = table.iloc[fit], table.iloc[held]
    if regression:
        means = learn.groupby("b")["y"].mean()
        guess = test["b"].map(means).fillna(learn["y"].mean())
        total = ((test["y"] - test["y"].mean()) ** 2).sum()
        return float(1 - ((test["y"] - guess) ** 2).sum() / total) if total else 0.0
    overall = learn["y"].value_counts().index[0]
    # Each bucket's commonest class, counted at once (a Python call per bucket took most of
    # this stage on a table of 750 columns).
    majority = learn.groupby(["b", "y"]).size().unstack(fill_value=0).idxmax(axis=1)
    guess = test["b"].map(majority).fillna(overall)
    baseline = float((test["y"] != overall).mean())
    return 1 - float((guess != test["y"]).mean()) / baseline if baseline else 0.0


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
