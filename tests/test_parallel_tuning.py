"""Tuning workers share one Optuna study per family in a real PostgreSQL (a throwaway cluster
on loopback): every trial counted once, a killed worker restarted resumes its share and its
dead trial runs again, the train stage with two workers writes its usual outputs, and a wrong
password in OPTUNA_STORAGE stops it with one line and nothing written.

Works on copies of the session's trained Telco project, with the search on a small budget
(a 1,000-row tuning sample, three folds, two or four families)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import baking
import pytest
import services

TRIALS = 8
SETTINGS = {
    "train.fast": False,
    "train.cv_folds": 3,
    "train.search.n_trials": TRIALS,
    "train.search.max_rows": 1000,
    "train.search.workers": 2,
}
TWO_FAMILIES = {
    "train.models.xgboost.enabled": False,
    "train.models.random_forest.enabled": False,
    "train.models.extra_trees.enabled": False,
    "train.search.n_trials": 16,
}
ONE_FAMILY = TWO_FAMILIES | {"train.models.linear.enabled": False}  # LightGBM alone
COUNTED = ("COMPLETE", "PRUNED")


def tuning_copy(trained: Path, folder: Path, **settings: object) -> Path:
    project = Path(shutil.copytree(trained, folder / "telco", symlinks=True))
    baking.set_params(project, SETTINGS | settings)
    return project


def start_worker(project: Path, number: int, url: str) -> subprocess.Popen:
    env = baking.project_env(project) | {"OPTUNA_STORAGE": url}
    command = [sys.executable, "-m", f"{baking.package_name(project)}.tune", "--workers", "2"]
    return subprocess.Popen(
        [*command, "--worker", str(number)], cwd=project, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def finish(process: subprocess.Popen, timeout: float = 600) -> str:
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-3000:]
    return output


def studies(storage: object) -> dict[str, list]:
    """Every study's trials, read through a storage of the test's own (a URL, or one opened
    once for repeated reads)."""
    import optuna

    storage = optuna.storages.RDBStorage(storage) if isinstance(storage, str) else storage
    names = optuna.get_all_study_names(storage)
    return {name: optuna.load_study(study_name=name, storage=storage).trials for name in names}


def fresh_database(server: services.Postgres, name: str) -> str:
    """A new database with Optuna's tables made once (the workers then only use them)."""
    import optuna

    url = server.create_database(name)
    optuna.storages.RDBStorage(url)
    return url


def test_two_workers_share_one_study_per_family(trained_telco, postgres_server, tmp_path):
    project = tuning_copy(trained_telco, tmp_path, **TWO_FAMILIES)
    url = fresh_database(postgres_server, "shared")
    workers = [start_worker(project, number, url) for number in (0, 1)]
    for worker in workers:
        finish(worker)

    found = studies(url)
    assert sorted(name.rsplit("-", 1)[1] for name in found) == ["lightgbm", "linear"]
    assert len({name.rsplit("-", 1)[0] for name in found}) == 1  # one search, one name
    finished = [t for trials in found.values() for t in trials if t.state.name in COUNTED]
    assert len(finished) == 16  # the budget split, every trial counted once
    by_worker = [t.user_attrs["worker"] for t in finished]
    assert by_worker.count(0) == by_worker.count(1) == 8
    sampled = [t for t in finished if "fixed_params" not in t.system_attrs]
    assert {t.user_attrs["worker"] for t in sampled} == {0, 1}  # both sampled, not only queued
    for name, trials in found.items():
        numbers = [t.number for t in trials]
        assert numbers == list(range(len(trials))), name  # unique, no gaps
        params = [tuple(sorted(t.params.items())) for t in trials]
        assert len(params) == len(set(params)), name  # each worker samples with its own seed

    import optuna

    # The best trial is the same for both workers: read through two separate connections.
    again = optuna.storages.RDBStorage(url)
    for name in found:
        if any(t.state.name == "COMPLETE" for t in found[name]):
            mine = optuna.load_study(study_name=name, storage=url).best_trial
            theirs = optuna.load_study(study_name=name, storage=again).best_trial
            assert (mine.number, mine.value) == (theirs.number, theirs.value)


def _running_trial(trials: list, number: int):
    running = [t for t in trials if t.state.name == "RUNNING"]
    return next((t for t in running if t.user_attrs.get("worker") == number), None)


def _kill_mid_trial(project: Path, url: str) -> tuple[subprocess.Popen, int]:
    """Start both workers; SIGKILL worker 1 while it runs a trial, after two of its own and
    once the queued starts are taken (so its trial, queued again, is the next one asked)."""
    import optuna

    storage = optuna.storages.RDBStorage(url)
    workers = [start_worker(project, number, url) for number in (0, 1)]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        trials = [t for ts in studies(storage).values() for t in ts]
        done = sum(t.state.name in COUNTED and t.user_attrs.get("worker") == 1 for t in trials)
        waiting = any(t.state.name == "WAITING" for t in trials)
        if done >= 2 and not waiting and _running_trial(trials, 1) is not None:
            os.kill(workers[1].pid, signal.SIGKILL)
            workers[1].wait()
            trials = [t for ts in studies(storage).values() for t in ts]
            stale = _running_trial(trials, 1)
            if stale is not None:
                return workers[0], stale.number
            workers[1] = start_worker(project, 1, url)  # it had just finished: again
        time.sleep(0.2)
    pytest.fail("worker 1 never ran a trial to kill")


def test_a_killed_worker_restarted_resumes_and_its_trial_runs_again(
    trained_telco, postgres_server, tmp_path
):
    project = tuning_copy(trained_telco, tmp_path, **ONE_FAMILY)
    url = fresh_database(postgres_server, "killed")
    first, stale = _kill_mid_trial(project, url)
    time.sleep(25)  # the storage's grace period (20 s) without a heartbeat
    restarted = finish(start_worker(project, 1, url))
    finish(first)
    assert "worker 1 resumes" in restarted

    trials = [t for ts in studies(url).values() for t in ts]
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert len(failed) == 1 and failed[0].number == stale
    retried = [t for t in trials if t.system_attrs.get("failed_trial") is not None]
    assert len(retried) == 1 and retried[0].params == failed[0].params
    assert retried[0].state.name in COUNTED  # run again, not just queued
    finished = [t for t in trials if t.state.name in COUNTED]
    assert len(finished) == 16  # each worker ran its share of 8, once
    assert sum(t.user_attrs["worker"] == 1 for t in finished) == 8


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


TRAIN = ["--train", "data/processed/train.parquet", "--schema", "schema.yaml", "--model-dir",
         "models", "--leaderboard", "reports/leaderboard.csv"]  # fmt: skip


def test_the_train_stage_with_two_workers_writes_its_usual_outputs(
    trained_telco, postgres_server, tmp_path
):
    import pandas as pd

    project = tuning_copy(trained_telco, tmp_path)
    url = fresh_database(postgres_server, "stage")
    env = baking.project_env(project) | {"OPTUNA_STORAGE": url}
    done = baking.run(["dvc", "repro", "train"], project, env)
    assert "tuning with 2 workers" in done.stdout + done.stderr

    board = pd.read_csv(project / "reports" / "leaderboard.csv")
    singles = board[board["members"].isna()]
    families = {"linear", "lightgbm", "xgboost", "random_forest", "extra_trees"}
    assert set(singles["model"]) == families
    assert singles["trials"].sum() == TRIALS
    meta = (project / "models" / "model.json").read_text(encoding="utf-8")
    assert '"run_id"' in meta  # the MLflow runs were logged, as with one process
    assert list((project / ".optuna" / "results").glob("*/*.npz"))


def test_a_wrong_database_password_is_one_line_naming_the_variable(trained_telco, tmp_path):
    project = tuning_copy(trained_telco, tmp_path)
    before = _hashes(project / "models") | _hashes(project / "reports")
    with services.postgres(password="right-secret") as server:
        url = server.create_database("optuna").replace("right-secret", "wrong-secret")
        env = baking.project_env(project) | {"OPTUNA_STORAGE": url}
        package = baking.package_name(project)
        for command in (["train", *TRAIN], ["tune", "--workers", "2"]):
            done = baking.run(
                [sys.executable, "-m", f"{package}.{command[0]}", *command[1:]],
                project, env, check=False,
            )  # fmt: skip
            assert done.returncode == 1, done.stderr[-2000:]
            last = done.stderr.strip().splitlines()[-1]
            assert last.startswith("error: OPTUNA_STORAGE: cannot open postgresql"), last
            assert "password authentication failed" in last, last
            assert "wrong-secret" not in done.stderr + done.stdout
    assert _hashes(project / "models") | _hashes(project / "reports") == before
    assert not (project / ".optuna" / "results").exists()
