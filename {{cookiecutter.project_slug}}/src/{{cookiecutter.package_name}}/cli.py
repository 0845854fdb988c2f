"""The project's tasks as one command, without make: `{{ cookiecutter.package_name }} <task>`.

Each task runs what the make target of the same name runs, with this Python, so it works where
make does not (Windows); the stage tasks run one pipeline stage outside DVC. Arguments after a
task go to the tool it runs: `{{ cookiecutter.package_name }} predict --help` is batch scoring's
own help, `{{ cookiecutter.package_name }} test -k api` is `pytest -k api`. Run it in the
project's folder. Nothing in the package imports this module: it only dispatches.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

PACKAGE = "{{ cookiecutter.package_name }}"
STAGES = ("ingest", "validate", "split", "train", "export", "evaluate", "register")
# Task -> one line of help, in the Makefile's order.
TASKS = {
    "lint": "ruff check, ruff format --check and deptry",
    "test": "run the test suite (pytest)",
    "repro": "run the DVC pipeline, only the stages whose inputs changed (dvc repro)",
    "serve": "serve predictions: uvicorn with the service's limits (needs a trained model)",
    "bench-serve": "load-test the service with wrk; writes reports/serving_benchmark.md",
    "bench-train": "our training vs FLAML and AutoGluon, same split; reports/train_benchmark.md",
    "bench-scale": "stage times and peak memory on generated tables (--rows 10000 100000)",
    "mlflow-ui": "browse the MLflow runs on 127.0.0.1:5000 (mlflow ui on MLFLOW_TRACKING_URI)",
    "push": "dvc push, the S3 remote's bucket checked first (arguments go to dvc push)",
    "pull": "dvc pull, the S3 remote's bucket checked first (arguments go to dvc pull)",
    "tune": "the search alone, in processes sharing one Optuna study per family (--workers 4)",
    "predict": f"batch scoring: INPUT OUTPUT [--model-dir] (python -m {PACKAGE}.predict)",
    "score-spark": "batch scoring on Spark: --input PATH --output PATH (the spark extra, Java)",
    "monitor": "drift and performance on the prediction log or --current FILE; exit 3 drift, "
    "4 degraded",
    **{stage: f"run the {stage} stage alone (its arguments: see dvc.yaml)" for stage in STAGES},
}
# Tasks whose arguments this module reads; the others pass theirs on.
OWN_ARGUMENTS = ("lint",)
TRACKING_URI = "sqlite:///mlflow.db"  # the default of tracking/server.py, as `make mlflow-ui`


def commands(task: str, args: Sequence[str]) -> list[list[str]]:
    """The commands a subcommand runs, in order, given the arguments that follow it."""
    python = [sys.executable]
    if task in STAGES:
        return [[*python, "-m", f"{PACKAGE}.{task}", *args]]
    match task:
        case "repro":
            return [[*python, "-m", "dvc", "repro", *args]]
        case "predict":
            return [[*python, "-m", f"{PACKAGE}.predict", *args]]
        case "push" | "pull":
            return [[*python, "-m", f"{PACKAGE}.remote", task, *args]]
        case "tune":
            split = [*python, "-m", "dvc", "repro", "split"]
            return [split, [*python, "-m", f"{PACKAGE}.tune", *args]]
        case "monitor":
            return [[*python, "-m", f"{PACKAGE}.monitor", *args]]
        case "score-spark":
            return [[*python, "-m", f"{PACKAGE}.score_spark", *args]]
        case "serve":
            return [[*python, "-m", f"{PACKAGE}.api.server", *args]]
        case "bench-serve":
            return [[*python, _script("bench_serve.py"), *args]]
        case "bench-scale":
            return [[*python, _script("bench_scale.py"), *args]]
        case "bench-train":
            split = [*python, "-m", "dvc", "repro", "split"]
            return [split, [*python, _script("bench_train.py"), *args]]
        case "mlflow-ui":
            uri = os.environ.get("MLFLOW_TRACKING_URI") or TRACKING_URI
            if uri.startswith(("http://", "https://")):  # a team's server is its own UI
                sys.exit(f"MLFLOW_TRACKING_URI is a tracking server: open {uri} in a browser")
            return [[*python, "-m", "mlflow", "ui", "--backend-store-uri", uri, *args]]
        case "test":
            return [[*python, "-m", "pytest", *args]]
        case "lint":
            return [
                [*python, "-m", "ruff", "check", "."],
                [*python, "-m", "ruff", "format", "--check", "."],
                [*python, "-m", "deptry", "."],
            ]
    raise ValueError(f"unknown task {task!r}")


def _script(name: str) -> str:
    path = Path("scripts", name)
    if not path.is_file():
        sys.exit(f"error: {path} not found: run this in the project's folder")
    return str(path)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog=PACKAGE, description=__doc__.splitlines()[0])
    tasks = top.add_subparsers(dest="task", required=True, metavar="<task>")
    for task, text in TASKS.items():
        # The others have no -h of their own: `--help` goes to the tool, which knows its options.
        tasks.add_parser(task, help=text, add_help=task in OWN_ARGUMENTS)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    top = parser()
    args, extra = top.parse_known_args(argv)
    if args.task in OWN_ARGUMENTS and extra:
        top.error(f"{args.task}: unrecognized arguments: {' '.join(extra)}")
    for command in commands(args.task, extra):
        try:
            code = subprocess.call(command)
        except KeyboardInterrupt:
            return 130
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
