"""`{{ cookiecutter.package_name }} tune`: the search alone, in several processes sharing one
Optuna study per family (no refit; the train stage then reads the studies back).

    # 4 processes on this machine; then one of 4 (say, started on another machine):
    {{ cookiecutter.package_name }} tune --workers 4
    {{ cookiecutter.package_name }} tune --workers 4 --worker 3

The studies live in the database named by OPTUNA_STORAGE, or else in .optuna/journal.log.
Their name comes from the data, params.yaml and the training code, so a worker started
elsewhere with the same commit and data joins them, and a killed search started again resumes.
The train stage reuses them when train.search.workers is the same number.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from pathlib import Path

import pandas as pd

from .config import load_params
from .data.schema import Schema
from .errors import StageError
from .runner import run
from .training.preparation import prepare
from .training.progress import TrainingProgress
from .training.sampling import tuning_setup
from .training.shared import shared_arms, study_name
from .training.storage import open_storage
from .training.workers import Quiet, plan_for, run_workers, work

log = logging.getLogger(__name__)


def _summary(study: object, metric: str) -> str:
    trials = study.get_trials(deepcopy=False)
    complete = any(trial.state.name == "COMPLETE" for trial in trials)
    best = f"{study.best_value:.4f}" if complete else "none yet"
    return f"{len(trials)} trials, best CV {metric} {best}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=Path("data/processed/train.parquet"))
    parser.add_argument("--schema", type=Path, default=Path("schema.yaml"))
    parser.add_argument("--workers", type=int, help="default: train.search.workers")
    parser.add_argument("--worker", type=int, help="run this one worker (0 .. workers - 1)")
    parser.add_argument("--study", help="the studies' name (default: from data and settings)")
    parser.add_argument("--started", type=float, help="the search's clock (epoch seconds)")
    args = parser.parse_args()
    params = load_params()
    cfg = params.train
    plan = plan_for(cfg, args.train, args.schema, args.workers, always=True)
    if plan is None:
        raise StageError("params.yaml: train.search is off (or train.fast is on): nothing to tune")
    if args.worker is not None and not 0 <= args.worker < plan.workers:
        raise StageError(f"--worker {args.worker}: must be 0 to {plan.workers - 1} (--workers)")
    if not args.train.is_file():
        raise StageError(f"{args.train}: not found (run `dvc repro split` first)")
    frame = pd.read_parquet(args.train)
    setup, _ = prepare(frame, Schema.load(args.schema), cfg, params.data, params.split,
                       params.seed)  # fmt: skip
    tuning = tuning_setup(setup, cfg.search.max_rows)
    plan = replace(plan, study=args.study, started=args.started or plan.started)
    storage = open_storage(plan.storage)
    if args.worker is None:
        with TrainingProgress(setup.metric) as progress:
            study, arms = run_workers(tuning, plan, storage, progress, len(setup.y))
        for arm in arms:
            log.info("%s-%s: %s", study, arm.family, _summary(arm.study, setup.metric))
        return
    worker = plan.worker(args.worker, plan.study or study_name(tuning, plan.workers))
    work(tuning, worker, shared_arms(tuning, storage, worker), Quiet(), len(setup.y))


if __name__ == "__main__":
    run(main)
