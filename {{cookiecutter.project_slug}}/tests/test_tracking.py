"""MLflow: the champion logged as a pyfunc answers as the service does; a tracking store that
does not answer stops a stage in one line; a failed alias leaves no registered version."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from {{ cookiecutter.package_name }}.errors import StageError
from {{ cookiecutter.package_name }}.evaluation.direction import better
from {{ cookiecutter.package_name }}.serving.artifacts import MODEL_FILE
from {{ cookiecutter.package_name }}.serving.predictor import Predictor
from {{ cookiecutter.package_name }}.tracking import registry
from {{ cookiecutter.package_name }}.tracking.champion import log_champion
from {{ cookiecutter.package_name }}.tracking.process import TrackingProcess
from {{ cookiecutter.package_name }}.tracking.runs import Training, setup_mlflow
from {{ cookiecutter.package_name }}.tracking.server import preflight
from {{ cookiecutter.package_name }}.training.leaderboard import Candidate


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def store(tmp_path, monkeypatch) -> str:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    setup_mlflow("tests")
    return uri


def test_an_unreachable_tracking_server_is_one_line_naming_the_setting():
    uri = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(StageError, match=r"MLFLOW_TRACKING_URI=http://127\.0\.0\.1") as error:
        preflight(uri)
    assert "no MLflow tracking server answers" in str(error.value)
    assert "\n" not in str(error.value)


def test_a_database_that_does_not_open_is_named_without_its_password():
    uri = f"postgresql://mlflow:s3cret@127.0.0.1:{closed_port()}/mlflow"
    with pytest.raises(StageError, match="MLFLOW_TRACKING_URI=postgresql://mlflow:\\*\\*\\*@"):
        preflight(uri)
    with pytest.raises(StageError) as error:
        preflight(uri)
    assert "s3cret" not in str(error.value) and "\n" not in str(error.value)


def _training(splits, tmp_path) -> Training:
    """What the train stage hands its tracking process: two candidates, their board."""
    source = tmp_path / "train.parquet"
    splits[0].to_parquet(source)
    trials = pd.DataFrame({"number": [0, 1], "value": [0.8, 0.82]})
    candidates = [
        Candidate("linear", {"C": 1.0}, {"roc_auc": (0.8, 0.01)}, 0.1, 0.01, trials=trials),
        Candidate("xgboost", {"max_depth": 4}, {"roc_auc": (0.82, 0.02)}, 0.5, 0.02),
    ]
    board = pd.DataFrame({"model": ["xgboost", "linear"], "roc_auc_mean": [0.82, 0.8]})
    settings = {"seed": 1, "train": {"cv_folds": 5}}
    return Training(settings, splits[0], candidates, "xgboost", board, source)


def test_the_train_stage_logs_its_runs_from_a_process_of_its_own(splits, store, tmp_path):
    with TrackingProcess("tests") as tracking:
        tracked = tracking.log_training(_training(splits, tmp_path))
    client = MlflowClient()
    parent, champion = client.get_run(tracked.parent_run_id), client.get_run(tracked.run_id)
    assert parent.data.params["train.cv_folds"] == "5"
    assert champion.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert champion.data.tags["champion"] == "true" and champion.info.run_name == "xgboost"
    assert champion.data.metrics["cv_roc_auc"] == 0.82


def test_a_tracking_process_that_cannot_log_fails_the_stage_in_one_line(
    splits, tmp_path, monkeypatch
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{closed_port()}")
    failing = pytest.raises(StageError, match="MLFLOW_TRACKING_URI=http")
    with failing as error, TrackingProcess("tests") as tracking:
        tracking.log_training(_training(splits, tmp_path))
    assert "\n" not in str(error.value)


def test_the_logged_champion_answers_as_the_predictor(served_dir, splits, store, tmp_path):
    predictor = Predictor.load(served_dir, runtime="auto")
    with mlflow.start_run():
        logged = log_champion(served_dir, splits[1])
    assert logged.runtime == "onnx"
    local = Path(mlflow.artifacts.download_artifacts(logged.model_uri))
    assert not list(local.rglob("*.pkl")) and not list(local.rglob("*.joblib"))
    requirements = (local / "requirements.txt").read_text(encoding="utf-8")
    assert "onnxruntime==" in requirements and "scikit-learn" not in requirements

    # The test split as a CSV file reads back: integers as int64, which MLflow's typed
    # columns refuse where double is declared.
    table = splits[1].drop(columns=[predictor.meta.target])
    for name in table.select_dtypes("number").columns:
        if table[name].notna().all() and (table[name] % 1 == 0).all():
            table[name] = table[name].astype("int64")
    table.to_csv(tmp_path / "test.csv", index=False)
    table = pd.read_csv(tmp_path / "test.csv")
    model = mlflow.pyfunc.load_model(logged.model_uri)
    answers = model.predict(table)
    records = table.astype(object).where(table.notna(), None).to_dict("records")
    expected = predictor.predict_records(records)
    assert answers["prediction"].tolist() == [item["prediction"] for item in expected]
    for label in predictor.class_names:
        got = answers[f"probability_{label}"].to_numpy()
        want = np.array([item["probabilities"][label] for item in expected])
        assert np.abs(got - want).max() <= 1e-6
    assert len(model.predict(table.iloc[:3, 1:])) == 3  # a missing column is a missing value


def test_a_logged_scikit_learn_champion_carries_every_module_its_pickle_imports(
    model_dir, splits, store
):
    """A model `export` could not convert is logged as its pickled pipeline, which names
    classes of the package (the features' names, the bins): the logged code must hold them,
    or the model loads only where the project is installed."""
    package = Predictor.__module__.split(".")[0]
    with mlflow.start_run():
        logged = log_champion(model_dir, splits[1])
    assert logged.runtime == "sklearn"
    code = Path(mlflow.artifacts.download_artifacts(logged.model_uri)) / "code"
    script = (
        "import sys, joblib; joblib.load(sys.argv[1]); "
        "print(*sorted(m for m in sys.modules if m.startswith(sys.argv[2] + '.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script, str(model_dir / MODEL_FILE), package],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout.split()  # fmt: skip
    assert f"{package}.training.words" in loaded
    for module in loaded:
        path = code.joinpath(*module.split("."))
        assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), module


def test_a_failed_alias_leaves_no_registered_version(served_dir, splits, store, monkeypatch):
    meta = Predictor.load(served_dir, runtime="auto").meta
    metric = meta.primary_metric
    lower = better(metric, 0.0, 1.0)
    report = {"test": {metric: 0.0 if lower else 1.0}}
    split = registry.Split(splits[1], "sha", 1e9 if lower else -1e9)

    def refuse(*args, **kwargs):  # the registry failing between the version and its alias
        raise MlflowException("the registry went away")

    monkeypatch.setattr(MlflowClient, "set_registered_model_alias", refuse)
    with pytest.raises(StageError, match="could not take the alias @champion"):
        registry.register(meta, report, split, "gated", 0.0, served_dir)
    assert MlflowClient().search_model_versions("name = 'gated'") == []
