"""Training's core: compare the families by cross-validation and refit the champion."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from ..config import DataParams, ProjectParams, SplitParams, TrainParams
from ..data.schema import Schema
from ..data.typical import typical_record
from ..files import atomic_write
from ..parallel import fit_pool
from ..serving.metadata import CvScore, FeatureLists, ModelMeta, ProjectInfo
from ..serving.predictor import Predictor
from ..serving.temperature import tempered
from ..tracking.runs import git_commit
from .bagging import averaged_fits, averages_folds, fold_means
from .blend import blended
from .budget import Budget
from .calibration import Calibration, calibrate
from .crossval import best_threshold
from .families import bounded_forest
from .leaderboard import Candidate, champion_of
from .preparation import prepare
from .progress import TrainingProgress
from .sampling import tuning_setup
from .search import search
from .task import Setup
from .voting import voting
from .workers import Plan, shared_search

log = logging.getLogger(__name__)


def calibration(tuning: Setup, best: Candidate) -> Calibration | None:
    """Classification: the champion's temperature (and class shift, when class weights
    trained it), unless train.calibration is none."""
    if tuning.problem == "regression" or tuning.cfg.calibration == "none":
        return None
    found = calibrate(best.oof, tuning.y[best.oof.rows], shift=tuning.weights is not None)
    log.info("probabilities: %s", found.describe())
    return found


def decision_threshold(
    tuning: Setup, best: Candidate, calibrated: Calibration | None
) -> float | None:
    """Binary problems: the configured cut-off, or (auto) the best F1 on the champion's
    out-of-fold answers from the search, calibrated as the service will calibrate them."""
    if tuning.problem != "binary":
        return None
    if tuning.cfg.decision_threshold != "auto":
        return tuning.cfg.decision_threshold
    proba = best.oof.output
    if calibrated is not None:
        proba = tempered(proba, calibrated.temperature, calibrated.shift)
    return best_threshold(proba[:, 1], tuning.y[best.oof.rows])


def refitted(setup: Setup, tuning: Setup, candidates: list[Candidate], best: Candidate) -> None:
    """The candidates' pipelines, as tuned, fitted again (two at a time, one thread each): the
    champion (a blend: its members, runners-up included) on the whole training split; the
    others on the rows they were tuned on, which is the whole split too unless the search
    worked on a sample. On a large table that spares refitting models nobody serves on every
    row. A linear classifier is fitted once per fold and answers with their mean
    (`bagging.py`), unless the search worked on a sample."""
    served = best.served()
    runners = [r for c in candidates for r in c.runners_up if r.name in served]
    sampled = len(tuning.y) < len(setup.y)

    def fit(candidate: Candidate) -> Any:
        rows = setup if candidate.name in served else tuning
        family = candidate.family
        cfg = getattr(setup.cfg.models, family).model_copy(update=candidate.config)
        candidate.refit_rows = len(rows.y)
        averages = averages_folds(family, rows, sampled)
        averaged = averaged_fits(rows, family, cfg) if averages else None
        if averaged is not None:
            return averaged
        pipeline = bounded_forest(rows.pipeline(family, cfg), len(tuning.y), len(rows.y))
        return pipeline.fit(rows.features, rows.y, **rows.fit_kw(family))

    fitting = [*candidates, *runners]
    with fit_pool("refit") as pool:
        for candidate, pipeline in zip(fitting, pool.map(fit, fitting), strict=True):
            candidate.pipeline = pipeline


def champion_pipeline(
    best: Candidate, candidates: list[Candidate], classes: list[Any] | None
) -> Any:
    """The champion's fitted pipeline, taken from its candidate (saved as the model, not again
    as a candidate); for a blend, its members' pipelines in one estimator."""
    if best.blend is None:
        pipeline, best.pipeline = best.pipeline, None
        return pipeline
    trials = [trial for c in candidates for trial in (c, *c.runners_up)]
    fitted = {trial.name: trial.pipeline for trial in trials if trial.pipeline is not None}
    weights = best.blend.weights
    members = [(name, fitted[name]) for name in weights]
    return voting(members, list(weights.values()), None if classes is None else len(classes))


def failed_families(cfg: TrainParams, candidates: list[Candidate]) -> list[str]:
    """The enabled families without a candidate: every fit of theirs failed on this table."""
    learnt = {candidate.family for candidate in candidates}
    return [name for name in cfg.models.enabled() if name not in learnt]


def train(
    frame: pd.DataFrame,
    schema: Schema,
    cfg: TrainParams,
    data: DataParams,
    split: SplitParams,
    seed: int,
    project: ProjectParams,
    plan: Plan | None = None,
) -> tuple[Predictor, list[Candidate]]:
    """Search the families on one budget (`plan`: in several workers), refit every candidate
    on the whole training split; the champion is the best by CV, or the blend of the best
    when it beats that beyond noise."""
    budget = Budget.of(cfg)
    setup, classes = prepare(frame, schema, cfg, data, split, seed)
    tuning = tuning_setup(setup, cfg.search.max_rows)
    log.info("search: %s, %d-fold CV, %d rows", budget.describe(), cfg.cv_folds, len(tuning.y))
    with TrainingProgress(setup.metric) as progress:
        if plan is None:
            candidates = search(tuning, budget, progress, refit_rows=len(setup.y))
        else:
            candidates = shared_search(tuning, budget, progress, len(setup.y), plan)
    best = champion_of(candidates, setup.metric)
    log.info("best single: %s (CV %s %.4f)", best.family, setup.metric, best.cv[setup.metric][0])
    started = time.perf_counter()
    blend, kept = blended(tuning, candidates, best, cfg.blend)
    if blend is not None:
        verdict, seconds = blend.blend.verdict(setup.metric), time.perf_counter() - started
        log.info("blend (%s) in %.1f s: %s", blend.blend.members(), seconds, verdict)
    best = blend if kept else best
    calibrated = calibration(tuning, best)
    threshold = decision_threshold(tuning, best, calibrated)
    started = time.perf_counter()
    refitted(setup, tuning, candidates, best)
    averaged = fold_means(best, candidates)
    pipeline = champion_pipeline(best, candidates, classes)
    if blend is not None:
        blend.refit_rows = len(setup.y) if kept else 0  # not kept: not fitted
        candidates.append(blend)
    log.info("search and refits took %.1f s (%s)", budget.elapsed(), budget.describe())
    meta = ModelMeta(
        project=ProjectInfo(**project.model_dump()),
        champion=best.family,
        problem_type=setup.problem,
        target=schema.target,
        classes=classes,
        positive_class=classes[-1] if classes and len(classes) == 2 else None,
        threshold=threshold,
        temperature=calibrated.temperature if calibrated else None,
        class_shift=list(calibrated.shift) if calibrated and calibrated.shift else None,
        class_weight="balanced" if setup.weights is not None else "none",
        target_transform="log" if setup.log_target else "none",
        primary_metric=setup.metric,
        cv={m: CvScore(mean=mean, std=std) for m, (mean, std) in best.cv.items()},
        model_params=best.config,
        fold_means=averaged,
        failed_families=failed_families(cfg, candidates),
        features=FeatureLists(numeric=setup.numeric, categorical=setup.categorical),
        train_rows=len(frame),
        refit_seconds=round(time.perf_counter() - started, 3),
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        git_commit=git_commit(),
        table_schema=schema,
        example=typical_record(frame, schema),
    )
    return Predictor(pipeline=pipeline, meta=meta), candidates


def save_candidates(candidates: list[Candidate], folder: Path) -> None:
    """Every other family's fitted pipeline, for the evaluation report's comparisons."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.joblib"):
        stale.unlink()
    for candidate in candidates:
        if candidate.pipeline is not None:
            path = folder / f"{candidate.family}.joblib"
            atomic_write(path, lambda tmp, c=candidate: joblib.dump(c.pipeline, tmp))
