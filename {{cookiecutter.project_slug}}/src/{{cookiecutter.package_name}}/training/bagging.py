"""A linear classifier answers with the mean of its fold fits: the pipelines its
cross-validation scored, one per fold, each fitted on the other folds' rows, their class
probabilities averaged, in place of one refit on every row.

Why: on the benchmark's classification tables the mean of a logistic regression's five fold
fits scored higher on the held-out test split than its refit on every row, on all 13 splits
measured (15-trial searches, the family's best trial): ROC AUC +0.0002 to +0.0004 on Telco,
+0.0011 to +0.0085 on attrition, +0.0009 to +0.0065 on caravan, +0.002 to +0.012 on cells, and
log loss 0.6447 to 0.6400 on hpc. Part of it is the quantile bins: each fold places them a little
differently, and the mean smooths the steps one fit learns from its rows' noise (on cells,
with the bins off, the gain fell from +0.009 and +0.012 to +0.003 and +0.000); the rest is the
usual spread of a model fitted on few rows. Elsewhere it did not hold, so nothing else is
averaged. The champions' fold means (boosters, forests, blends) lost on all three Ames splits
(RMSE +121 to +541), on all three hpc splits (log loss +0.003 to +0.015) and on two of three
cells splits; they gained on caravan's XGBoost (+0.0084 twice) and were even on Telco's
LightGBM (+0.0009, -0.0006): a forest already averages its trees, and a booster that learns
from four fifths of the rows learns less. A regression's Ridge lost on two of three free-text
(tate) splits (RMSE 3.671 to 3.677, 3.685 to 3.705).

The fits are cheap (a linear model), and the answers stay one scikit-learn estimator: a soft
VotingClassifier over the fold pipelines (`voting`), exported as one ONNX graph like a blend.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .leaderboard import Candidate
from .task import Setup
from .voting import FOLD, folds_of, voting

AVERAGED = {"linear"}  # families whose classifiers answer with the mean of their fold fits


def averages_folds(family: str, rows: Setup, sampled: bool) -> bool:
    """Whether this family's candidate answers with the mean of its fold fits: classifiers
    of AVERAGED families, unless the folds are time-ordered (the first learns from the
    oldest sixth of the rows alone) or the search tuned on a sample. Past the sample's size
    one fit's spread is small, and five fits cost five times its answer time: on the
    generated million-row table (a blend with a linear member, same test ROC AUC either way),
    the fold mean took train from 68.6 s to 110.8 s (peak 2.4 to 3.2 GB) and export from
    51.5 s to 77.2 s."""
    ordered = rows.strategy == "time"
    return family in AVERAGED and rows.problem != "regression" and not ordered and not sampled


def averaged_fits(rows: Setup, family: str, cfg: Any) -> Any | None:
    """The family's pipeline fitted on each fold's training rows of `rows` (the search's
    folds when it tuned on every row), as one estimator averaging their class probabilities;
    None when a fold's rows lack a class (groups can do that): then one refit answers."""
    classes = int(rows.y.max()) + 1
    members = []
    for i, (train, _) in enumerate(rows.folds(), start=1):
        part = rows.subset(train)
        if len(np.unique(part.y)) < classes:
            return None
        pipeline = part.pipeline(family, cfg).fit(part.features, part.y, **part.fit_kw(family))
        members.append((f"{FOLD}{i}", pipeline))
    return voting(members, [1.0] * len(members), classes)


def fold_means(best: Candidate, candidates: list[Candidate]) -> dict[str, int]:
    """The served candidates (the champion, or a blend's members) that answer with the mean
    of their fold fits, and how many fits each averages: for model.json and the report."""
    served = best.served()
    trials = [trial for c in candidates for trial in (c, *c.runners_up)]
    found = {t.name: folds_of(t.pipeline) for t in trials if t.name in served}
    return {name: folds for name, folds in found.items() if folds > 1}
