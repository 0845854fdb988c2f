"""Each family's Optuna study: its sampler and pruner, its queued starts, in memory (one
tuning process) or in a shared storage (several workers, `training/workers.py`).

A study's first trials are the family's configured params (params.yaml) and its strong starts
(`portfolio.py`), queued; seeded TPE samples after them. Workers sharing a study each get a
seed of their own (the same seed would sample the same params in every worker), and only
worker 0 queues the starts (two workers queueing at once would queue them twice)."""

from __future__ import annotations

import logging
import warnings
from typing import Any

from ..evaluation.metrics import LOWER_IS_BETTER
from .portfolio import strong_starts
from .spaces import SPACES
from .task import Setup

log = logging.getLogger(__name__)
WORKER_SEEDS = 1000  # worker w samples with seed + family index + WORKER_SEEDS * w


CLASSIFYING = {"criterion"}  # the forests' split criterion: a regression splits by squared error


def model_params(cfg: Any, problem: str) -> dict[str, Any]:
    """A family's estimator params: its params.yaml section without the switch (and, for a
    regression, without the settings only a classifier reads)."""
    unused = {"enabled"} | (CLASSIFYING if problem == "regression" else set())
    return cfg.model_dump(exclude=unused)


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


def starts(setup: Setup, family: str, cfg: Any) -> list[dict[str, Any]]:
    """The trials queued first: the configured params, then the strong starts."""
    first = _searchable(model_params(cfg, setup.problem), SPACES[family], setup.problem)
    return [first, *strong_starts(family, setup.problem, len(setup.y))]


def _sampler_and_pruner(seed: int, queued: int) -> tuple[Any, Any]:
    import optuna

    with warnings.catch_warnings():  # multivariate TPE is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=seed, multivariate=True, n_startup_trials=queued + 3
        )
    return sampler, optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)


def direction(setup: Setup) -> str:
    return "minimize" if setup.metric in LOWER_IS_BETTER else "maximize"


def _waiting(study: Any) -> int:
    import optuna

    waiting = (optuna.trial.TrialState.WAITING,)
    return len(study.get_trials(deepcopy=False, states=waiting))


def memory_study(setup: Setup, family: str, cfg: Any, index: int) -> tuple[Any, int]:
    """A family's study in this process, its starts queued; and how many are queued."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    queued = starts(setup, family, cfg)
    sampler, pruner = _sampler_and_pruner(setup.seed + index, len(queued))
    study = optuna.create_study(direction=direction(setup), sampler=sampler, pruner=pruner)
    for params in queued:
        study.enqueue_trial(params, skip_if_exists=True)
    return study, _waiting(study)


def shared_study(
    setup: Setup, family: str, cfg: Any, index: int, storage: Any, name: str, worker: int
) -> tuple[Any, int]:
    """A family's study in a shared storage, created by whichever worker comes first (or
    loaded: a restarted worker resumes it); worker 0 queues the starts."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    queued = starts(setup, family, cfg)
    seed = setup.seed + index + WORKER_SEEDS * worker
    sampler, pruner = _sampler_and_pruner(seed, len(queued))
    study = optuna.create_study(
        storage=storage, study_name=name, direction=direction(setup),
        sampler=sampler, pruner=pruner, load_if_exists=True,
    )  # fmt: skip
    if worker == 0:
        for params in queued:
            study.enqueue_trial(params, skip_if_exists=True)
    return study, _waiting(study)
