"""One AutoML peer of `make bench-train`, fitted in its own process: FLAML or AutoGluon.

    python scripts/bench_peer.py TASK.json

scripts/bench_train.py writes TASK.json (a PeerTask) and two Parquet files: the training
and test rows with the columns our pipeline gets (the schema's), the label encoded as ours
(classes 0..k-1, the binary positive class as 1; log(target) where our model fits the log)
and, for a group split, the group column. This script fits the peer on the training rows
within the time limit, the same primary metric as its goal, and writes to the task's folder
predictions.npy (class probabilities, or values on the label's scale) and result.json (a
PeerResult). Scoring is left to bench_train.py, with the project's own metric functions.

It imports nothing from the project, so it runs in any environment that has the peer:
FLAML in the project's own (the `bench` extra), AutoGluon in one of its own, which
`autogluon_python` makes from scripts/autogluon-requirements.txt (AutoGluon pins pandas
below 2.4, older than this project's).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PEERS = ("flaml", "autogluon")
AUTOGLUON_REQUIREMENTS = Path(__file__).with_name("autogluon-requirements.txt")
HOLDOUT = 0.2  # AutoGluon's validation rows for a group or time split
NEEDS_TORCH = ["NN_TORCH", "FASTAI"]  # AutoGluon's model types

# Our metric name -> each peer's (a multiclass ROC AUC is one-vs-rest, as ours).
FLAML_METRICS = {
    "roc_auc": "roc_auc", "pr_auc": "ap", "log_loss": "log_loss", "accuracy": "accuracy",
    "f1": "f1", "f1_macro": "macro_f1", "rmse": "rmse", "mae": "mae", "r2": "r2",
}  # fmt: skip
AUTOGLUON_METRICS = {
    "roc_auc": "roc_auc", "pr_auc": "average_precision", "log_loss": "log_loss",
    "accuracy": "accuracy", "f1": "f1", "f1_macro": "f1_macro",
    "rmse": "root_mean_squared_error", "mae": "mean_absolute_error", "r2": "r2",
}  # fmt: skip
# FLAML estimator -> the module it needs; lrl1 (L1 logistic regression) classifies only.
FLAML_ESTIMATORS = {
    "lgbm": "lightgbm", "xgboost": "xgboost", "xgb_limitdepth": "xgboost", "rf": "sklearn",
    "extra_tree": "sklearn", "lrl1": "sklearn", "catboost": "catboost",
}  # fmt: skip


@dataclass(frozen=True)
class PeerTask:
    """What bench_train.py asks of a peer (TASK.json)."""

    peer: str  # one of PEERS
    train: str  # Parquet files
    test: str
    label: str  # the label column; every other column but `group` is a feature
    task: str  # binary | multiclass | regression
    n_classes: int  # 0 for regression
    metric: str  # our primary metric's name
    time_limit: float  # seconds
    seed: int
    strategy: str  # the project's split.strategy: random | group | time (rows in time order)
    group: str | None  # the group column of a group split
    out: str  # folder for predictions.npy and result.json

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> PeerTask:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class PeerResult:
    """result.json: the peer's fit, timed within this process."""

    peer: str
    version: str
    fit_seconds: float
    best: str  # the model the peer chose
    models: list[str]  # every model it fitted

    @classmethod
    def load(cls, path: Path) -> PeerResult:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def features(frame: pd.DataFrame, task: PeerTask) -> pd.DataFrame:
    return frame.drop(columns=[c for c in (task.label, task.group) if c])


def run_flaml(train: pd.DataFrame, test: pd.DataFrame, task: PeerTask) -> tuple[Any, ...]:
    from flaml import AutoML

    metric = FLAML_METRICS[task.metric]
    if task.task == "multiclass" and metric == "roc_auc":
        metric = "roc_auc_ovr"
    estimators = [
        name
        for name, module in FLAML_ESTIMATORS.items()
        if importlib.util.find_spec(module) and not (name == "lrl1" and task.task == "regression")
    ]
    options: dict[str, Any] = {}
    if task.strategy == "group":
        options = {"split_type": "group", "groups": train[task.group].to_numpy()}
    elif task.strategy == "time":
        options = {"split_type": "time"}
    automl = AutoML()
    started = time.perf_counter()
    automl.fit(
        features(train, task), train[task.label].to_numpy(),
        task="regression" if task.task == "regression" else "classification",
        metric=metric, time_budget=task.time_limit, estimator_list=estimators,
        seed=task.seed, verbose=0, log_file_name="", **options,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    x_test = features(test, task)
    if task.task == "regression":
        output = np.asarray(automl.predict(x_test), dtype=float)
    else:
        output = np.asarray(automl.predict_proba(x_test), dtype=float)  # labels 0..k-1
    fitted = sorted(name for name in estimators if automl.best_config_per_estimator.get(name))
    return output, seconds, automl.best_estimator, fitted


def holdout(train: pd.DataFrame, task: PeerTask) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """AutoGluon's validation rows: the latest ones (time), whole groups (group), or its own."""
    if task.strategy == "time":
        cut = int(len(train) * (1 - HOLDOUT))
        return train.iloc[:cut], train.iloc[cut:]
    if task.strategy == "group":
        groups = train[task.group].unique()
        count = max(1, round(len(groups) * HOLDOUT))
        held = np.random.default_rng(task.seed).choice(groups, size=count, replace=False)
        inside = train[task.group].isin(held)
        return train[~inside], train[inside]
    return train, None


def run_autogluon(train: pd.DataFrame, test: pd.DataFrame, task: PeerTask) -> tuple[Any, ...]:
    from autogluon.tabular import TabularPredictor

    has_torch = importlib.util.find_spec("torch") is not None
    if not has_torch:  # it then logs an error each time it counts GPUs: there are none
        gpus = logging.getLogger("autogluon.common.utils.resource_utils")
        gpus.addFilter(lambda record: "torch" not in record.getMessage())
    fit_rows, tuning = holdout(train, task)
    with tempfile.TemporaryDirectory(prefix="autogluon-") as folder:
        predictor = TabularPredictor(
            label=task.label, problem_type=task.task, path=folder, verbosity=0,
            eval_metric=AUTOGLUON_METRICS[task.metric],
        )  # fmt: skip
        started = time.perf_counter()
        predictor.fit(
            features(fit_rows, task).assign(**{task.label: fit_rows[task.label]}),
            tuning_data=None if tuning is None else features(tuning, task).assign(
                **{task.label: tuning[task.label]}
            ),
            presets="medium_quality", time_limit=task.time_limit,
            # Its neural networks need PyTorch, which the environment leaves out.
            excluded_model_types=[] if has_torch else NEEDS_TORCH,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        x_test = features(test, task)
        if task.task == "regression":
            output = predictor.predict(x_test).to_numpy(dtype=float)
        else:
            proba = predictor.predict_proba(x_test, as_multiclass=True)
            # A class missing from the training rows has no column: probability 0.
            output = proba.reindex(columns=range(task.n_classes), fill_value=0.0).to_numpy(float)
        return output, seconds, predictor.model_best, sorted(predictor.model_names())


def autogluon_python(venv: Path) -> Path:
    """The Python of AutoGluon's environment, made (once: about 1 GB) with uv, or venv and
    pip, from scripts/autogluon-requirements.txt; made again when that file changes."""
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    wanted = AUTOGLUON_REQUIREMENTS.read_text(encoding="utf-8")
    made_from = venv / AUTOGLUON_REQUIREMENTS.name
    if python.is_file() and made_from.is_file() and made_from.read_text("utf-8") == wanted:
        return python
    print(f"making AutoGluon's environment in {venv} (once; about 1 GB)", flush=True)
    requirements = ["-r", str(AUTOGLUON_REQUIREMENTS)]
    if uv := shutil.which("uv"):
        commands = [
            [uv, "venv", "--quiet", "--allow-existing", "--python", sys.executable, str(venv)],
            [uv, "pip", "install", "--quiet", "--python", str(python), *requirements],
        ]
    else:
        commands = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(python), "-m", "pip", "install", "--quiet", *requirements],
        ]
    for command in commands:
        if subprocess.run(command, check=False).returncode != 0:
            sys.exit(f"AutoGluon's environment could not be made: `{shlex.join(command)}` failed")
    made_from.write_text(wanted, encoding="utf-8")
    return python


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} TASK.json")
    task = PeerTask.load(Path(sys.argv[1]))
    if task.peer not in PEERS:
        sys.exit(f"{sys.argv[1]}: peer {task.peer!r} is not one of {', '.join(PEERS)}")
    package = {"flaml": "flaml", "autogluon": "autogluon.tabular"}[task.peer]
    if importlib.util.find_spec(package.split(".")[0]) is None:
        sys.exit(f"{package} is not installed in {sys.executable}'s environment")
    train, test = pd.read_parquet(task.train), pd.read_parquet(task.test)
    run = run_flaml if task.peer == "flaml" else run_autogluon
    output, seconds, best, models = run(train, test, task)
    out = Path(task.out)
    np.save(out / "predictions.npy", output)
    result = PeerResult(task.peer, version(package), seconds, str(best), list(map(str, models)))
    (out / "result.json").write_text(json.dumps(asdict(result), indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
