"""The search: one budget for every family, spent where it pays.

1. Every family's configured params (params.yaml) are cross-validated first, cheap families
   first, always to the end: the leaderboard has every family even on a tiny budget.
2. Then each turn goes to the family that has spent least, the leader counting its spending
   half, so it gets about twice the time. A family's turns run its strong starts
   (`portfolio.py`) first, then Optuna's samples (seeded TPE, one study per family).
   A trial worse than the family's median after a fold stops there (median pruning); a family
   whose best is behind the leader by more than twice the leader's standard error, once its
   strong starts are done, is dropped: it would need luck, not search, to catch up.

A bandit over families with Optuna inside each, rather than one study over everything: the
families' costs differ tenfold, and a scheduler that sees time (FLAML's idea) spends it better
than a sampler that sees only scores.
"""

from __future__ import annotations

import logging
import math
import warnings
from concurrent.futures import Executor
from typing import Any

from ..evaluation.metrics import LOWER_IS_BETTER, better
from .budget import Budget
from .crossval import CvResult, cross_validate
from .leaderboard import Candidate
from .portfolio import by_cost, strong_starts
from .progress import TrainingProgress
from .schedule import Arm, Plateau, drop_hopeless, next_arm
from .spaces import SPACES
from .task import Setup

log = logging.getLogger(__name__)
MAX_TREES_GROWTH = 1.25  # the refit learns from more rows than a fold: a few more trees


class OutOfTime(Exception):
    """The time budget ran out during a trial."""


def model_params(cfg: Any) -> dict[str, Any]:
    """A family's estimator params: its params.yaml section without the switch."""
    return cfg.model_dump(exclude={"enabled"})


def _searchable(configured: dict[str, Any], space: Any, problem: str) -> dict[str, Any]:
    """The configured params a trial of `space` can take: Optuna refuses a value outside a
    list of choices (max_depth: 10 when the search tries None, 8, 12 and 16), so such a
    value is left for the search to choose, with a note."""
    import optuna

    probe = optuna.create_study().ask()
    space(probe, problem)
    usable = {name: value for name, value in configured.items() if name in probe.distributions}
    for name, distribution in probe.distributions.items():
        choices = getattr(distribution, "choices", None)
        if choices is not None and name in usable and usable[name] not in choices:
            log.info("%s: %r is not among the search's choices %s", name, usable[name], choices)
            del usable[name]
    return usable


def _study(setup: Setup, family: str, cfg: Any, index: int) -> tuple[Any, int]:
    """A family's study with its configured params and strong starts queued; and how many."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = SPACES[family]
    starts = [_searchable(model_params(cfg), space, setup.problem)]
    starts += strong_starts(family, setup.problem)
    with warnings.catch_warnings():  # multivariate TPE is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=setup.seed + index, multivariate=True, n_startup_trials=len(starts) + 3
        )
    study = optuna.create_study(
        direction="minimize" if setup.metric in LOWER_IS_BETTER else "maximize",
        sampler=sampler,
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
    )
    for params in starts:
        study.enqueue_trial(params, skip_if_exists=True)
    waiting = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,))
    return study, len(waiting)


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


def _run(arm: Arm, setup: Setup, pool: Executor, budget: Budget) -> str:
    """One trial of one family; the arm keeps its best. How it ended: complete, pruned, or
    out of time."""
    trial, cfg, report, stops = None, arm.cfg, None, (OutOfTime,)
    if arm.study is not None:
        import optuna

        trial = arm.study.ask()
        cfg = cfg.model_copy(update=SPACES[arm.family](trial, setup.problem))
        report = _reporter(trial, budget, first=arm.trials == 0)
        stops = (OutOfTime, optuna.TrialPruned)
    started = budget.elapsed()
    try:
        result = cross_validate(setup, arm.family, cfg, pool, report)
    except stops as stop:
        arm.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        arm.spent(budget.elapsed() - started, pruned=True)
        budget.used += 1
        return "out of time" if isinstance(stop, OutOfTime) else "pruned"
    arm.spent(budget.elapsed() - started, pruned=False)
    budget.used += 1
    value = result.cv[setup.metric][0]
    if trial is not None:
        trial.set_user_attr("trees", result.trees)
        arm.study.tell(trial, value)
    if arm.best is None or better(setup.metric, value, arm.score(setup.metric)):
        arm.best, arm.best_cfg = result, cfg
    return "complete"


def _refit_estimate(arms: list[Arm], setup: Setup, refit_rows: int) -> float:
    """Seconds the refits should take, two at a time: every family on the rows it was tuned
    on, and the champion (or a blend's members), not known yet, on the rest of the rows: the
    costliest families at worst."""
    costs = sorted(arm.best.fit_seconds / arm.best.fit_rows for arm in arms if arm.best)
    tuned = len(setup.y)
    served = setup.cfg.blend.max_members if setup.cfg.blend.enabled else 1
    extra = sum(costs[-served:]) * max(0, refit_rows - tuned)
    return (sum(costs) * tuned + extra) / 2


def search(
    setup: Setup, budget: Budget, progress: TrainingProgress, refit_rows: int
) -> list[Candidate]:
    """Cross-validate every enabled family and, within the budget, tune them."""
    from concurrent.futures import ThreadPoolExecutor

    families = by_cost(list(setup.cfg.models.enabled()))
    enabled = setup.cfg.models.enabled()
    arms = []
    for index, family in enumerate(families):
        study, queued = (None, 1)
        if budget.trials != 0 and family in SPACES:
            study, queued = _study(setup, family, enabled[family], index)
        arms.append(Arm(family, enabled[family], study, queued))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="fold") as pool:
        for arm in arms:  # the configured params of every family, to the end
            _run(arm, setup, pool, budget)
            budget.reserve = _refit_estimate(arms, setup, refit_rows)
            progress.update(arm)
        # On a time budget the search may also settle early; a trial budget runs in full.
        plateau = Plateau(setup.cfg.search.patience if budget.timed else None)
        folds = setup.cv.get_n_splits()
        plateau.settled(arms, setup.metric, folds)
        while (arm := next_arm(arms, budget, setup.metric)) is not None:
            if _run(arm, setup, pool, budget) == "out of time":
                break
            budget.reserve = _refit_estimate(arms, setup, refit_rows)
            drop_hopeless(arms, setup.metric, folds)
            progress.update(arm)
            if plateau.settled(arms, setup.metric, folds):
                log.info("search settled: %d trials without a better score", plateau.since)
                break
    return [_candidate(arm, setup, refit_rows) for arm in arms]


def _candidate(arm: Arm, setup: Setup, refit_rows: int) -> Candidate:
    best: CvResult = arm.best
    config = model_params(arm.best_cfg)
    if best.trees is not None:
        growth = min(refit_rows / best.fit_rows, MAX_TREES_GROWTH)
        config["n_estimators"] = math.ceil(best.trees * growth)
    log.info(
        "%s: %d trials (%d stopped early) in %.1f s, best CV %s %.4f%s",
        arm.family, arm.trials, arm.pruned, arm.seconds, setup.metric,
        best.cv[setup.metric][0], f"; {arm.dropped}" if arm.dropped else "",
    )  # fmt: skip
    trials = None
    if arm.study is not None:
        trials = arm.study.trials_dataframe(
            attrs=("number", "value", "params", "state", "duration", "user_attrs")
        )
        trials = trials[trials["state"] != "WAITING"].reset_index(drop=True)
    return Candidate(
        arm.family, config, best.cv, best.fit_seconds, best.predict_ms_per_row,
        trials=trials, oof=best.oof,
    )  # fmt: skip
