"""The blended candidate: a weighted average of the candidates' answers (class probabilities,
or predicted values on the target's own scale, as the metrics read them), champion only when
it beats the best single model beyond noise.

Weights: greedy ensemble selection with replacement (Caruana et al., 2004) on the out-of-fold
answers of every family's best few trials (`train.blend.trials_per_family`): a family's
second-best configuration may complement the others better than its best. It starts from
the best single model; each step adds the trial (again, or a new one while fewer than
`train.blend.max_members` are in) whose addition scores best; a weight is the share of steps
that picked it, and the best-scoring prefix of the steps is kept; a member under a tenth of
the weight is then dropped: the weights are non-negative and sum to 1.

Its CV score is nested: weights chosen on the rows they are scored on would flatter the
blend, so each fold's rows are blended with weights chosen on the other folds. The blend's
own weights are then chosen on every out-of-fold row.

Keep rule: the nested blend must beat the best single model, picked as honestly: each
fold's rows answered by the candidate with the best mean over the other folds. The best
single model's own CV is the best of many trials' scores on the very folds it is judged on,
and so flattered by its luck there: on the bench's 24 splits (15 trials each) the blend beat
the best single model on 20 test splits, and that comparison called it better beyond noise on
9, this one on 12. It must score better in at least
CONFIDENCE of ROUNDS paired bootstrap resamples of the out-of-fold rows (whole groups on a
grouped split), and on the mean over folds, with at least two members weighed. Else the
single champion stays, and the leaderboard says why. A resample is scored as the CV scores:
fold by fold, then the mean; pooled rows would also judge how the folds' models' scales differ.
"""

from __future__ import annotations

import numpy as np

from ..config import BlendParams
from ..evaluation.metrics import better
from .crossval import OutOfFold, fold_scores, summary
from .gains import Gain, gain_of
from .leaderboard import Blend, Candidate
from .task import Setup

STEPS = 25  # selection steps after the first pick: weights in steps of at least 1/26
# A member weighing less is dropped, its share spread over the others: it would add its
# answer time (and its size: on diamonds, a 5% extra-trees member made a 140 MB ONNX graph)
# for a gain the test splits of seven tables did not see.
MIN_WEIGHT = 0.1
ROUNDS = 200  # bootstrap resamples of the keep rule
CONFIDENCE = 0.95  # share of resamples the blend must win
NAME = "blend"


def select(outputs: np.ndarray, y: np.ndarray, gain: Gain, max_members: int) -> np.ndarray:
    """Greedy ensemble selection with replacement: one weight per candidate (outputs' first
    axis), non-negative, summing to 1."""
    singles = [gain(y, output) for output in outputs]
    first = int(np.argmax(singles))
    counts = np.zeros(len(outputs))
    counts[first] = 1
    total, best, best_counts = outputs[first].copy(), singles[first], counts.copy()
    for _ in range(STEPS):
        full = np.count_nonzero(counts) >= max_members
        allowed = [j for j in range(len(outputs)) if counts[j] or not full]
        values = [gain(y, (total + outputs[j]) / (counts.sum() + 1)) for j in allowed]
        pick = allowed[int(np.argmax(values))]
        counts[pick] += 1
        total += outputs[pick]
        if max(values) > best:  # strictly: a tie keeps the shorter, simpler prefix
            best, best_counts = max(values), counts.copy()
    weights = best_counts / best_counts.sum()
    weights[weights < MIN_WEIGHT] = 0.0  # the heaviest weighs at least 1 / max_members
    return weights / weights.sum()


def mixed(weights: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """The weighted average of the candidates' answers."""
    return np.tensordot(weights, outputs, axes=1)


def nested(outputs: np.ndarray, y: np.ndarray, fold: np.ndarray, gain: Gain, most: int):
    """The blend's out-of-fold answers, each fold blended with weights chosen on the others."""
    answers = np.empty_like(outputs[0])
    for number in np.unique(fold):
        held = fold == number
        weights = select(outputs[:, ~held], y[~held], gain, most)
        answers[held] = mixed(weights, outputs[:, held])
    return answers


def fold_mean(gain: Gain, y: np.ndarray, output: np.ndarray, fold: np.ndarray) -> float:
    """The mean over folds of the gain of each fold's rows, as the CV scores a candidate."""
    return float(np.mean([gain(y[fold == n], output[fold == n]) for n in np.unique(fold)]))


def picked(outputs: np.ndarray, y: np.ndarray, fold: np.ndarray, gain: Gain) -> np.ndarray:
    """The best single candidate's out-of-fold answers, chosen without the rows they answer:
    each fold's rows from the candidate with the best mean over the other folds."""
    answers = np.empty_like(outputs[0])
    for number in np.unique(fold):
        held = fold == number
        means = [fold_mean(gain, y[~held], output[~held], fold[~held]) for output in outputs]
        answers[held] = outputs[int(np.argmax(means))][held]
    return answers


def cross_validated(tuning: Setup, y, answers: np.ndarray, fold: np.ndarray) -> dict:
    """Every CV metric of out-of-fold answers: (mean, std) over the folds."""
    return summary([fold_scores(tuning, y[fold == n], answers[fold == n]) for n in np.unique(fold)])


def wins(y, blend, single, units: np.ndarray, fold: np.ndarray, gain: Gain, seed: int) -> float:
    """The share of paired bootstrap resamples (of `units`: rows or groups) in which `blend`
    scores better than `single` on the mean over folds; it stops once the rule's outcome is
    certain."""
    rng = np.random.default_rng(seed)
    _, unit_of_row = np.unique(units, return_inverse=True)
    count = unit_of_row.max() + 1
    won = lost = 0
    allowed = round((1 - CONFIDENCE) * ROUNDS)  # losses the blend may have and still be kept
    while won + lost < ROUNDS and lost <= allowed and won < ROUNDS - allowed:
        draws = rng.multinomial(count, np.full(count, 1 / count))
        rows = np.repeat(np.arange(len(y)), draws[unit_of_row])
        ours, theirs = (fold_mean(gain, y[rows], o[rows], fold[rows]) for o in (blend, single))
        if ours > theirs:
            won += 1
        else:
            lost += 1
    return won / (won + lost)


def blended(tuning: Setup, candidates: list[Candidate], best: Candidate, cfg: BlendParams):
    """The blend of the candidates and their runners-up sharing the champion's out-of-fold
    rows, as a candidate; whether it is kept as the champion. None with fewer than two."""
    if not cfg.enabled:
        return None, False
    rows, fold = best.oof.rows, best.oof.fold
    trials = [trial for c in candidates for trial in (c, *c.runners_up)]
    pool = [c for c in trials if c.oof is not None and np.array_equal(c.oof.rows, rows)]
    if len(pool) < 2:
        return None, False
    y, outputs = tuning.y[rows], np.stack([c.oof.output for c in pool])
    gain = gain_of(tuning.problem, tuning.metric)
    weights = select(outputs, y, gain, cfg.max_members)
    honest, single = nested(outputs, y, fold, gain, cfg.max_members), picked(outputs, y, fold, gain)
    cv = cross_validated(tuning, y, honest, fold)
    rival = cross_validated(tuning, y, single, fold)[tuning.metric][0]
    members = [(c, float(w)) for c, w in zip(pool, weights, strict=True) if w > 0]
    units = np.arange(len(rows)) if tuning.groups is None else tuning.groups[rows]
    several = len(members) > 1
    share = wins(y, honest, single, units, fold, gain, tuning.seed) if several else 0
    ahead = better(tuning.metric, cv[tuning.metric][0], rival)
    kept = several and share >= CONFIDENCE and ahead
    blend = Blend(
        weights={c.name: w for c, w in members},
        best=best.family,
        scores=(cv[tuning.metric][0], rival),
        wins=share,
        needed=CONFIDENCE,
        kept=kept,
    )
    candidate = Candidate(
        NAME,
        {f"{c.name}_weight": w for c, w in members},
        cv,
        fit_seconds=sum(c.fit_seconds for c, _ in members),
        predict_ms_per_row=sum(c.predict_ms_per_row for c, _ in members),
        oof=OutOfFold(rows, mixed(weights, outputs), fold),
        blend=blend,
    )
    return candidate, kept
