"""Our training pipeline against FLAML AutoML on the same split and the same time budget.

`make bench-train` (after `dvc repro split`) runs, in one go:

1. the `train` stage exactly as dvc.yaml runs it, timed from process start to exit: our wall
   time. Its model and leaderboard go to a temporary folder and its MLflow runs to a
   temporary store, so the pipeline's own outputs and runs are left alone;
2. FLAML AutoML on the same data/processed/train.parquet, with our wall time as its
   time_budget, the same primary metric, the same seed and the estimators installed here;
3. both scored on data/processed/test.parquet with the project's own metric functions.

FLAML gets the validated columns the schema keeps (what our pipeline gets before
features.py) and does its own preprocessing. When our model fits the log of a regression
target, FLAML fits log(target) too; both are then also scored on the log scale.
Prints the table and writes it to reports/train_benchmark.md (and .json). FLAML is in the
`bench` extra: pip install -e ".[train,bench]".
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

PROJECT = Path(__file__).resolve().parents[1]
TRAIN = PROJECT / "data" / "processed" / "train.parquet"
TEST = PROJECT / "data" / "processed" / "test.parquet"
OUT = PROJECT / "reports" / "train_benchmark"
# FLAML estimator -> the module it needs; lrl1 (L1 logistic regression) classifies only.
FLAML_ESTIMATORS = {
    "lgbm": "lightgbm",
    "xgboost": "xgboost",
    "xgb_limitdepth": "xgboost",
    "rf": "sklearn",
    "extra_tree": "sklearn",
    "lrl1": "sklearn",
    "catboost": "catboost",
}
# Our metric name -> FLAML's.
FLAML_METRICS = {
    "roc_auc": "roc_auc",
    "pr_auc": "ap",
    "log_loss": "log_loss",
    "accuracy": "accuracy",
    "f1": "f1",
    "f1_macro": "macro_f1",
    "rmse": "rmse",
    "mae": "mae",
    "r2": "r2",
}
# Threshold-free metrics shown for each problem (the primary one first).
SHOWN = {
    "binary": ["roc_auc", "pr_auc", "log_loss"],
    "multiclass": ["log_loss", "accuracy", "f1_macro"],
    "regression": ["rmse", "mae", "r2", "rmse_log"],
}


def train_command(model_dir: Path, leaderboard: Path) -> list[str]:
    """dvc.yaml's train command, with its outputs redirected to a temporary folder."""
    stages = yaml.safe_load((PROJECT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    args = shlex.split(stages["train"]["cmd"])
    redirect = {"--model-dir": str(model_dir), "--leaderboard": str(leaderboard)}
    for flag, value in redirect.items():
        if flag not in args:
            sys.exit(f"dvc.yaml: the train command has no {flag} to redirect; update {__file__}")
        args[args.index(flag) + 1] = value
    if args[0] == "python":
        args[0] = sys.executable
    return args


def private_mlflow(folder: Path, experiment: str) -> dict[str, str]:
    """A throw-away tracking store whose experiment keeps its artifacts in `folder` too."""
    import mlflow

    for name in ("mlflow", "alembic"):  # no database set-up chatter
        logging.getLogger(name).setLevel(logging.WARNING)
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    artifacts = (folder / "artifacts").as_uri()
    mlflow.MlflowClient(uri).create_experiment(experiment, artifact_location=artifacts)
    return {"MLFLOW_TRACKING_URI": uri}


def run_ours(folder: Path, experiment: str) -> tuple[Path, float]:
    """Run the train stage; return its model folder and its wall time in seconds."""
    model_dir = folder / "models"
    command = train_command(model_dir, folder / "leaderboard.csv")
    env = os.environ | private_mlflow(folder, experiment)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT / "src"), env.get("PYTHONPATH")]))
    print(f"training as dvc.yaml does: {shlex.join(command)}", flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=PROJECT, env=env, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"the train stage exited {done.returncode}")
    return model_dir, seconds


def encoded(labels: pd.Series, classes: list[Any]) -> np.ndarray:
    index = {str(label): i for i, label in enumerate(classes)}
    return labels.astype(str).map(index).to_numpy(dtype=int)


def score(problem: str, y_test: pd.Series, output: np.ndarray, y_pred: Any) -> dict[str, float]:
    """The project's own test metrics; regressions also on the log scale where defined."""
    from {{ cookiecutter.package_name }}.evaluation import metrics

    if problem == "regression":
        return metrics.regression_metrics(y_test.to_numpy(dtype=float), output, log_scale=True)
    return metrics.classification_metrics(problem, y_test.to_numpy(), output, y_pred)


def installed_estimators(problem: str) -> list[str]:
    names = []
    for name, module in FLAML_ESTIMATORS.items():
        if name == "lrl1" and problem == "regression":
            continue
        if importlib.util.find_spec(module) is not None:
            names.append(name)
    return names


def run_flaml(
    train: pd.DataFrame, test: pd.DataFrame, meta: Any, params: dict[str, Any],
    budget: float,
) -> dict[str, Any]:  # fmt: skip
    """FLAML AutoML on the same rows and columns; its test scores and wall time.

    meta is the trained model's ModelMeta (serving/metadata.py)."""
    try:
        from flaml import AutoML
    except ImportError:
        sys.exit('FLAML is not installed: pip install -e ".[train,bench]"')
    problem, target = meta.problem_type, meta.target
    columns = list(meta.table_schema.columns)
    x_train, x_test = train[columns], test[columns]
    log_target = meta.target_transform == "log"
    if problem == "regression":
        y_train = train[target].to_numpy(dtype=float)
        y_train = np.log(y_train) if log_target else y_train
    else:
        y_train = encoded(train[target], meta.classes)  # our positive class is 1
    metric = FLAML_METRICS[meta.primary_metric]
    if problem == "multiclass" and metric == "roc_auc":
        metric = "roc_auc_ovr"
    split = params["split"]
    options: dict[str, Any] = {}
    if split["strategy"] == "group":
        options = {"split_type": "group", "groups": train[split["group_column"]].to_numpy()}
    elif split["strategy"] == "time":
        options = {"split_type": "time"}  # train.parquet is in time order
    automl = AutoML()
    started = time.perf_counter()
    automl.fit(
        x_train, y_train, task="regression" if problem == "regression" else "classification",
        metric=metric, time_budget=budget, estimator_list=installed_estimators(problem),
        seed=params["seed"], verbose=0, log_file_name="", **options,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if problem == "regression":
        output = automl.predict(x_test)
        output = np.exp(output) if log_target else output
        scores = score(problem, test[target], np.asarray(output, dtype=float), None)
    else:
        proba = automl.predict_proba(x_test)  # columns in label order 0..k-1
        scores = score(problem, pd.Series(encoded(test[target], meta.classes)), proba,
                       proba.argmax(axis=1))  # fmt: skip
    return {"scores": scores, "seconds": seconds, "best": automl.best_estimator}


def run_benchmark() -> dict[str, Any]:
    sys.path.insert(0, str(PROJECT / "src"))
    from {{ cookiecutter.package_name }}.serving.predictor import Predictor

    params = yaml.safe_load((PROJECT / "params.yaml").read_text(encoding="utf-8"))
    for path in (TRAIN, TEST):
        if not path.is_file():
            sys.exit(f"{path.relative_to(PROJECT)} is missing: run `dvc repro split` first")
    train, test = pd.read_parquet(TRAIN), pd.read_parquet(TEST)

    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        model_dir, our_seconds = run_ours(Path(tmp), params["mlflow"]["experiment"])
        predictor = Predictor.load(model_dir, runtime="sklearn")
    meta = predictor.meta
    problem, target = meta.problem_type, meta.target
    labels, proba = predictor.predict_frame(test)
    if proba is None:
        ours = score(problem, test[target], np.asarray(labels, dtype=float), None)
    else:
        truth = pd.Series(encoded(test[target], meta.classes))
        ours = score(problem, truth, proba, predictor.decide(proba))
    print(f"ours: {our_seconds:.1f} s; FLAML gets the same budget", flush=True)
    flaml = run_flaml(train, test, meta, params, our_seconds)
    return {
        "project": params["project"]["name"],
        "problem_type": problem,
        "primary_metric": meta.primary_metric,
        "split": split_note(params, problem, len(train), len(test)),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {load()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": [
            {"model": f"ours ({meta.champion})", "seconds": our_seconds, "scores": ours},
            {
                "model": f"FLAML ({flaml['best']})",
                "seconds": flaml["seconds"],
                "budget": our_seconds,
                "scores": flaml["scores"],
            },
        ],
    }


def split_note(params: dict[str, Any], problem: str, n_train: int, n_test: int) -> str:
    split = params["split"]
    strategy = split["strategy"]
    if strategy == "random" and problem != "regression":
        strategy = "stratified random"
    return (
        f"{strategy} split, test_size {split['test_size']}, seed {params['seed']}: "
        f"{n_train} train / {n_test} test rows"
    )


def load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def markdown(result: dict[str, Any]) -> str:
    shown = [m for m in SHOWN[result["problem_type"]] if m in result["rows"][0]["scores"]]
    head = ["model", *(f"test {m}" for m in shown), "wall time (s)", "time budget (s)"]
    lines = [
        f"# Training benchmark: {result['project']}",
        "",
        f"{result['split']}. Primary metric: {result['primary_metric']}. "
        f"Machine: {result['machine']}. Measured {result['measured_at']}.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for row in result["rows"]:
        values = [f"{row['scores'][m]:.4f}" if m in row["scores"] else "" for m in shown]
        budget = f"{row['budget']:.1f}" if "budget" in row else ""
        cells = [row["model"], *values, f"{row['seconds']:.1f}", budget]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    result = run_benchmark()
    text = markdown(result)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.with_suffix(".md").write_text(text, encoding="utf-8")
    OUT.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("\n" + text)
    print(f"written to {OUT.with_suffix('.md').relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
