"""Our training pipeline against two AutoML peers, FLAML and AutoGluon, on the same split.

`make bench-train` (after `dvc repro split`) runs, in one go:

1. the `train` stage exactly as dvc.yaml runs it, timed from process start to exit: our wall
   time. Its model and leaderboard go to a temporary folder and its MLflow runs to a
   temporary store, so the pipeline's own outputs and runs are left alone. With --trained,
   the model the last `dvc repro` left in models/ is scored instead, and nothing is trained;
2. each peer in its own process (scripts/bench_peer.py) on the same
   data/processed/train.parquet, with a fixed time limit (--time-limit, 60 s), our primary
   metric as its goal and the project's seed: FLAML (time_budget) in this environment,
   AutoGluon (presets="medium_quality", time_limit) in an environment of its own, made once
   from scripts/autogluon-requirements.txt in .venv-autogluon (AutoGluon pins pandas below
   2.4, older than this project's);
3. all of them scored on data/processed/test.parquet with the project's own metric functions.

The peers get the validated columns the schema keeps (what our pipeline gets before
features.py) and do their own preprocessing. When our model fits the log of a regression
target, the peers fit log(target) too; all are then also scored on the log scale.
Prints the table, whether we reach the better peer on the primary metric, and writes it to
reports/train_benchmark.md (and .json). FLAML is in the `bench` extra:
pip install -e ".[train,bench]".
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

# Run as a script, so scripts/ is on sys.path and its sibling module imports directly.
from bench_peer import PEERS, PeerResult, PeerTask, autogluon_python

PROJECT = Path(__file__).resolve().parents[1]
TRAIN = PROJECT / "data" / "processed" / "train.parquet"
TEST = PROJECT / "data" / "processed" / "test.parquet"
OUT = PROJECT / "reports" / "train_benchmark"
PEER_SCRIPT = Path(__file__).with_name("bench_peer.py")
NAMES = {"flaml": "FLAML", "autogluon": "AutoGluon"}
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


def score(
    problem: str, truth: np.ndarray, output: np.ndarray, y_pred: np.ndarray | None = None
) -> dict[str, float]:
    """The project's own test metrics from encoded labels and probabilities (labels by
    argmax unless given), or from values (also on the log scale where defined)."""
    from {{ cookiecutter.package_name }}.evaluation import metrics

    if problem == "regression":
        return metrics.regression_metrics(truth.astype(float), output, log_scale=True)
    y_pred = output.argmax(axis=1) if y_pred is None else y_pred
    return metrics.classification_metrics(problem, truth, output, y_pred)


def truth(test: pd.DataFrame, meta: Any) -> np.ndarray:
    """The test split's targets: values, or labels encoded in the model's class order."""
    if meta.problem_type == "regression":
        return test[meta.target].to_numpy(dtype=float)
    return encoded(test[meta.target], meta.classes)


def peer_inputs(folder: Path, train: pd.DataFrame, test: pd.DataFrame, meta: Any,
                params: dict[str, Any]) -> PeerTask:  # fmt: skip
    """Write the rows a peer fits and scores; the task without its peer's name and folder."""
    problem, target = meta.problem_type, meta.target
    split = params["split"]
    group = split["group_column"] if split["strategy"] == "group" else None
    columns = [*meta.table_schema.columns, *([group] if group else [])]
    for name, frame in (("train", train), ("test", test)):
        if problem == "regression":
            label = frame[target].to_numpy(dtype=float)
            label = np.log(label) if meta.target_transform == "log" else label
        else:
            label = encoded(frame[target], meta.classes)  # our positive class is 1
        frame[columns].assign(**{target: label}).to_parquet(folder / f"{name}.parquet")
    return PeerTask(
        peer="", train=str(folder / "train.parquet"), test=str(folder / "test.parquet"),
        label=target, task=problem, n_classes=len(meta.classes or []),
        metric=meta.primary_metric, time_limit=0.0, seed=params["seed"],
        strategy=split["strategy"], group=group, out="",
    )  # fmt: skip


def run_peer(task: PeerTask, python: Path, meta: Any, y_test: np.ndarray) -> dict[str, Any]:
    """One peer in its own process; its test scores, fit and process times."""
    folder = Path(task.out)
    task.save(folder / "task.json")
    name = NAMES[task.peer]
    print(f"{name}: {task.time_limit:g} s (load {load()})", flush=True)
    started = time.perf_counter()
    done = subprocess.run([str(python), str(PEER_SCRIPT), str(folder / "task.json")], check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{name} exited {done.returncode} (see its output above)")
    result = PeerResult.load(folder / "result.json")
    output = np.load(folder / "predictions.npy")
    if meta.target_transform == "log":
        output = np.exp(output)
    return {
        "model": f"{name} {result.version} ({result.best})",
        "peer": task.peer,
        "seconds": result.fit_seconds,
        "process_seconds": wall,
        "budget": task.time_limit,
        "fitted": result.models,
        "scores": score(meta.problem_type, y_test, output),
    }


def our_row(trained: bool, params: dict[str, Any], test: pd.DataFrame) -> tuple[Any, dict]:
    """Our model (trained here, or the pipeline's in models/) and its row of the table."""
    from {{ cookiecutter.package_name }}.serving.predictor import Predictor

    seconds = None
    if trained:
        predictor = Predictor.load(PROJECT / "models", runtime="sklearn")
    else:
        with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
            model_dir, seconds = run_ours(Path(tmp), params["mlflow"]["experiment"])
            predictor = Predictor.load(model_dir, runtime="sklearn")
        print(f"ours: {seconds:.1f} s", flush=True)
    meta = predictor.meta
    labels, proba = predictor.predict_frame(test)
    if proba is None:
        scores = score(meta.problem_type, truth(test, meta), np.asarray(labels, dtype=float))
    else:  # labels by our decision threshold
        scores = score(meta.problem_type, truth(test, meta), proba, predictor.decide(proba))
    row = {"model": f"ours ({meta.champion})", "peer": "ours", "seconds": seconds}
    return meta, row | {"scores": scores}


def verdict(metric: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether our primary score is at least the better peer's."""
    from {{ cookiecutter.package_name }}.evaluation.direction import better

    ours, *peers = rows
    if not peers:
        return {}
    best = peers[0]
    for row in peers[1:]:
        if better(metric, row["scores"][metric], best["scores"][metric]):
            best = row
    reached = not better(metric, best["scores"][metric], ours["scores"][metric])
    return {"better_peer": best["peer"], "reaches_better_peer": reached}


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(PROJECT / "src"))
    from {{ cookiecutter.package_name }}.evaluation.direction import LOWER_IS_BETTER

    params = yaml.safe_load((PROJECT / "params.yaml").read_text(encoding="utf-8"))
    for path in (TRAIN, TEST):
        if not path.is_file():
            sys.exit(f"{path.relative_to(PROJECT)} is missing: run `dvc repro split` first")
    train, test = pd.read_parquet(TRAIN), pd.read_parquet(TEST)
    meta, ours = our_row(args.trained, params, test)
    rows = [ours]
    y_test = truth(test, meta)
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        task = peer_inputs(Path(tmp), train, test, meta, params)
        for peer in args.peers:
            folder = Path(tmp, peer)
            folder.mkdir()
            python = Path(sys.executable)
            if peer == "autogluon":
                python = args.autogluon_python or autogluon_python(args.autogluon_venv)
            chosen = replace(task, peer=peer, time_limit=args.time_limit, out=str(folder))
            rows.append(run_peer(chosen, python, meta, y_test))
    return {
        "project": params["project"]["name"],
        "problem_type": meta.problem_type,
        "primary_metric": meta.primary_metric,
        "lower_is_better": meta.primary_metric in LOWER_IS_BETTER,
        "table_rows": len(train) + len(test),
        "table_columns": len(meta.table_schema.columns),
        "split": split_note(params, meta.problem_type, len(train), len(test)),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {load()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": rows,
    } | verdict(meta.primary_metric, rows)


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
    head = ["model", *(f"test {m}" for m in shown), "fit time (s)", "time limit (s)"]
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
        seconds = "" if row["seconds"] is None else f"{row['seconds']:.1f}"
        budget = f"{row['budget']:g}" if "budget" in row else ""
        lines.append("| " + " | ".join([row["model"], *values, seconds, budget]) + " |")
    if "reaches_better_peer" in result:
        word = "reaches" if result["reaches_better_peer"] else "does not reach"
        peer = NAMES[result["better_peer"]]
        lines += ["", f"On {result['primary_metric']}, ours {word} the better peer ({peer})."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--trained", action="store_true", help="score models/ (from `dvc repro`); train nothing")
    add("--peers", nargs="+", choices=PEERS, default=list(PEERS))
    add("--time-limit", type=float, default=60.0, help="seconds for each peer")
    venv = PROJECT / ".venv-autogluon"
    add("--autogluon-venv", type=Path, default=venv, help="AutoGluon's environment (made once)")
    add("--autogluon-python", type=Path, help="a Python with autogluon.tabular: no venv made")
    args = parser.parse_args()
    result = run_benchmark(args)
    text = markdown(result)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.with_suffix(".md").write_text(text, encoding="utf-8")
    OUT.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("\n" + text)
    print(f"written to {OUT.with_suffix('.md').relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
