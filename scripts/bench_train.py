"""Bake both demos, train them with the default params and compare each with FLAML: one table.

`make bench-train` runs this with the template's .venv. For each demo it:

1. bakes the project into a temporary folder (or --out);
2. runs `dvc repro` with the params as generated (train.fast with --fast), timed: the whole
   pipeline, from ingest to register;
3. runs the project's own `make bench-train`: the train stage again, timed, against FLAML
   AutoML with that wall time as its budget, on the same split (see the generated
   scripts/bench_train.py).

Then prints the demos' results in one table, with the machine's load before and after:
other jobs on the machine slow both sides alike, but make every wall time longer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Run as a script, so scripts/ is on sys.path and its sibling module imports directly.
from baking import CommandFailed, bake, project_env, run, set_params

DEMOS = ("telco_churn", "ames_housing")
LABELS = {"roc_auc": "ROC AUC", "log_loss": "log loss", "rmse": "RMSE", "rmse_log": "RMSE log"}


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def bench_demo(dataset: str, folder: Path, fast: bool) -> dict[str, Any]:
    project = bake(folder, {"dataset": dataset, "project_name": f"bench {dataset}"})
    if fast:
        set_params(project, {"train.fast": True})
    env = project_env(project)
    step(f"{dataset}: dvc repro in {project} (load {load()})")
    started = time.perf_counter()
    run(["dvc", "repro"], project, env, timeout=3600)
    repro = f"{time.perf_counter() - started:.0f}"
    step(f"{dataset}: dvc repro: {repro} s; make bench-train (load {load()})")
    run(["make", "bench-train"], project, env, timeout=3600)
    result = json.loads((project / "reports" / "train_benchmark.json").read_text("utf-8"))
    return result | {"dataset": dataset, "repro": repro}


def table(results: list[dict[str, Any]]) -> str:
    head = ["demo", "model", "primary metric (test)", "RMSE log", "wall time (s)"]
    head += ["time budget (s)", "whole `dvc repro` (s)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for result in results:
        metric = result["primary_metric"]
        for i, row in enumerate(result["rows"]):
            scores = row["scores"]
            rmse_log = f"{scores['rmse_log']:.4f}" if "rmse_log" in scores else ""
            cells = [
                result["dataset"] if i == 0 else "",
                row["model"],
                f"{LABELS.get(metric, metric)} {scores[metric]:.4f}",
                rmse_log,
                f"{row['seconds']:.1f}",
                f"{row['budget']:.1f}" if "budget" in row else "",
                result["repro"] if i == 0 else "",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    splits = [f"- {r['dataset']}: {r['split']}" for r in results]
    return "\n".join([*lines, "", "Splits:", *splits]) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="bake here and keep the projects")
    parser.add_argument("--fast", action="store_true", help="train.fast: a quick smoke run")
    parser.add_argument("--demos", nargs="+", choices=DEMOS, default=list(DEMOS))
    args = parser.parse_args()
    start_load = load()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
            out = args.out or Path(tmp)
            results = [bench_demo(d, out / d, args.fast) for d in args.demos]
    except CommandFailed as err:
        print(f"bench-train failed: {err}", file=sys.stderr)
        return 1
    print()
    print(table(results))
    setting = "train.fast: true (smoke run)" if args.fast else "as generated (train.fast: false)"
    print(f"Params: {setting}.")
    print(f"Load average (1, 5, 15 min): {start_load} at the start, {load()} at the end.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
