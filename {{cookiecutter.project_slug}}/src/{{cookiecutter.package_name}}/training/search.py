"""The search: one budget for every family, spent where it pays.

1. Every family's configured params (params.yaml) are cross-validated first, cheap families
   first, always to the end: the leaderboard has every family even on a tiny budget. A
   forest grows as many trees as a trial's share of the budget allows, and a booster stops
   adding trees when its folds have run that share (`growth.py`).
2. Then each turn goes to the family that has spent least, the leader counting its spending
   half, so it gets about twice the time. A family's turns run its strong starts
   (`portfolio.py`) first, then Optuna's samples (seeded TPE, one study per family).
   A trial worse than the family's median after a fold stops there (median pruning); a family
   whose best is behind the leader by more than twice the leader's standard error, once its
   strong starts are done (or by three times that, before them), is dropped: it would need
   luck, not search, to catch up.

A bandit over families with Optuna inside each, rather than one study over everything: the
families' costs differ tenfold, and a scheduler that sees time (FLAML's idea) spends it better
than a sampler that sees only scores.
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import Executor
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pandas as pd

from ..errors import StageError
from ..parallel import FITS_AT_ONCE, fit_pool
from .bagging import averages_folds
from .budget import Budget
from .crossval import CvResult, cross_validate
from .folds import STOPPING
from .leaderboard import Candidate
from .portfolio import by_cost
from .progress import TrainingProgress
from .schedule import Arm, Plateau, drop_hopeless, next_arm
from .spaces import SPACES
from .studies import memory_study, model_params
from .task import Setup

log = logging.getLogger(__name__)
MAX_TREES_GROWTH = 1.25  # the refit learns from more rows than a fold: a few more trees


class OutOfTime(Exception):
    """The time budget ran out during a trial."""


class TrialHooks:
    """What a search shared with other workers adds around each trial (`workers.py`); in one
    process, nothing."""

    first_pass_budgeted = False  # whether the budget may end the first trial of each family

    def before_ask(self, arm: Arm) -> None:
        """Before a family's next trial (a shared search fails dead workers' trials here)."""

    def running(self, arm: Arm, trial: Any) -> AbstractContextManager[None]:
        """Around a trial's folds (a shared search records its heartbeat)."""
        return nullcontext()

    def finished(self, arm: Arm, trial: Any, result: CvResult, best: bool) -> None:
        """After a complete trial; `best`: the family's best of this process so far."""


def _reporter(trial: Any, budget: Budget, first: bool) -> Any:
    import optuna

    def report(step: int, value: float) -> None:
        trial.report(value, step)
        if first:
            return  # a family's first trial always finishes: the leaderboard needs it
        if trial.should_prune():
            raise optuna.TrialPruned()
        if budget.overrun():
            raise OutOfTime

    return report


def _run(
    arm: Arm, setup: Setup, pool: Executor, budget: Budget, hooks: TrialHooks, waves: int
) -> str:
    """One trial of one family; the arm keeps its best. How it ended: complete, pruned, or
    out of time, or failed. `waves`: folds one after another in each of the pool's threads."""
    trial, cfg, report, stops = None, arm.cfg, None, (OutOfTime,)
    if arm.study is not None:
        import optuna

        hooks.before_ask(arm)
        trial = arm.study.ask()
        report = _reporter(trial, budget, first=arm.trials == 0)
        stops = (OutOfTime, optuna.TrialPruned)
    started, allowed = budget.elapsed(), budget.trial_seconds()
    fold_seconds = None if allowed is None else allowed / waves
    try:
        with hooks.running(arm, trial):  # sampled inside: a shared trial beats from here on
            if trial is not None:
                cfg = cfg.model_copy(update=SPACES[arm.family](trial, setup.problem))
            result = cross_validate(setup, arm.family, cfg, pool, report, fold_seconds)
        ended = "complete"
    except stops as stop:
        arm.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        ended = "out of time" if isinstance(stop, OutOfTime) else "pruned"
    except Exception as error:  # this family cannot learn this table: the others go on
        if trial is not None:
            arm.study.tell(trial, state=optuna.trial.TrialState.FAIL)
        arm.dropped = f"failed: {failure(error)}"
        log.warning("%s %s", arm.family, arm.dropped, exc_info=log.isEnabledFor(logging.DEBUG))
        ended = "failed"
    arm.spent(budget.elapsed() - started, pruned=ended in ("pruned", "out of time"))
    budget.used += 1
    if ended != "complete":
        return ended
    value = result.cv[setup.metric][0]
    if trial is not None:
        trial.set_user_attr("trees", result.trees)
        arm.study.tell(trial, value)
    best = arm.keep(cfg, result, setup.metric, setup.cfg.blend.pool())
    hooks.finished(arm, trial, result, best)
    return "complete"


def refit_estimate(arms: list[Arm], setup: Setup, refit_rows: int) -> float:
    """Seconds the refits should take, two at a time: every family on the rows it was tuned
    on (a fold-averaged one once per fold, each on all but one fold: `bagging.py`), and the
    champion (or a blend's members), not known yet, on every row: the costliest families at
    worst. Two at a time, they take half their sum, or the longest refit if it is longer
    (on storms, a linear classifier's five fold fits took 14.7 s of 25 s of refits)."""
    tuned, folds = len(setup.y), setup.cv.get_n_splits()
    sampled = refit_rows > tuned
    per_row, seconds = [], []
    for arm in (arm for arm in arms if arm.best):
        per_row.append(arm.best.fit_seconds / arm.best.fit_rows)
        fits = folds - 1 if averages_folds(arm.family, setup, sampled) else 1
        seconds.append(per_row[-1] * tuned * fits)
    served = setup.cfg.blend.max_members if setup.cfg.blend.enabled else 1
    costliest = sorted(per_row)[-served:]
    whole = [cost * refit_rows for cost in costliest]
    extra = sum(whole) - sum(costliest) * tuned
    return max((sum(seconds) + extra) / 2, *seconds, *whole, 0.0)


def memory_arms(setup: Setup, budget: Budget) -> list[Arm]:
    """Every enabled family, cheap ones first, each with a study in this process."""
    enabled = setup.cfg.models.enabled()
    arms = []
    for index, family in enumerate(by_cost(list(enabled))):
        study, queued = (None, 1)
        if budget.trials != 0 and family in SPACES:
            study, queued = memory_study(setup, family, enabled[family], index)
        arms.append(Arm(family, enabled[family], study, queued))
    return arms


def explore(
    arms: list[Arm], setup: Setup, budget: Budget, progress: Any, refit_rows: int,
    threads: int = FITS_AT_ONCE, hooks: TrialHooks | None = None,
) -> None:  # fmt: skip
    """The bandit: every family's first trial, then turns to the family that has spent least
    until the budget is spent (or, on a time budget, the search settles)."""
    hooks = hooks or TrialHooks()
    folds = setup.cv.get_n_splits()
    waves = math.ceil(folds / threads)
    with fit_pool("fold", threads) as pool:
        for arm in arms:  # the configured params of every family, to the end
            if hooks.first_pass_budgeted and not budget.affords(0.0):
                break
            _run(arm, setup, pool, budget, hooks, waves)
            budget.reserve = refit_estimate(arms, setup, refit_rows)
            progress.update(arm)
        # On a time budget the search may also settle early; a trial budget runs in full.
        plateau = Plateau(setup.cfg.search.patience if budget.timed else None)
        plateau.settled(arms, setup.metric, folds)
        if any(arm.study is not None for arm in arms):  # a search follows
            drop_hopeless(arms, setup.metric, folds)
        while (arm := next_arm(arms, budget, setup.metric)) is not None:
            if _run(arm, setup, pool, budget, hooks, waves) == "out of time":
                break
            budget.reserve = refit_estimate(arms, setup, refit_rows)
            drop_hopeless(arms, setup.metric, folds)
            progress.update(arm)
            if plateau.settled(arms, setup.metric, folds):
                log.info("search settled: %d trials without a better score", plateau.since)
                break


def search(
    setup: Setup, budget: Budget, progress: TrainingProgress, refit_rows: int
) -> list[Candidate]:
    """Cross-validate every enabled family and, within the budget, tune them (one process)."""
    arms = memory_arms(setup, budget)
    explore(arms, setup, budget, progress, refit_rows)
    return [_candidate(arm, setup, refit_rows) for arm in learnt(arms)]


def failure(error: Exception) -> str:
    """An error in a line: its kind and its message's first line."""
    message = str(error).strip().splitlines()
    return type(error).__name__ + (f": {message[0]}" if message else "")


def learnt(arms: list[Arm]) -> list[Arm]:
    """The families with a complete trial; a StageError naming each failure when none has."""
    done = [arm for arm in arms if arm.best is not None]
    if not done:
        raise none_learnt(arms)
    return done


def none_learnt(arms: list[Arm]) -> StageError:
    """The error of a search in which every family failed: each family's error."""
    failures = "; ".join(f"{arm.family} {arm.dropped}" for arm in arms)
    return StageError(f"no model family could learn this table: {failures}")


def _candidate(arm: Arm, setup: Setup, refit_rows: int) -> Candidate:
    log.info(
        "%s: %d trials (%d stopped early) in %.1f s, best CV %s %.4f%s",
        arm.family, arm.trials, arm.pruned, arm.seconds, setup.metric,
        arm.best.cv[setup.metric][0], f"; {arm.dropped}" if arm.dropped else "",
    )  # fmt: skip
    trials = None
    if arm.study is not None:
        trials = arm.study.trials_dataframe(
            attrs=("number", "value", "params", "state", "duration", "user_attrs")
        )
        trials = trials[trials["state"] != "WAITING"].reset_index(drop=True)
    best = candidate(arm.family, setup.problem, arm.best_cfg, arm.best, trials, refit_rows)
    best.runners_up = [
        candidate(arm.family, setup.problem, cfg, result, None, refit_rows, rank)
        for rank, (cfg, result) in enumerate(arm.runners_up, start=2)
    ]
    return best


def candidate(
    family: str, problem: str, cfg: Any, result: CvResult, trials: pd.DataFrame | None,
    refit_rows: int, rank: int = 1,
) -> Candidate:  # fmt: skip
    """A family's candidate from one trial (`rank` 1: its best): its params (the boosters'
    trees as the folds chose them, a few more for the refit's extra rows; a forest's as its
    folds grew them), its CV result and the family's trials."""
    config = model_params(cfg, problem)
    if result.trees is not None:  # a forest keeps the trees it grew; a booster gets a few more
        growth = min(refit_rows / result.fit_rows, MAX_TREES_GROWTH) if family in STOPPING else 1
        config["n_estimators"] = math.ceil(result.trees * growth)
    return Candidate(
        family, config, result.cv, result.fit_seconds, result.predict_ms_per_row,
        trials=trials, oof=result.oof, rank=rank,
    )  # fmt: skip
