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

Boosters stop by early stopping, but a slow one (a low learning rate on a large sample) can
run far past its trial's share before the held-out loss stops improving: on the 20,000-row
sample of diamonds LightGBM's first trial took 38 s of a 60 s budget. On a time budget each
booster fold therefore also stops adding trees once it has run the trial's share (after
MIN_ROUNDS trees); the folds then choose their number of trees among those grown.
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
MIN_ROUNDS = 10  # a booster's trees before its time limit may stop it


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


@dataclass
class Deadline:
    """When a booster fold must stop adding trees (time.perf_counter seconds); `hit` once it
    has stopped one."""

    at: float
    hit: bool = False

    def passed(self, trees: int) -> bool:
        self.hit |= trees >= MIN_ROUNDS and time.perf_counter() > self.at
        return self.hit

    def attach(self, family: str, booster: Any, kw: dict[str, Any]) -> None:
        """Have the booster stop at this deadline: XGBoost through a callback of the model,
        LightGBM through one more callback in its fit's keyword arguments `kw`."""
        if family == "xgboost":
            from xgboost.callback import TrainingCallback

            deadline = self

            class _Stop(TrainingCallback):
                def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                    return deadline.passed(epoch + 1)

            booster.set_params(callbacks=[_Stop()])
            return
        from lightgbm.callback import EarlyStopException

        def stop(env: Any) -> None:
            if self.passed(env.iteration + 1):
                raise EarlyStopException(env.iteration, env.evaluation_result_list)

        stop.order = 40  # type: ignore[attr-defined]  # after the held-out loss is recorded (20)
        kw["callbacks"] = [*kw.get("callbacks", []), stop]
