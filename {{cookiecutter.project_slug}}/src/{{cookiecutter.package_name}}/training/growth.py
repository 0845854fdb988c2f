"""Forests grown to the time a trial may take.

A forest costs its number of trees times the cost of one tree, and one tree's cost varies a
hundredfold between tables (rows, columns, the share of columns each split weighs): on a table
of 300 dense word columns one trial of 100 extra trees took 33 s of a 60 s budget. On a time
budget each fold of a forest therefore grows its first PROBE trees, and the first fold to have
grown them fixes the trial's number of trees from their cost: as many as let the trial's folds
end within its allowance (at least PROBE, at most the configured `n_estimators`), the same
number in every fold. AutoGluon sizes its forests to the time left the same way, from the
cost of its first trees. On a trial budget there is no allowance: every forest grows its
configured trees, the same from run to run.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.compose import TransformedTargetRegressor

FORESTS = {"random_forest", "extra_trees"}  # scikit-learn forests: trees grown one by one
PROBE = 10  # trees grown before the trial's number is fixed


@dataclass
class Growth:
    """One trial's number of trees, fixed by the first of its folds to grow its probe."""

    fold_seconds: float  # what one fold may take (the trial's allowance over its waves)
    trees: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fix(self, configured: int, prepare_seconds: float, probe_seconds: float) -> int:
        """The trial's number of trees (the first caller decides it for every fold)."""
        with self._lock:
            if self.trees is None:
                per_tree = max(probe_seconds / PROBE, 1e-6)
                fitting = self.fold_seconds - prepare_seconds
                self.trees = int(min(configured, max(PROBE, fitting / per_tree)))
            return self.trees


def grow(
    model: Any, x: Any, y: np.ndarray, kw: dict[str, Any], growth: Growth, prepare: float
) -> None:
    """Fit a forest (inside a log-target wrapper or not) on encoded rows: its probe trees,
    then as many more as the trial's growth allows. `prepare`: seconds its encoding took."""
    wrapped = isinstance(model, TransformedTargetRegressor)
    forest = model.regressor if wrapped else model
    configured = forest.n_estimators
    forest.set_params(warm_start=True, n_estimators=min(PROBE, configured))
    started = time.perf_counter()
    model.fit(x, y, **kw)
    trees = growth.fix(configured, prepare, time.perf_counter() - started)
    fitted = model.regressor_ if wrapped else model
    if trees > fitted.n_estimators:
        fitted.set_params(n_estimators=trees)
        # Inside the wrapper the forest learns the transformed target (log), as in its fit.
        target = model.transformer_.transform(y.reshape(-1, 1)).ravel() if wrapped else y
        fitted.fit(x, target, **kw)
    fitted.set_params(warm_start=False)
    if wrapped:  # the wrapper's unfitted forest, as configured
        forest.set_params(warm_start=False, n_estimators=configured)
