"""Parallel tuning on this machine: the train stage with one tuning worker against several,
on the same number of trials, side by side, and the test score each reaches.

    .venv/bin/python scripts/bench_tune.py --trials 40 --repeats 2 [--workers 1 2]

Bakes the Telco demo (or takes --project, a baked project), runs `dvc repro split`, then runs
the train stage (`python -m <package>.train`, the command dvc.yaml gives) once per worker
count in each round, the counts alternating so both see the same load, each in a fresh copy of
the project (no studies or results kept from another run; the journal file on this machine).
Each run is timed from start to exit and its model scored on the test split with the project's
own metric functions. Prints one line per run, then per worker count the median seconds, the
mean test score and the ratio of times, with the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baking import bake, package_name, project_env, run, set_params

TRAIN = ["--train", "data/processed/train.parquet", "--schema", "schema.yaml",
         "--model-dir", "models", "--leaderboard", "reports/leaderboard.csv"]  # fmt: skip
SCORE = """
import json, sys
import numpy as np, pandas as pd
from {package}.serving.predictor import Predictor
from {package}.evaluation import metrics
predictor = Predictor.load("models", runtime="sklearn")
meta = predictor.meta
test = pd.read_parquet("data/processed/test.parquet")
labels, proba = predictor.predict_frame(test)
if proba is None:
    y = test[meta.target].to_numpy(dtype=float)
    scores = metrics.regression_metrics(y, np.asarray(labels, dtype=float), log_scale=True)
else:
    index = {{str(label): i for i, label in enumerate(meta.classes)}}
    y = test[meta.target].astype(str).map(index).to_numpy(dtype=int)
    scores = metrics.classification_metrics(meta.problem_type, y, proba, predictor.decide(proba))
print(json.dumps({{"metric": meta.primary_metric, "score": scores[meta.primary_metric],
                  "champion": meta.champion}}))
"""


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def prepared(args: argparse.Namespace, folder: Path) -> Path:
    project = args.project or bake(folder / "baked", {"dataset": "telco_churn"})
    run(["dvc", "repro", "split"], project, project_env(project))
    return project


def one_run(project: Path, workers: int, trials: int, folder: Path) -> dict:
    copy = Path(shutil.copytree(project, folder / f"run-{workers}", symlinks=True))
    shutil.rmtree(copy / ".optuna", ignore_errors=True)
    set_params(copy, {"train.fast": False, "train.search.n_trials": trials,
                      "train.search.workers": workers})  # fmt: skip
    env = project_env(copy)
    env.pop("OPTUNA_STORAGE", None)
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{copy / 'mlflow.db'}"
    package = package_name(copy)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", f"{package}.train", *TRAIN], cwd=copy, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"train with {workers} workers exited {done.returncode}:\n{done.stderr[-3000:]}")
    scored = subprocess.run([sys.executable, "-c", SCORE.format(package=package)], cwd=copy,
                            env=env, capture_output=True, text=True, check=True)  # fmt: skip
    result = json.loads(scored.stdout.strip().splitlines()[-1])
    shutil.rmtree(copy)
    return result | {"workers": workers, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="a baked project (default: bake Telco)")
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}, load before {load()}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-tune-") as tmp:
        project = prepared(args, Path(tmp))
        for round_ in range(args.repeats):
            order = args.workers if round_ % 2 == 0 else args.workers[::-1]
            for workers in order:
                result = one_run(project, workers, args.trials, Path(tmp))
                results.append(result)
                print(f"round {round_ + 1}: {workers} worker(s), {args.trials} trials: "
                      f"{result['seconds']:.1f} s, test {result['metric']} "
                      f"{result['score']:.4f} ({result['champion']}), load {load()}",
                      flush=True)  # fmt: skip
    base = None
    for workers in args.workers:
        mine = [r for r in results if r["workers"] == workers]
        median = statistics.median(r["seconds"] for r in mine)
        base = base or median
        scores = [r["score"] for r in mine]
        print(f"{workers} worker(s): median {median:.1f} s (x{median / base:.2f} of the first), "
              f"test {mine[0]['metric']} mean {statistics.mean(scores):.4f} "
              f"over {len(scores)} runs {[round(s, 4) for s in scores]}")  # fmt: skip
    print(f"load after {load()}")


if __name__ == "__main__":
    main()
