"""Optuna search for one model family: seeded TPE, median pruning across folds."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import get_scorer

from ..evaluation.metrics import cv_scorers, from_cv_score
from .crossval import sliced
from .spaces import SPACES
from .task import Setup

log = logging.getLogger(__name__)


def model_params(cfg: Any) -> dict[str, Any]:
    """A family's estimator params: its params.yaml section without the switches."""
    return cfg.model_dump(exclude={"enabled", "n_trials"})


def trial_budget(cfg: Any, search: Any) -> int:
    return cfg.n_trials or search.n_trials


def _searchable(configured: dict[str, Any], space: Any, problem: str) -> dict[str, Any]:
    """The configured params a trial of `space` can take: Optuna refuses a value outside a
    list of choices (max_depth: 10 when the search tries None, 8, 12 and 16), so such a
    value is left for the search to choose, with a note."""
    import optuna

    probe = optuna.create_study().ask()
    space(probe, problem)
    usable = dict(configured)
    for name, distribution in probe.distributions.items():
        choices = getattr(distribution, "choices", None)
        if choices is not None and name in usable and usable[name] not in choices:
            log.info("%s: %r is not among the search's choices %s", name, usable[name], choices)
            del usable[name]
    return usable


def search(setup: Setup, family: str, cfg: Any, on_trial: Any = None) -> tuple[Any, pd.DataFrame]:
    """Tune one family with Optuna (seeded TPE, median pruning across folds)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    settings = setup.cfg.search
    scorer = get_scorer(cv_scorers(setup.problem)[setup.metric])
    folds = setup.folds(setup.splitter(settings.cv_folds))
    kw = setup.fit_kw(family)
    space = SPACES[family]

    def objective(trial: optuna.Trial) -> float:
        candidate = cfg.model_copy(update=space(trial, setup.problem))
        scores = []
        for step, (fit_rows, held_rows) in enumerate(folds):
            model = clone(setup.pipeline(family, candidate))
            model.fit(setup.features.iloc[fit_rows], setup.y[fit_rows], **sliced(kw, fit_rows))
            scores.append(scorer(model, setup.features.iloc[held_rows], setup.y[held_rows]))
            trial.report(float(np.mean(scores)), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(np.mean(scores))

    budget = trial_budget(cfg, settings)
    study = optuna.create_study(
        direction="maximize",  # scikit-learn scorers are "greater is better"
        sampler=optuna.samplers.TPESampler(seed=setup.seed),
        # A small budget (a slow family) starts pruning sooner: a third of its trials in.
        pruner=optuna.pruners.MedianPruner(
            n_startup_trials=max(2, min(5, budget // 3)), n_warmup_steps=1
        ),
    )
    # The configured params are the first trial, so tuning can only improve on them.
    study.enqueue_trial(_searchable(model_params(cfg), space, setup.problem), skip_if_exists=True)
    callbacks = [lambda study, trial: on_trial()] if on_trial else []
    started = time.perf_counter()
    study.optimize(
        objective, n_trials=budget, timeout=settings.timeout_seconds,
        callbacks=callbacks, catch=(),
    )  # fmt: skip
    trials = study.trials_dataframe(attrs=("number", "value", "params", "state", "duration"))
    log.info(
        "%s: %d trials in %.0f s, best CV %s %.4f",
        family, len(study.trials), time.perf_counter() - started,
        setup.metric, from_cv_score(setup.metric, study.best_value),
    )  # fmt: skip
    return cfg.model_copy(update=study.best_params), trials
