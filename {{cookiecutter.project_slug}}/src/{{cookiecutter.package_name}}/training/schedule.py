"""Which family gets the next trial, and which ones stop: the search's bandit over families.

On a time budget a family's spending is its seconds; on a trial budget, its trials (the
clock then decides nothing, so the same seed gives the same search)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..evaluation.metrics import better
from .budget import Budget
from .crossval import CvResult

LEADER_SHARE = 2.0  # the leading family may spend this many times what the others spend
NOISE = 2.0  # standard errors behind the leader that drop a family
# Times that margin behind: dropped before its strong starts too, which tune a family's
# params around strong defaults and do not close a gap of six standard errors.
FAR = 3.0


@dataclass
class Arm:
    """One family's search: its study, its best result so far and what it has spent."""

    family: str
    cfg: Any  # its params.yaml section
    study: Any  # its Optuna study; None when the search is off or it has no space
    queued: int  # configured params and strong starts not run yet
    best: CvResult | None = None
    best_cfg: Any = None
    runners_up: list[tuple[Any, CvResult]] = field(default_factory=list)  # next best first
    trials: int = 0
    pruned: int = 0
    seconds: float = 0.0
    durations: list[float] = field(default_factory=list)
    dropped: str | None = None  # why it gets no more trials

    def spent(self, seconds: float, pruned: bool) -> None:
        self.trials += 1
        self.pruned += pruned
        self.seconds += seconds
        self.queued = max(0, self.queued - 1)
        if not pruned:
            self.durations.append(seconds)

    def keep(self, cfg: Any, result: CvResult, metric: str, most: int) -> bool:
        """Keep a complete trial if it is among the family's `most` best (its best, or a
        runner-up for the blend's pool); whether it is the new best (a tie keeps the old)."""
        sign = 1.0 if better(metric, 1.0, 0.0) else -1.0

        def rank(pair: tuple[Any, CvResult]) -> float:  # an undefined score ranks last
            value = sign * pair[1].cv[metric][0]
            return value if not math.isnan(value) else -math.inf

        kept = [(self.best_cfg, self.best)] if self.best is not None else []
        kept += [*self.runners_up, (cfg, result)]
        kept.sort(key=rank, reverse=True)
        (self.best_cfg, self.best), self.runners_up = kept[0], kept[1:most]
        return self.best is result

    def score(self, metric: str) -> float:
        return self.best.cv[metric][0] if self.best else math.nan

    def expected_seconds(self) -> float:
        """A full trial's expected duration: the mean of its complete ones."""
        return sum(self.durations) / len(self.durations) if self.durations else 0.0


def leader(arms: list[Arm], metric: str) -> Arm | None:
    scored = [arm for arm in arms if arm.best is not None]
    top = scored[0] if scored else None
    for arm in scored[1:]:
        if better(metric, arm.score(metric), top.score(metric)):
            top = arm
    return top


def next_arm(arms: list[Arm], budget: Budget, metric: str) -> Arm | None:
    """The family for the next trial, or None when the budget is spent: the family that has
    spent least, the leader's spending counting 1/LEADER_SHARE (ties: the cheaper family).

    A family's own strong starts come before its sampled trials (its study holds them
    queued), but families share time from the first trial on: one slow family's strong
    starts do not eat the time of the cheap ones, and the leader's run sooner."""
    top = leader(arms, metric)
    open_arms = []
    for arm in arms:
        if arm.study is None or arm.dropped:
            continue
        if not budget.affords(arm.expected_seconds()):
            if budget.timed:
                arm.dropped = "no time left for another trial"
            continue
        open_arms.append(arm)

    def share(arm: Arm) -> float:
        spent = arm.seconds if budget.timed else arm.trials
        return spent / (LEADER_SHARE if arm is top else 1.0)

    return min(open_arms, key=share, default=None)


def drop_hopeless(arms: list[Arm], metric: str, folds: int) -> None:
    """Drop a family (its strong starts done) that trails the leader beyond noise: by more
    than NOISE standard errors of the leader's fold scores; or, with strong starts still to
    run, by FAR times as much."""
    top = leader(arms, metric)
    if top is None:
        return
    mean, std = top.best.cv[metric]
    margin = NOISE * std / math.sqrt(folds)
    for arm in arms:
        if arm is top or arm.dropped or arm.best is None:
            continue
        gap = abs(arm.score(metric) - mean)
        if gap > margin * (FAR if arm.queued > 0 else 1.0):
            arm.dropped = f"dropped: {gap:.4g} behind {top.family}, beyond noise ({margin:.4g})"


PLATEAU_STEP = 0.5  # standard errors of the leader: a smaller gain is the folds' noise


@dataclass
class Plateau:
    """Whether the search has settled: `patience` trials in a row (strong starts included)
    without a new best score beyond half the leader's standard error. Smaller gains chase
    the folds' noise: they do not carry over to the test split. A table where the strong
    starts or the search still find real gains keeps searching until the budget is spent."""

    patience: int | None
    best: float | None = None
    since: int = 0

    def settled(self, arms: list[Arm], metric: str, folds: int) -> bool:
        top = leader(arms, metric)
        if top is None:
            return False
        mean, std = top.best.cv[metric]
        step = PLATEAU_STEP * std / math.sqrt(folds)
        if self.best is None or (better(metric, mean, self.best) and abs(mean - self.best) > step):
            self.best, self.since = mean, 0
            return False
        self.since += 1
        return self.patience is not None and self.since >= self.patience
