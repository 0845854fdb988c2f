"""Stage times and peak memory of this project's pipeline on a generated table of N rows.

`make bench-scale` (or `python scripts/bench_scale.py --rows 10000 100000`) makes, for each
size, a table of 20 columns: ten numbers (skewed, whole, with gaps), seven categories (from
three to 300 levels, with gaps), a yes/no flag, a shuffled customer number (an identifier the
schema drops) and a binary target that depends on several of them. It then runs this project's
pipeline on the table in a temporary copy (its own DVC repository and MLflow store: this
project's data, models and runs are left alone): each stage as `dvc repro --single-item
<stage>`, timed from start to exit with the peak resident memory of its processes, then a
no-op `dvc repro`. Prints the table and writes reports/scale_benchmark.md (and .json).

`--fast` runs the train stage with train.fast; `--set key=value` changes any params.yaml key
of the copy (the value read as YAML). The copy's data/features.py adds no features: the
project's own are written for its table. Linux or macOS (it reads peak memory with os.wait4).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

PROJECT = Path(__file__).resolve().parents[1]
OUT = PROJECT / "reports" / "scale_benchmark"
SOURCE = "data/source/bench.parquet"
TARGET = "churned"
# The project's data/features.py is written for its own table (a demo's adds the demo's
# columns); the copy adds no features to the generated one.
NO_FEATURES = (
    '"""No engineered features: the benchmark\'s table is not the project\'s."""\n\n'
    "from typing import Any\n\n\n"
    "def add_features(columns: Any) -> dict[str, Any]:\n"
    "    return dict(columns)\n"
)


@dataclass
class Step:
    stage: str
    seconds: float
    peak_mb: float


def make_table(rows: int, seed: int) -> pd.DataFrame:
    """A mixed table with gaps and a learnable binary target."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "plus", "premium", "family"], rows, p=[0.4, 0.3, 0.2, 0.1])
    region = rng.choice([f"region {i:02d}" for i in range(12)], rows)
    income = rng.lognormal(10.5, 0.6, rows)
    tenure = rng.gamma(2.0, 12.0, rows).round(1)
    visits = rng.poisson(3, rows)
    score = rng.uniform(0, 1, rows)
    member = rng.random(rows) < 0.3
    frame = pd.DataFrame(
        {
            "customer number": rng.permutation(rows) + 100_000,
            "income": income,
            "age": rng.integers(18, 90, rows),
            "tenure months": tenure,
            "balance": rng.normal(1_000, 400, rows),
            "visits": visits,
            "score": score,
            "monthly spend": income / 12 * rng.uniform(0.02, 0.3, rows),
            "discount rate": rng.beta(2, 5, rows),
            "distance km": rng.exponential(10, rows),
            "noise": rng.normal(size=rows),
            "plan": plan,
            "region": region,
            "channel": rng.choice(["web", "store", "phone"], rows),
            "device": rng.choice(["ios", "android", "desktop"], rows),
            "city": rng.choice([f"city {i:03d}" for i in range(300)], rows),
            "segment": rng.choice(list("ABCDE"), rows),
            "payment": rng.choice(["card", "transfer", "cash", "voucher"], rows),
            "member": member,
        }
    )
    logit = (
        0.9 * (plan == "basic")
        - 0.6 * (plan == "premium")
        + 0.5 * np.isin(region, ["region 03", "region 07"])
        - tenure / 30
        + 0.25 * visits
        + 8 * (score - 0.5) ** 2
        - 0.7 * member
        - (np.log(income) - 10.5)
    )
    frame[TARGET] = np.where(rng.random(rows) < 1 / (1 + np.exp(-(logit - 0.5))), "yes", "no")
    for name, share in (("income", 0.05), ("tenure months", 0.03), ("channel", 0.04)):
        frame.loc[rng.random(rows) < share, name] = None
    return frame


def prepare(folder: Path, table: pd.DataFrame, changes: dict) -> list[str]:
    """A copy of the project's pipeline in folder, reading the table; its stage names."""
    shutil.copytree(PROJECT / "src", folder / "src", ignore=shutil.ignore_patterns("__pycache__"))
    for features in (folder / "src").glob("*/data/features.py"):
        features.write_text(NO_FEATURES, encoding="utf-8")
    (folder / SOURCE).parent.mkdir(parents=True)
    table.to_parquet(folder / SOURCE, index=False)
    params = yaml.safe_load((PROJECT / "params.yaml").read_text(encoding="utf-8"))
    params["data"] |= {"source": SOURCE, "target": TARGET, "problem_type": "binary"}
    for dotted, value in changes.items():
        *parents, key = dotted.split(".")
        section = params
        for name in parents:
            section = section[name]
        section[key] = value
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), "utf-8")
    pipeline = yaml.safe_load((PROJECT / "dvc.yaml").read_text(encoding="utf-8"))
    ingest = pipeline["stages"]["ingest"]
    ingest["deps"] = [d for d in ingest["deps"] if not str(d).startswith("data/source/")]
    ingest["deps"].append(SOURCE)
    (folder / "dvc.yaml").write_text(yaml.safe_dump(pipeline, sort_keys=False), "utf-8")
    return list(pipeline["stages"])


def environment(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder / "src"), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["DVC_NO_ANALYTICS"] = "1"
    env.pop("MLFLOW_TRACKING_URI", None)  # the copy's own sqlite:///mlflow.db
    return env


def timed(command: list[str], folder: Path, env: dict, log: Path, timeout: float) -> Step:
    """Run command; its wall time and the peak resident memory of its process tree."""
    with open(log, "w", encoding="utf-8") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=out, stderr=out)
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)  # the largest of the tree's processes
        seconds = time.perf_counter() - start
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        tail = log.read_text(encoding="utf-8")[-3000:]
        sys.exit(f"error: `{' '.join(command)}` exited {process.returncode}:\n{tail}")
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return Step(command[-1], seconds, usage.ru_maxrss * scale / 2**20)


def run_size(rows: int, args: argparse.Namespace, changes: dict) -> list[Step]:
    folder = Path(tempfile.mkdtemp(prefix=f"bench-scale-{rows}-"))
    try:
        started = time.perf_counter()
        stages = prepare(folder, make_table(rows, args.seed), changes)
        print(f"{rows:,} rows: table written in {time.perf_counter() - started:.1f} s")
        env, dvc = environment(folder), [sys.executable, "-m", "dvc"]
        subprocess.run([*dvc, "init", "--no-scm", "-q"], cwd=folder, env=env, check=True)
        steps = []
        for stage in stages:
            command = [*dvc, "repro", "--single-item", stage]
            steps.append(timed(command, folder, env, folder / f"{stage}.log", args.timeout))
            print(f"  {stage:<9} {steps[-1].seconds:8.1f} s {steps[-1].peak_mb:8.0f} MB")
        noop = timed([*dvc, "repro"], folder, env, folder / "noop.log", args.timeout)
        steps.append(Step("no-op dvc repro", noop.seconds, noop.peak_mb))
        return steps
    finally:
        if args.keep:
            print(f"  kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _cells(seconds: float, peak_mb: float) -> str:
    return f" {seconds:.1f} | {peak_mb:,.0f} |"


def markdown(results: dict[int, list[Step]], note: str) -> str:
    sizes = list(results)
    head = "".join(f" {n:,} rows (s) | peak MB |" for n in sizes)
    lines = [f"| stage |{head}", "|---|" + "---:|---:|" * len(sizes)]
    for i, step in enumerate(results[sizes[0]]):
        cells = "".join(_cells(results[n][i].seconds, results[n][i].peak_mb) for n in sizes)
        lines.append(f"| {step.stage} |{cells}")
    stages = {n: results[n][:-1] for n in sizes}  # without the no-op run
    totals = "".join(
        _cells(sum(s.seconds for s in stages[n]), max(s.peak_mb for s in stages[n])) for n in sizes
    )
    lines.append(f"| all stages |{totals}")
    return "\n".join(["# Pipeline stage times by table size", "", note, "", *lines, ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--fast", action="store_true", help="train with train.fast")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=7200, help="seconds per stage")
    parser.add_argument("--keep", action="store_true", help="keep the temporary projects")
    parser.add_argument("--out", type=Path, default=OUT, help="report path, without suffix")
    args = parser.parse_args()
    if not hasattr(os, "wait4"):
        sys.exit("error: bench_scale.py reads peak memory with os.wait4 (Linux or macOS)")
    changes = {"train.fast": True} if args.fast else {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            sys.exit(f"error: --set {item!r}: expected KEY=VALUE")
        changes[key] = yaml.safe_load(value)
    load = os.getloadavg()
    results = {rows: run_size(rows, args, changes) for rows in args.rows}
    note = (
        f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after; "
        f"params changed: {changes or 'none'}; 20 columns; each stage as "
        "`dvc repro --single-item`, so its time includes DVC's own start (about the no-op's)."
    )
    text = markdown(results, note)
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    data = {"note": note, "results": {n: [asdict(s) for s in st] for n, st in results.items()}}
    args.out.with_suffix(".json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
