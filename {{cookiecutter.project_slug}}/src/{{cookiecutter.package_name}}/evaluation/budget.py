"""The evaluation's budget: how much of the test and training splits each diagnostic uses,
so that on a large table the evaluation never costs more than training did.

The headline metrics and the candidates are always scored on the whole test split. Past
`evaluate.sample_rows` test rows, permutation importance shuffles the columns of a seeded
sample of that many rows with fewer shuffles, and the bootstrap resamples the whole split
fewer times; the learning curve refits the champion on at most
`evaluate.learning_curve_rows` training rows, with fewer folds (then fewer sizes) when its
refits, estimated from the champion's own refit time, would outlast
`evaluate.learning_curve_seconds`; permutation importance shuffles each column fewer times
(down to LARGE_SPLIT_REPEATS) when scoring the shuffles, estimated from the served model's
time per row, would outlast `evaluate.permutation_seconds` (a wide table's slow model). The
report says what was sampled or cut."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..config import EvaluateParams
from ..parallel import FITS_AT_ONCE  # the learning curve refits that many sizes at once

MIN_BOOTSTRAP_ROUNDS = 200  # below this the 2.5% and 97.5% quantiles are too rough
LARGE_SPLIT_REPEATS = 2  # shuffles per column on a sample: its rows already average the noise
# Rows permutation importance may score in all (rows x columns x shuffles): a wide table of
# a few thousand test rows would otherwise cost more than training (80 columns x 5 shuffles
# of 600 rows through 500 trees took 20 s); past it, fewer shuffles, then fewer rows.
PERMUTED_ROWS = 150_000
MIN_FOLDS, MIN_POINTS = 2, 3  # the learning curve's least: a train/validation pair, a bend


@dataclass(frozen=True)
class Budget:
    """What each diagnostic uses; `*_of` the rows it could have used."""

    bootstrap_rounds: int
    permutation_rows: int
    permutation_of: int
    permutation_repeats: int
    learning_rows: int
    learning_of: int
    learning_points: int
    learning_folds: int

    @property
    def sampled(self) -> bool:
        return self.permutation_rows < self.permutation_of or self.learning_rows < self.learning_of


def plan(
    cfg: EvaluateParams,
    test_rows: int,
    train_rows: int,
    columns: int = 1,
    refit_seconds: float = 0.0,
    row_seconds: float = 0.0,
) -> Budget:
    """The budget for splits of these sizes (and this many original columns to shuffle, a
    champion whose refit on the training split took `refit_seconds`, and a served model that
    answers a row in `row_seconds`) under the evaluate settings of params.yaml."""
    rounds, repeats = cfg.bootstrap_rounds, cfg.permutation_repeats
    if test_rows > cfg.sample_rows:
        # Each resample costs as many rows as the split: fewer of them on a large split.
        scaled = cfg.bootstrap_rounds * cfg.sample_rows // test_rows
        rounds = min(cfg.bootstrap_rounds, max(MIN_BOOTSTRAP_ROUNDS, scaled))
        repeats = min(repeats, LARGE_SPLIT_REPEATS)
    shuffled = min(test_rows, cfg.sample_rows)
    per_shuffle = max(columns, 1) * shuffled
    if repeats * per_shuffle > PERMUTED_ROWS:
        repeats = min(repeats, max(LARGE_SPLIT_REPEATS, PERMUTED_ROWS // per_shuffle))
        shuffled = min(shuffled, max(100, PERMUTED_ROWS // (repeats * max(columns, 1))))
    # Each shuffle of every column scores the sample once, two calls at a time.
    per_repeat = shuffled * max(columns, 1) * row_seconds / FITS_AT_ONCE
    while repeats > LARGE_SPLIT_REPEATS and repeats * per_repeat > cfg.permutation_seconds:
        repeats -= 1
    learning_rows = min(train_rows, cfg.learning_curve_rows)
    seconds = refit_seconds * learning_rows / max(train_rows, 1)  # one refit on those rows
    points, folds = learning_shape(cfg, seconds)
    return Budget(
        bootstrap_rounds=rounds,
        permutation_rows=shuffled,
        permutation_of=test_rows,
        permutation_repeats=repeats,
        learning_rows=learning_rows,
        learning_of=train_rows,
        learning_points=points,
        learning_folds=folds,
    )


def learning_shape(cfg: EvaluateParams, refit_seconds: float) -> tuple[int, int]:
    """The learning curve's sizes and folds: fewer folds, then fewer sizes, until its refits
    fit `learning_curve_seconds`. A fold's fits train on (folds - 1) / folds of the rows at
    sizes spread up to all of them (about half on average), so the curve costs about
    refit x (folds - 1) x points / 2, over the fits that run at once."""

    def cost(points: int, folds: int) -> float:
        return refit_seconds * (folds - 1) * points / 2 / FITS_AT_ONCE

    points, folds = cfg.learning_curve_points, cfg.learning_curve_folds
    while cost(points, folds) > cfg.learning_curve_seconds and folds > MIN_FOLDS:
        folds -= 1
    while cost(points, folds) > cfg.learning_curve_seconds and points > MIN_POINTS:
        points -= 1
    return points, folds


def sample(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """A seeded random sample of `rows` rows (the frame itself when it is not larger)."""
    if len(frame) <= rows:
        return frame
    return frame.sample(n=rows, random_state=seed)
