"""The champion's temperature and class shift (`serving.temperature`), fitted on its
out-of-fold answers.

The temperature is one number; the shift, one number per class, is tried only when class
weights trained the models (`train.class_weight`): the weights tilt their answers towards the
rare classes, and the shift brings them back to the classes' real shares. Both are found by
minimising the out-of-fold log loss (bounded). Either is kept only when it earns its place
honestly: fitted on the other folds, it must lower the log loss of the held-out folds' answers
taken together, the same cross-fitting that the blend's weights go through (`blend.nested`);
of the two, the lower such log loss wins. Unweighted, so that the answers come back to the
classes' real shares.

Measured with `dvc repro` on six binary tables nobody tuned for, each with a rare class (class
weights on), before and after the shift, same champion: test log loss 0.319 to 0.080 (ISLR's
Default, 3% positives), 0.566 to 0.179 (lending club), 0.624 to 0.266 (taxi tips), 0.587 to
0.312 (a developer survey), 0.395 to 0.285 (mortgage denials), 0.199 to 0.161 (mobile churn);
the first five had been worse than answering every row with the class's share. ROC AUC, F1
and accuracy stayed the same on every one. On hpc (four classes, log loss its primary metric)
the shift was kept on one split of three (test log loss 0.4072 to 0.4067); on the other two
the temperature alone did better on the held-out folds, and stayed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..serving.temperature import log_probabilities, tempered
from .crossval import OutOfFold
from .gains import gain_of

# At most twice sharper, five times softer: on a small table whose out-of-fold answers are all
# right, the fit would sharpen without end, and one confident mistake on new rows then costs
# much; softening only caps what a mistake costs. On 60 splits of four tables of 32 to 333
# rows (iris, penguins, mtcars twice; three model kinds), a bound of 0.2 instead of 0.5 made
# the worst test log loss 1.83 worse instead of 0.47, and the mean gain smaller (0.116 to 0.136).
BOUNDS = (0.5, 5.0)
SHIFT_BOUND = 10.0  # at most this far each way on the log scale (odds of e**10 to one)


@dataclass(frozen=True)
class Calibration:
    """The temperature and class shift kept (None: none) and the out-of-fold log loss before
    and after them (cross-fitted: each fold calibrated as fitted on the others)."""

    temperature: float | None
    shift: tuple[float, ...] | None
    before: float
    after: float

    def describe(self) -> str:
        if self.temperature is None:
            verdict = "not tempered"
        else:
            verdict = f"temperature {self.temperature:.3f}"
        if self.shift is not None:
            verdict += ", class shift " + ", ".join(f"{v:+.3f}" for v in self.shift)
        return (
            f"{verdict} (out-of-fold log loss {self.before:.4f}, "
            f"{self.after:.4f} calibrated on the other folds)"
        )


def log_loss(y: np.ndarray, proba: np.ndarray) -> float:
    """Mean negative log-probability of each row's own class (the blend's quick form)."""
    problem = "binary" if proba.shape[1] == 2 else "multiclass"
    return -gain_of(problem, "log_loss")(y, proba)


Fit = tuple[float, tuple[float, ...] | None]


def fitted(proba: np.ndarray, y: np.ndarray, shifted: bool = False) -> Fit:
    """The temperature (within BOUNDS), and with `shifted` the class shift (the first class's
    0), with the lowest log loss on these answers."""
    from scipy.optimize import minimize, minimize_scalar

    low, high = (math.log(bound) for bound in BOUNDS)
    if not shifted:
        found = minimize_scalar(
            lambda log_t: log_loss(y, tempered(proba, math.exp(log_t))),
            bounds=(low, high),
            method="bounded",
        )
        return math.exp(found.x), None

    classes = proba.shape[1]
    bounds = [(low, high)] + [(-SHIFT_BOUND, SHIFT_BOUND)] * (classes - 1)
    found = minimize(
        loss_and_gradient, np.zeros(classes), args=(log_probabilities(proba), y), jac=True,
        method="L-BFGS-B", bounds=bounds,
    )  # fmt: skip
    return math.exp(found.x[0]), (0.0, *(float(v) for v in found.x[1:]))


def loss_and_gradient(
    x: np.ndarray, log_proba: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    """The log loss of softmax(log p / T + shift) at x = (log T, shift of classes 1..k-1), and
    its gradient: exact, so the optimiser needs one evaluation a step, not one per class
    (with ten classes on 15,629 rows, finite differences took 9.7 s of a 60 s budget)."""
    scaled = log_proba / math.exp(x[0])
    logits = scaled.copy()
    logits[:, 1:] += x[1:]
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    total = weights.sum(axis=1)
    rows = np.arange(len(y))
    loss = float(np.mean(np.log(total) - logits[rows, y]))
    share = weights / total[:, None]
    share[rows, y] -= 1.0  # d loss / d logit, row by row (times the row count)
    by_temperature = -np.mean(np.sum(share * scaled, axis=1))
    return loss, np.concatenate([[by_temperature], share[:, 1:].mean(axis=0)])


def crossed(proba: np.ndarray, y: np.ndarray, fold: np.ndarray, shifted: bool) -> np.ndarray:
    """Each fold's answers calibrated as fitted on the other folds'."""
    out = np.empty_like(proba, dtype=float)
    for number in np.unique(fold):
        held = fold == number
        out[held] = tempered(proba[held], *fitted(proba[~held], y[~held], shifted))
    return out


def calibrate(oof: OutOfFold, y: np.ndarray, shift: bool = False) -> Calibration:
    """The champion's temperature, and with `shift` (class weights trained it) perhaps a class
    shift, from its out-of-fold answers `oof` (class probabilities) and their classes `y`
    (encoded 0..k-1, in oof's rows)."""
    proba = np.asarray(oof.output, dtype=float)  # float32 answers: too coarse for the gradient
    before = log_loss(y, proba)
    kept = Calibration(None, None, before, before)
    for shifted in (False, True) if shift else (False,):
        after = log_loss(y, crossed(proba, y, oof.fold, shifted))
        if after < kept.after:
            kept = Calibration(*fitted(proba, y, shifted), before, after)
    return kept
