"""One tuning worker's part of a shared search, and the candidates read back from the studies.

Every worker runs the same bandit (`search.explore`) on the same studies, one per family, in
a shared storage (`storage.py`): each trial Optuna samples sees every worker's trials. A trial
budget is split between the workers (worker w runs its share, counted in the storage, so a
restarted worker runs only what it has not); a time budget is one deadline for all. A worker
saves its best result of each family (`results.py`) for the process that refits."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import TrainParams
from .budget import Budget
from .crossval import CvResult
from .portfolio import by_cost
from .results import result_path, save_result
from .schedule import Arm
from .search import TrialHooks
from .storage import fail_stale, heartbeat, worker_tag
from .studies import shared_study
from .task import Setup

log = logging.getLogger(__name__)
COUNTED = ("COMPLETE", "PRUNED")  # trial states a trial budget counts (a failed one is retried)


@dataclass(frozen=True)
class Worker:
    """Who this process is in a shared search, and where the search lives."""

    study: str  # the studies' common name; a family's study is "<study>-<family>"
    number: int  # 0 .. workers - 1
    workers: int
    folder: Path  # where results are saved (.optuna/results)
    started: float  # epoch seconds when the search's clock started (a shared deadline)

    def family_study(self, family: str) -> str:
        return f"{self.study}-{family}"


def fold_threads(workers: int) -> int:
    """Folds at once in each worker: the cores shared out, at least one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // workers)


def study_name(setup: Setup, workers: int) -> str:
    """A name the same for the same tuning rows, settings, number of workers and training
    code: a restarted search, or a worker on another machine with the same data and commit,
    joins the same studies; a change to any of them starts new ones."""
    digest = hashlib.sha256()
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.read_bytes())
    digest.update(pd.util.hash_pandas_object(setup.features, index=False).to_numpy().tobytes())
    digest.update(setup.y.tobytes())
    search = setup.cfg.search.model_dump(exclude={"workers"})
    digest.update(repr((setup.cfg.model_dump(exclude={"search"}), search)).encode())
    digest.update(f"{setup.seed}:{setup.metric}:{workers}".encode())
    return f"tune-{digest.hexdigest()[:12]}"


class SharedTrials(TrialHooks):
    """The shared search's part of each trial: dead workers' trials failed and queued again
    before asking, who runs the trial and its heartbeat, the worker's best results saved."""

    first_pass_budgeted = True  # a worker's share may be smaller than the families

    def __init__(self, worker: Worker, arms: list[Arm]) -> None:
        self.worker, self.arms = worker, arms

    def before_ask(self, arm: Arm) -> None:
        for each in self.arms:  # a dead worker's trial may be in any family's study
            fail_stale(each.study)

    @contextmanager
    def running(self, arm: Arm, trial: Any) -> Iterator[None]:
        with heartbeat(arm.study, trial):  # its first beat is recorded before anything else
            trial.set_user_attr("worker", self.worker.number)
            trial.set_user_attr("process", worker_tag())
            yield

    def finished(self, arm: Arm, trial: Any, result: CvResult, best: bool) -> None:
        kept = best or any(runner is result for _, runner in arm.runners_up)  # the blend's
        if kept and trial is not None:
            name = self.worker.family_study(arm.family)
            save_result(result, result_path(self.worker.folder, name, trial.number))


def shared_arms(setup: Setup, storage: Any, worker: Worker) -> list[Arm]:
    """Every enabled family, cheap ones first, each with its shared study."""
    enabled = setup.cfg.models.enabled()
    arms = []
    for index, family in enumerate(by_cost(list(enabled))):
        name = worker.family_study(family)
        study, queued = shared_study(
            setup, family, enabled[family], index, storage, name, worker.number
        )
        arms.append(Arm(family, enabled[family], study, queued))
    return arms


def _done_by(arms: list[Arm], number: int) -> int:
    """Trials this worker has finished in the studies (before a restart, too)."""
    trials = [trial for arm in arms for trial in arm.study.get_trials(deepcopy=False)]
    return sum(t.state.name in COUNTED and t.user_attrs.get("worker") == number for t in trials)


def worker_budget(cfg: TrainParams, worker: Worker, arms: list[Arm]) -> Budget:
    """A trial budget's share of this worker, less what it ran before; or the shared deadline."""
    n = cfg.search.n_trials
    if n is None:
        age = time.time() - worker.started
        return Budget(cfg.time_budget_seconds, None, started=time.perf_counter() - age)
    share = n // worker.workers + (worker.number < n % worker.workers)
    done = _done_by(arms, worker.number)
    if done:
        log.info("worker %d resumes: %d of its %d trials done", worker.number, done, share)
    return Budget(None, max(0, share - done))


def trials_table(study: Any) -> pd.DataFrame:
    """The study's finished trials, every worker's, as the leaderboard and MLflow show them."""
    attrs = ("number", "value", "params", "state", "duration", "user_attrs")
    trials = study.trials_dataframe(attrs=attrs)
    return trials[trials["state"].isin(COUNTED)].reset_index(drop=True)
