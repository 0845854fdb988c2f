"""Tuning in several processes: this process is worker 0 and starts the others
(`python -m <package>.tune --worker N`), waits for them, and reads every family's best trial
back from the shared studies for the refit.

`train.search.workers` processes on this machine share a journal file
(`.optuna/journal.log`), or the database in `OPTUNA_STORAGE`, where workers on other machines
can join (`<package> tune --worker 2 --workers 3`, same data and params.yaml). Each worker gets
max(1, cores // workers) fold threads, so the workers together use the cores once."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import TrainParams
from ..errors import StageError
from ..parallel import fit_pool
from .budget import Budget, process_age
from .crossval import cross_validate
from .growth import FORESTS
from .leaderboard import Candidate
from .results import load_result, result_path
from .schedule import Arm
from .search import candidate, explore, failure, none_learnt
from .shared import (
    SharedTrials,
    Worker,
    fold_threads,
    shared_arms,
    study_name,
    trials_table,
    worker_budget,
)
from .storage import StorageSpec, open_storage, storage_spec
from .task import Setup

log = logging.getLogger(__name__)
PACKAGE = __name__.split(".")[0]
FOLDER = Path(".optuna")  # in the project folder, ignored by git


@dataclass(frozen=True)
class Plan:
    """A search shared by several workers: where, how many, and what they read."""

    storage: StorageSpec
    workers: int
    folder: Path  # .optuna: the journal file and the workers' saved results
    train: Path  # the training split and schema the workers read, as the train stage does
    schema: Path
    started: float  # epoch seconds when the search's clock started
    study: str | None = None  # None: named after the data and settings (shared.study_name)

    def worker(self, number: int, study: str) -> Worker:
        return Worker(study, number, self.workers, self.folder / "results", self.started)


class Quiet:
    """The progress display of a worker that is not the one in front of the user."""

    def update(self, arm: Arm) -> None:
        log.debug("%s: %d trials", arm.family, arm.trials)


def plan_for(
    cfg: TrainParams, train: Path, schema: Path, workers: int | None = None, always: bool = False
) -> Plan | None:
    """A shared search when OPTUNA_STORAGE names a database or there are several workers
    (`always`: even for one, in the journal file); None: one process, in memory."""
    workers = workers or cfg.search.workers
    spec = storage_spec(workers, FOLDER, journal=always)
    if spec is None or not cfg.search.enabled:
        return None
    return Plan(spec, workers, FOLDER, train, schema, time.time() - process_age())


def work(setup: Setup, worker: Worker, arms: list[Arm], progress: Any, refit_rows: int) -> None:
    """One worker's search on the shared studies, until its budget is spent."""
    # With ask and tell, this module records the heartbeats Optuna's optimize() would.
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
    budget = worker_budget(setup.cfg, worker, arms)
    log.info("worker %d of %d: %s on %s", worker.number, worker.workers, budget.describe(),
             worker.study)  # fmt: skip
    explore(arms, setup, budget, progress, refit_rows, fold_threads(worker.workers),
            SharedTrials(worker, arms))  # fmt: skip


def launch(plan: Plan, study: str, numbers: Iterable[int]) -> list[subprocess.Popen]:
    """Start workers as processes of their own (they inherit OPTUNA_STORAGE)."""
    command = [
        sys.executable, "-m", f"{PACKAGE}.tune", "--train", str(plan.train),
        "--schema", str(plan.schema), "--workers", str(plan.workers), "--study", study,
        "--started", repr(plan.started),
    ]  # fmt: skip
    return [subprocess.Popen([*command, "--worker", str(n)]) for n in numbers]


def wait(processes: list[subprocess.Popen]) -> None:
    """Wait for every worker; a failed one fails the search, naming its exit code."""
    codes = [process.wait() for process in processes]
    failed = [(n, code) for n, code in enumerate(codes, start=1) if code != 0]
    if failed:
        listed = ", ".join(f"worker {n} exited with {code}" for n, code in failed)
        raise StageError(f"tuning: {listed} (run again: the studies resume)")


def run_workers(
    setup: Setup, plan: Plan, storage: Any, progress: Any, refit_rows: int
) -> tuple[str, list[Arm]]:
    """Worker 0 here and the others in processes, all to the end; the studies' name and
    this process's arms."""
    study = plan.study or study_name(setup, plan.workers)
    worker = plan.worker(0, study)
    arms = shared_arms(setup, storage, worker)  # worker 0 creates the studies first
    log.info("tuning with %d workers on %s, studies %s-*", plan.workers,
             plan.storage.describe(), study)  # fmt: skip
    processes = launch(plan, study, range(1, plan.workers))
    try:
        work(setup, worker, arms, progress, refit_rows)
        wait(processes)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait()
    return study, arms


def shared_search(
    setup: Setup, budget: Budget, progress: Any, refit_rows: int, plan: Plan
) -> list[Candidate]:
    """The search in several workers; the candidates as one process would return them."""
    storage = open_storage(plan.storage)
    study, arms = run_workers(setup, plan, storage, progress, refit_rows)
    candidates = collect(setup, plan.worker(0, study), arms, refit_rows)
    log.info("shared search took %.1f s", budget.elapsed())
    return candidates


def trial_params(family: str, trial: Any) -> dict[str, Any]:
    """A trial's params as its folds used them: a forest's trees as they grew (`growth.py`)."""
    trees = trial.user_attrs.get("trees")
    return trial.params | ({"n_estimators": trees} if family in FORESTS and trees else {})


def collect(setup: Setup, worker: Worker, arms: list[Arm], refit_rows: int) -> list[Candidate]:
    """Every family's best trial over all workers, with its saved result (or its params
    cross-validated again when another machine ran it); a family nobody ran (a trial budget
    smaller than the families) gets its configured params cross-validated."""
    import optuna

    candidates = []
    with fit_pool("fold") as pool:
        for arm in arms:
            name, study = worker.family_study(arm.family), arm.study
            complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
            best = study.best_trial if complete else None
            cfg = arm.cfg.model_copy(update=trial_params(arm.family, best)) if best else arm.cfg
            result = None
            if best is not None:
                result = load_result(result_path(worker.folder, name, best.number), len(setup.y))
            if result is None:
                log.info("%s: cross-validating its best params here", arm.family)
                try:
                    result = cross_validate(setup, arm.family, cfg, pool)
                except Exception as error:  # as in a search in one process (`search._run`)
                    arm.dropped = f"failed: {failure(error)}"
                    log.warning("%s %s", arm.family, arm.dropped)
                    continue
            trials = trials_table(study)
            log.info("%s: %d trials by %d workers, best CV %s %.4f", arm.family, len(trials),
                     worker.workers, setup.metric, result.cv[setup.metric][0])  # fmt: skip
            chosen = candidate(arm.family, setup.problem, cfg, result, trials, refit_rows)
            chosen.runners_up = runners_up(setup, worker, arm, complete, refit_rows)
            candidates.append(chosen)
    if not candidates:
        raise none_learnt(arms)
    return candidates


def runners_up(
    setup: Setup, worker: Worker, arm: Arm, complete: list[Any], refit_rows: int
) -> list[Candidate]:
    """The family's next-best complete trials, for the blend's pool: those whose results a
    worker on this machine kept (another machine's answers are not here)."""
    import optuna

    if not complete:
        return []
    maximize = arm.study.direction == optuna.study.StudyDirection.MAXIMIZE
    others = [trial for trial in complete if trial.number != arm.study.best_trial.number]
    ranked = sorted(others, key=lambda trial: trial.value, reverse=maximize)
    found: list[Candidate] = []
    for trial in ranked:
        if len(found) + 1 >= setup.cfg.blend.pool():
            break
        path = result_path(worker.folder, worker.family_study(arm.family), trial.number)
        if (result := load_result(path, len(setup.y))) is not None:
            cfg = arm.cfg.model_copy(update=trial_params(arm.family, trial))
            rank = len(found) + 2
            found.append(candidate(arm.family, setup.problem, cfg, result, None, refit_rows, rank))
    return found
