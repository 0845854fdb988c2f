"""The search's sample of a large table: tuning on `train.search.max_rows` rows keeps a trial
short, and the champion then learns from every row (`trainer.refitted`)."""

from __future__ import annotations

import logging

import numpy as np

from .task import Setup

log = logging.getLogger(__name__)


def sample_rows(setup: Setup, max_rows: int) -> np.ndarray | None:
    """Row positions to tune on, or None when the table is small enough to use whole.

    The sample respects the split strategy: the latest rows for a time split (the training
    split is in time order), whole groups for a group split, and each class in its share.
    """
    n = len(setup.y)
    if n <= max_rows:
        return None
    rng = np.random.default_rng(setup.seed)
    if setup.strategy == "time":
        return np.arange(n - max_rows, n)
    if setup.strategy == "group" and setup.groups is not None:
        return _whole_groups(setup.groups, max_rows, rng)
    if setup.problem != "regression":
        return _stratified(setup.y, max_rows, rng)
    return np.sort(rng.choice(n, size=max_rows, replace=False))


def _whole_groups(groups: np.ndarray, max_rows: int, rng: np.random.Generator) -> np.ndarray:
    names, sizes = np.unique(groups, return_counts=True)
    order = rng.permutation(len(names))
    kept = order[: max(2, int(np.searchsorted(np.cumsum(sizes[order]), max_rows)) + 1)]
    return np.flatnonzero(np.isin(groups, names[kept]))


def _stratified(y: np.ndarray, max_rows: int, rng: np.random.Generator) -> np.ndarray:
    """Each class in its share, and every class with at least a few rows (enough for the
    folds), so a rare class does not vanish from the sample."""
    share = max_rows / len(y)
    chosen = []
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        take = min(len(rows), max(20, round(len(rows) * share)))
        chosen.append(rng.choice(rows, size=take, replace=False))
    return np.sort(np.concatenate(chosen))


def tuning_setup(setup: Setup, max_rows: int) -> Setup:
    """The setup the search works on: the whole training split, or a sample of it."""
    rows = sample_rows(setup, max_rows)
    if rows is None:
        return setup
    log.info("tuning on %d of %d rows (train.search.max_rows)", len(rows), len(setup.y))
    return setup.subset(rows)
