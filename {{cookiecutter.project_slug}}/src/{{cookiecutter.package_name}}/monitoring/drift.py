"""How far one column has moved: the training split's values against the current ones.

A number is cut into the training split's quantile bins (`bins` of them, fewer when values
repeat) plus one bin for missing values; a category into its `max_levels` commonest training
levels, the other training levels pooled, one bin for levels never seen in training and one
for missing values. The drift score is the population stability index over those bins,

    PSI = sum over bins of (now - train) * ln(now / train)     (shares; empty bins floored)

(under 0.1: no real change; 0.1 to 0.25: a moderate one; beyond: a major one). Beside it, a test
says whether the change could be sampling noise: two-sample Kolmogorov-Smirnov on a number's
values (scipy.stats.ks_2samp), chi-square on a category's two rows of bin counts
(scipy.stats.chi2_contingency). With many rows a test finds even a trivial change, and with
few rows PSI is noisy; the verdict asks for both (verdict.py).

scipy rather than Evidently: Evidently's DataDriftPreset runs these same tests, and 0.7.23
resolves beside this project's pins (pandas 3 included), but it adds 28 packages to the install
(litestar, nltk, plotly 5, statsmodels, faker, watchdog, ...) for a few scipy calls; scipy is
already here, under scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from scipy import stats

FLOOR = 1e-4  # an empty bin's share, so that a bin that empties or fills counts, finitely
MISSING, UNSEEN, OTHER = "(missing)", "(not seen in training)", "(other levels)"


@dataclass
class ColumnDrift:
    """One column's drift: the score, the test, and the bins a plot shows."""

    name: str
    kind: str  # "numeric" or "categorical"
    psi: float
    test: str  # "KS" or "chi-square"
    statistic: float
    p_value: float
    bins: list[str]
    train_shares: list[float]
    now_shares: list[float]
    missing_train: float
    missing_now: float
    unseen_share: float = 0.0
    unseen: list[str] = field(default_factory=list)  # the commonest unseen levels


def psi(train: np.ndarray, now: np.ndarray) -> float:
    """PSI of two count (or share) vectors over the same bins."""
    p = np.maximum(train / max(train.sum(), 1), FLOOR)
    q = np.maximum(now / max(now.sum(), 1), FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def _shares(counts: np.ndarray) -> list[float]:
    return (counts / max(counts.sum(), 1)).tolist()


def numeric_drift(name: str, train: np.ndarray, now: np.ndarray, bins: int) -> ColumnDrift:
    """A number column's drift (NaN: missing)."""
    train, now = np.asarray(train, dtype=float), np.asarray(now, dtype=float)
    seen, current = train[~np.isnan(train)], now[~np.isnan(now)]
    cuts = np.linspace(0, 1, bins + 1)[1:-1]
    edges = np.unique(np.quantile(seen, cuts)) if len(seen) else np.array([])
    counts = []
    for values, everything in ((seen, train), (current, now)):
        binned = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
        counts.append(np.append(binned, len(everything) - len(values)))
    labels = [f"< {edges[0]:.4g}"] if len(edges) else ["all values"]
    labels += [f"{low:.4g} to {high:.4g}" for low, high in pairwise(edges)]
    labels += [f"≥ {edges[-1]:.4g}"] if len(edges) else []
    if len(seen) and len(current):
        statistic, p_value = stats.ks_2samp(seen, current)
    else:
        statistic, p_value = 0.0, 1.0
    return ColumnDrift(
        name, "numeric", psi(*counts), "KS", float(statistic), float(p_value),
        [*labels, MISSING], _shares(counts[0]), _shares(counts[1]),
        missing_train=1 - len(seen) / max(len(train), 1),
        missing_now=1 - len(current) / max(len(now), 1),
    )  # fmt: skip


def categorical_drift(
    name: str, train: np.ndarray, now: np.ndarray, max_levels: int, missing: str = ""
) -> ColumnDrift:
    """A category column's drift; `missing` is the text a missing value has."""
    levels, counts = np.unique(np.asarray(train, dtype=object).astype(str), return_counts=True)
    order = np.argsort(-counts, kind="stable")
    known = [level for level in levels[order] if level != missing]
    shown = known[:max_levels]
    place = {level: i for i, level in enumerate(shown)}
    pooled, unseen_at, missing_at = len(shown), len(shown) + 1, len(shown) + 2
    seen = set(known)

    def count(values: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
        found, unseen = np.zeros(len(shown) + 3), {}
        names, times = np.unique(np.asarray(values, dtype=object).astype(str), return_counts=True)
        for level, n in zip(names.tolist(), times.tolist(), strict=True):
            if level == missing:
                found[missing_at] += n
            elif level in place:
                found[place[level]] += n
            elif level in seen:
                found[pooled] += n
            else:
                found[unseen_at] += n
                unseen[level] = n
        return found, unseen

    (before, _), (after, unseen) = count(train), count(now)
    statistic, p_value = _chi_square(before, after)
    total = max(after.sum(), 1)
    return ColumnDrift(
        name, "categorical", psi(before, after), "chi-square", statistic, p_value,
        [*shown, OTHER, UNSEEN, MISSING], _shares(before), _shares(after),
        missing_train=before[missing_at] / max(before.sum(), 1),
        missing_now=after[missing_at] / total,
        unseen_share=after[unseen_at] / total,
        unseen=sorted(unseen, key=lambda level: -unseen[level])[:5],
    )  # fmt: skip


def _chi_square(train: np.ndarray, now: np.ndarray) -> tuple[float, float]:
    """Chi-square test of independence of the two rows of counts, over the bins either has."""
    table = np.vstack([train, now])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)
