"""A search shared by several workers through Optuna's journal file: the trial budget split
between them, every trial counted once, each family's best read back for the refit, a
restarted worker resuming its share, a dead worker's trial failed and queued again, and the
storage chosen from OPTUNA_STORAGE without showing its password. (Several processes and a
real PostgreSQL are the template's own tests.)"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.errors import StageError
from {{ cookiecutter.package_name }}.training.crossval import CvResult, OutOfFold
from {{ cookiecutter.package_name }}.training.preparation import prepare
from {{ cookiecutter.package_name }}.training.results import load_result, save_result
from {{ cookiecutter.package_name }}.training.sampling import tuning_setup
from {{ cookiecutter.package_name }}.training.shared import Worker, shared_arms
from {{ cookiecutter.package_name }}.training.storage import (
    ENV,
    StorageSpec,
    fail_stale,
    open_storage,
    storage_spec,
)
from {{ cookiecutter.package_name }}.training.workers import Quiet, collect, work

TRIALS = 6


@pytest.fixture
def tuning(splits, schema, params):
    search = params.train.search.model_copy(update={"enabled": True, "n_trials": TRIALS})
    cfg = params.train.model_copy(update={"search": search})
    setup, _ = prepare(splits[0], schema, cfg, params.data, params.split, params.seed)
    return tuning_setup(setup, cfg.search.max_rows)


def _worker(tmp_path, number: int) -> Worker:
    return Worker("test", number, 2, tmp_path / "results", started=0.0)


def _trials(arms):
    return [trial for arm in arms for trial in arm.study.get_trials(deepcopy=False)]


def test_two_workers_share_the_budget_and_the_refit_gets_each_family_s_best(tuning, tmp_path):
    storage = open_storage(StorageSpec(journal=tmp_path / "journal.log"))
    for number in (0, 1):  # one after the other: the studies are what they share
        worker = _worker(tmp_path, number)
        work(tuning, worker, shared_arms(tuning, storage, worker), Quiet(), len(tuning.y))
    arms = shared_arms(tuning, storage, _worker(tmp_path, 0))
    finished = [t for t in _trials(arms) if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(finished) == TRIALS
    assert sorted(t.user_attrs["worker"] for t in finished) == [0, 0, 0, 1, 1, 1]
    for arm in arms:
        numbers = [t.number for t in arm.study.get_trials(deepcopy=False)]
        assert len(numbers) == len(set(numbers))

    candidates = collect(tuning, _worker(tmp_path, 0), arms, len(tuning.y))
    assert [c.family for c in candidates] == [arm.family for arm in arms]
    for candidate, arm in zip(candidates, arms, strict=True):
        complete = [t for t in arm.study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
        if complete:
            assert candidate.cv[tuning.metric][0] == arm.study.best_value, arm.family
        assert candidate.oof is not None and len(candidate.oof.rows) == len(candidate.oof.output)
        # The next-best complete trials, every worker's, follow it into the blend's pool.
        values = sorted(t.value for t in complete)
        if arm.study.direction.name == "MAXIMIZE":
            values.reverse()
        runners = candidate.runners_up
        assert [r.cv[tuning.metric][0] for r in runners] == values[1 : tuning.cfg.blend.pool()]
        assert [r.rank for r in runners] == list(range(2, len(runners) + 2))
    assert any(candidate.runners_up for candidate in candidates)

    again = _worker(tmp_path, 1)  # a restarted worker whose share is done runs nothing
    work(tuning, again, shared_arms(tuning, storage, again), Quiet(), len(tuning.y))
    assert len([t for t in _trials(arms) if t.state.name in ("COMPLETE", "PRUNED")]) == TRIALS


def test_a_dead_worker_s_running_trial_is_failed_and_queued_again(tmp_path):
    import optuna

    storage = open_storage(StorageSpec(journal=tmp_path / "journal.log"))
    study = optuna.create_study(storage=storage, study_name="stale")
    trial = study.ask()
    trial.suggest_float("x", 0.0, 1.0)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    import socket

    trial.set_user_attr("process", f"{socket.gethostname()}:{gone.stdout.strip()}")
    fail_stale(study)
    states = [t.state.name for t in study.get_trials()]
    assert states == ["FAIL", "WAITING"]
    retry = study.get_trials()[1]
    assert retry.params == study.get_trials()[0].params
    assert retry.system_attrs["failed_trial"] == 0
    fail_stale(study)  # a trial already failed is not queued twice
    assert len(study.get_trials()) == 2


def test_a_saved_result_reads_back_the_same_and_a_foreign_one_is_refused(tmp_path):
    oof = OutOfFold(np.arange(6), np.random.default_rng(0).random((6, 2)), np.repeat([0, 1], 3))
    result = CvResult({"roc_auc": (0.8, 0.01), "log_loss": (0.4, 0.02)}, oof, 120, 3.0, 0.5, 0.01)
    path = tmp_path / "study" / "3.npz"
    save_result(result, path)
    back = load_result(path, rows=6)
    assert back is not None
    assert back.cv == result.cv and list(back.cv) == list(result.cv)
    assert (back.trees, back.fit_rows, back.fit_seconds) == (120, 3.0, 0.5)
    np.testing.assert_array_equal(back.oof.output, oof.output)
    assert load_result(path, rows=4) is None  # made on other rows
    assert load_result(tmp_path / "missing.npz", rows=6) is None


def test_the_storage_comes_from_the_environment_and_hides_its_password(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert storage_spec(1, tmp_path) is None  # one worker, no database: in memory, as before
    assert storage_spec(2, tmp_path) == StorageSpec(journal=tmp_path / "journal.log")
    monkeypatch.setenv(ENV, "postgresql+psycopg2://optuna:s3cret@127.0.0.1:9/optuna")
    spec = storage_spec(1, tmp_path)
    assert spec.url.endswith("/optuna")
    assert "s3cret" not in spec.describe() and "optuna:***@127.0.0.1" in spec.describe()


def test_a_database_that_cannot_be_opened_is_one_line_naming_the_variable(tmp_path):
    spec = StorageSpec(url=f"sqlite:///{tmp_path}/no/such/folder/optuna.db")
    with pytest.raises(StageError) as raised:
        open_storage(spec)
    message = str(raised.value)
    assert message.startswith(f"{ENV}: cannot open sqlite:///") and "\n" not in message
