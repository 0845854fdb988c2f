"""Cross-validation and Optuna search on the training split: the honest model comparison."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import get_scorer
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    TimeSeriesSplit,
    cross_validate,
)
from sklearn.utils.class_weight import compute_sample_weight

from .config import Params
from .metrics import cv_scorers, from_cv_score
from .models import SPACES, build_pipeline, fit_params

log = logging.getLogger(__name__)


@dataclass
class Setup:
    """Everything fixed across candidates: data, folds, weights, scoring."""

    features: pd.DataFrame
    y: np.ndarray
    problem: str
    numeric: list[str]
    categorical: list[str]
    metric: str
    params: Params
    log_target: bool = False
    groups: np.ndarray | None = None
    weights: np.ndarray | None = None
    cv: Any = field(init=False)

    def __post_init__(self) -> None:
        train = self.params.train
        self.cv = self.splitter(2 if train.fast else train.cv_folds)

    def splitter(self, folds: int) -> Any:
        """Folds that respect the split strategy: stratified, grouped or time-ordered."""
        seed, strategy = self.params.seed, self.params.split.strategy
        classes = self.problem != "regression"
        if classes:
            folds = max(2, min(folds, int(np.bincount(self.y).min())))
        if strategy == "time":
            return TimeSeriesSplit(folds)
        if strategy == "group":
            if classes:
                return StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
            return GroupKFold(folds)
        if classes:
            return StratifiedKFold(folds, shuffle=True, random_state=seed)
        return KFold(folds, shuffle=True, random_state=seed)

    def pipeline(self, family: str, cfg: Any) -> Any:
        return build_pipeline(
            family, cfg, self.problem, self.numeric, self.categorical,
            self.params.seed, self.params.train.fast, self.log_target,
        )  # fmt: skip

    def fit_kw(self, family: str) -> dict[str, Any]:
        return fit_params(family, self.numeric, self.categorical, self.weights)

    def folds(self, splitter: Any = None) -> list[tuple[np.ndarray, np.ndarray]]:
        return list((splitter or self.cv).split(self.features, self.y, self.groups))


def model_params(cfg: Any) -> dict[str, Any]:
    """A family's estimator params: its params.yaml section without the switches."""
    return cfg.model_dump(exclude={"enabled", "n_trials"})


def trial_budget(cfg: Any, search: Any) -> int:
    return cfg.n_trials or search.n_trials


def class_weights(y: np.ndarray, setting: str) -> np.ndarray | None:
    """Balanced sample weights when asked, or (auto) when the rarest class is under 20%."""
    shares = np.bincount(y) / len(y)
    if setting == "balanced" or (setting == "auto" and shares.min() < 0.2):
        return compute_sample_weight("balanced", y)
    return None


def _sliced(kw: dict[str, Any], rows: np.ndarray) -> dict[str, Any]:
    return {k: (v[rows] if isinstance(v, np.ndarray) else v) for k, v in kw.items()}


def cross_validated(setup: Setup, family: str, cfg: Any) -> dict[str, Any]:
    """Mean and std of every metric over the folds, with fit and prediction times."""
    scorers = cv_scorers(setup.problem)
    scores = cross_validate(
        setup.pipeline(family, cfg), setup.features, setup.y, groups=setup.groups,
        cv=setup.cv, scoring=scorers, params=setup.fit_kw(family), error_score="raise",
    )  # fmt: skip
    summary = {}
    for name in scorers:
        values = np.array([from_cv_score(name, s) for s in scores[f"test_{name}"]])
        summary[name] = (float(values.mean()), float(values.std()))
    rows_scored = len(setup.y) / setup.cv.get_n_splits()
    return {
        "cv": summary,
        "fit_seconds": float(scores["fit_time"].mean()),
        "predict_ms_per_row": float(scores["score_time"].mean() / rows_scored * 1000),
    }


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
    settings = setup.params.train.search
    scorer = get_scorer(cv_scorers(setup.problem)[setup.metric])
    folds = setup.folds(setup.splitter(settings.cv_folds))
    kw = setup.fit_kw(family)
    space = SPACES[family]

    def objective(trial: optuna.Trial) -> float:
        candidate = cfg.model_copy(update=space(trial, setup.problem))
        scores = []
        for step, (fit_rows, held_rows) in enumerate(folds):
            model = clone(setup.pipeline(family, candidate))
            model.fit(setup.features.iloc[fit_rows], setup.y[fit_rows], **_sliced(kw, fit_rows))
            scores.append(scorer(model, setup.features.iloc[held_rows], setup.y[held_rows]))
            trial.report(float(np.mean(scores)), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(np.mean(scores))

    budget = trial_budget(cfg, settings)
    study = optuna.create_study(
        direction="maximize",  # scikit-learn scorers are "greater is better"
        sampler=optuna.samplers.TPESampler(seed=setup.params.seed),
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


def out_of_fold_proba(setup: Setup, family: str, cfg: Any) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities for the training rows from models that did not see them."""
    kw = setup.fit_kw(family)
    proba, seen = None, np.zeros(len(setup.y), dtype=bool)
    for fit_rows, held_rows in setup.folds():
        model = clone(setup.pipeline(family, cfg))
        model.fit(setup.features.iloc[fit_rows], setup.y[fit_rows], **_sliced(kw, fit_rows))
        fold = model.predict_proba(setup.features.iloc[held_rows])
        if proba is None:
            proba = np.zeros((len(setup.y), fold.shape[1]))
        proba[held_rows], seen[held_rows] = fold, True
    return proba[seen], setup.y[seen]


def best_threshold(proba_positive: np.ndarray, y: np.ndarray) -> float:
    """The probability cut-off with the highest F1 for the positive class."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y, proba_positive)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1[:-1]))])
