"""The champion's temperature (`serving.temperature`), fitted on its out-of-fold answers.

One number, found by minimising the out-of-fold log loss (bounded search on its logarithm).
It is kept only when it earns its place honestly: fitted on the other folds, it must lower
the log loss of the held-out folds' answers taken together, the same cross-fitting that the
blend's weights go through (`blend.nested`). Unweighted: class weights tilt the models'
answers, and the temperature is there to bring them back towards the classes' real shares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..serving.temperature import tempered
from .crossval import OutOfFold
from .gains import gain_of

# At most twice sharper, five times softer: on a small table whose out-of-fold answers are all
# right, the fit would sharpen without end, and one confident mistake on new rows then costs
# much; softening only caps what a mistake costs. On 60 splits of four tables of 32 to 333
# rows (iris, penguins, mtcars twice; three model kinds), a bound of 0.2 instead of 0.5 made
# the worst test log loss 1.83 worse instead of 0.47, and the mean gain smaller (0.116 to 0.136).
BOUNDS = (0.5, 5.0)


@dataclass(frozen=True)
class Calibration:
    """The temperature kept (None: the probabilities as they are) and the out-of-fold log
    loss before and after it (cross-fitted: each fold tempered as fitted on the others)."""

    temperature: float | None
    before: float
    after: float

    def describe(self) -> str:
        verdict = f"temperature {self.temperature:.3f}" if self.temperature else "not tempered"
        return (
            f"{verdict} (out-of-fold log loss {self.before:.4f}, "
            f"{self.after:.4f} tempered on the other folds)"
        )


def log_loss(y: np.ndarray, proba: np.ndarray) -> float:
    """Mean negative log-probability of each row's own class (the blend's quick form)."""
    problem = "binary" if proba.shape[1] == 2 else "multiclass"
    return -gain_of(problem, "log_loss")(y, proba)


def fitted(proba: np.ndarray, y: np.ndarray) -> float:
    """The temperature with the lowest log loss on these answers, within BOUNDS."""
    from scipy.optimize import minimize_scalar

    low, high = (math.log(bound) for bound in BOUNDS)
    found = minimize_scalar(
        lambda log_t: log_loss(y, tempered(proba, math.exp(log_t))),
        bounds=(low, high),
        method="bounded",
    )
    return math.exp(found.x)


def calibrate(oof: OutOfFold, y: np.ndarray) -> Calibration:
    """The champion's temperature from its out-of-fold answers `oof` (class probabilities)
    and their classes `y` (encoded 0..k-1, in oof's rows)."""
    proba, fold = oof.output, oof.fold
    crossed = np.empty_like(proba, dtype=float)
    for number in np.unique(fold):
        held = fold == number
        crossed[held] = tempered(proba[held], fitted(proba[~held], y[~held]))
    before, after = log_loss(y, proba), log_loss(y, crossed)
    if not after < before:
        return Calibration(None, before, before)
    return Calibration(fitted(proba, y), before, after)
