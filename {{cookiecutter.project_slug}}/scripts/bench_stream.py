"""Rows per second and peak memory of the batch command, and of `score-spark`, on long tables.

`python scripts/bench_stream.py --rows 1000000 10000000` makes, for each size, a table of that
many rows drawn at random from the test split (data/processed/test.parquet, target dropped,
a `row_key` column added), written chunk by chunk as Parquet (and as CSV with `--csv`) in a
temporary folder, and scores it with the batch command (`python -m <package>.predict
--no-log`) in a process of its own, timed from start to exit with its peak resident memory
(os.wait4). Streamed, the peak does not grow with the table: the largest table's peak should
stay within 1.5 times the smallest's.

`--spark` also scores each Parquet table with `score-spark --master local[2]` (the `spark`
extra and Java): its rows per second once the session is up, and the session's start-up.
`--compare-src DIR` also runs the batch command of another copy of the package's source (an
older release's src/, say) on the same tables, alternating with this one: a before and after
under the same load. Needs a trained, exported model (`dvc repro`); Linux or macOS. Prints the
table and writes reports/stream_benchmark.md (and .json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from pyarrow import csv

PACKAGE = "{{ cookiecutter.package_name }}"
PROJECT = Path(__file__).resolve().parents[1]
OUT = PROJECT / "reports" / "stream_benchmark"
KEY = "row_key"
CHUNK_ROWS = 500_000  # rows generated and written at a time
PEAK_GOAL = 1.5  # the largest table's peak over the smallest's


@dataclass
class Run:
    command: str
    rows: int
    seconds: float  # start to exit
    peak_mb: float | None  # None: not measured (Spark's JVM and workers are not this tree)
    rate: float | None = None  # rows/s as the command reports them (Spark: once started)
    start_seconds: float | None = None  # Spark: the session's start-up


def make_tables(rows: int, folder: Path, seed: int, with_csv: bool) -> list[Path]:
    """The table of `rows` random test rows as Parquet (and CSV), written in chunks."""
    params = yaml.safe_load((PROJECT / "params.yaml").read_text(encoding="utf-8"))
    test = pq.read_table(PROJECT / "data" / "processed" / "test.parquet")
    test = test.drop_columns([params["data"]["target"]])
    schema = test.schema.append(pa.field(KEY, pa.int64())).remove_metadata()
    paths = [folder / "rows.parquet"] + ([folder / "rows.csv"] if with_csv else [])
    parquet = pq.ParquetWriter(paths[0], schema)
    text = csv.CSVWriter(paths[1], schema) if with_csv else None
    rng = np.random.default_rng(seed)
    for start in range(0, rows, CHUNK_ROWS):
        count = min(CHUNK_ROWS, rows - start)
        chunk = test.take(rng.integers(0, test.num_rows, count))
        chunk = chunk.append_column(KEY, pa.array(np.arange(start, start + count)))
        chunk = chunk.cast(schema)
        parquet.write_table(chunk, row_group_size=100_000)
        if text is not None:
            text.write_table(chunk)
    parquet.close()
    if text is not None:
        text.close()
    return paths


def timed(command: list[str], env: dict[str, str], label: str, rows: int) -> tuple[Run, str]:
    """Run a command to its exit: its wall time, the peak resident memory of its largest
    process (os.wait4), and its output."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=output, stderr=output)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        output.seek(0)
        text = output.read()
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"error: `{' '.join(command)}` failed:\n{text[-3000:]}")
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    found = re.findall(r"\((\d+) rows/s", text)
    rate = float(found[-1]) if found else None
    return Run(label, rows, seconds, usage.ru_maxrss * scale / 2**20, rate), text


def batch_command(source: Path, src: Path, label: str, rows: int) -> Run:
    target = source.with_name(f"scored-{label.replace(' ', '-')}{''.join(source.suffixes)}")
    command = [sys.executable, "-m", f"{PACKAGE}.predict", str(source), str(target), "--no-log"]
    env = dict(os.environ, PYTHONPATH=str(src))
    run, _ = timed(command, env, f"{label}, {source.suffix[1:]}", rows)
    target.unlink()
    return run


def spark_command(source: Path, rows: int) -> Run:
    target = source.with_name("scored-spark")
    command = [sys.executable, "-m", f"{PACKAGE}.score_spark", "--input", str(source)]
    command += ["--output", str(target), "--master", "local[2]", "--driver-memory", "2g"]
    env = dict(os.environ, PYTHONPATH=str(PROJECT / "src"))
    run, text = timed(command, env, "score-spark local[2], parquet", rows)
    started = re.search(r"session started in ([\d.]+) s", text)
    run.start_seconds = float(started[1]) if started else None
    run.peak_mb = None  # the driver's tree only: not the executors' memory
    shutil.rmtree(target)
    return run


def markdown(runs: list[Run], note: str) -> str:
    lines = [
        "| command | rows | seconds | rows/s (start to exit) | rows/s (reported) | peak MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        rate = f"{run.rate:,.0f}" if run.rate else ""
        if run.start_seconds is not None:
            rate += f" (after a {run.start_seconds:.0f} s start)"
        peak = f"{run.peak_mb:,.0f}" if run.peak_mb is not None else "n/a"
        lines.append(
            f"| {run.command} | {run.rows:,} | {run.seconds:,.1f} | "
            f"{run.rows / run.seconds:,.0f} | {rate} | {peak} |"
        )
    return "\n".join(["# Batch scoring on long tables", "", note, "", *lines, *verdicts(runs), ""])


def verdicts(runs: list[Run]) -> list[str]:
    """The peak's growth from the smallest table to the largest, per command; Spark's rate
    against the batch command's on the same table."""
    said = [""]
    for command in dict.fromkeys(r.command for r in runs if r.peak_mb is not None):
        mine = sorted((r for r in runs if r.command == command), key=lambda r: r.rows)
        if len(mine) > 1:
            ratio = mine[-1].peak_mb / mine[0].peak_mb
            said.append(
                f"- {command}: peak at {mine[-1].rows:,} rows / at {mine[0].rows:,} rows = "
                f"{ratio:.2f} ({'within' if ratio <= PEAK_GOAL else 'beyond'} {PEAK_GOAL}x)"
            )
    for spark in (r for r in runs if r.start_seconds is not None):
        local = [r for r in runs if r.rows == spark.rows and r.command == "this, parquet"]
        if local and spark.rate:
            said.append(
                f"- {spark.rows:,} rows: score-spark local[2] / batch command = "
                f"{spark.rate / (local[0].rows / local[0].seconds):.2f} (Spark once started), "
                f"{local[0].seconds / spark.seconds:.2f} (start to exit)"
            )
    return said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--csv", action="store_true", help="also score the tables as CSV")
    parser.add_argument("--spark", action="store_true", help="also run score-spark local[2]")
    parser.add_argument("--compare-src", type=Path, help="another src/ to run alongside")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT, help="report path, without suffix")
    args = parser.parse_args()
    if not hasattr(os, "wait4"):
        sys.exit("error: bench_stream.py reads peak memory with os.wait4 (Linux or macOS)")
    sources = [("this", PROJECT / "src")]
    if args.compare_src:
        sources.append(("compared", args.compare_src.resolve()))
    load, runs = os.getloadavg(), []
    for rows in args.rows:
        folder = Path(tempfile.mkdtemp(prefix=f"bench-stream-{rows}-"))
        try:
            tables = make_tables(rows, folder, args.seed, args.csv)
            for i, table in enumerate(tables):
                for label, src in sources[:: 1 if i % 2 == 0 else -1]:  # alternating first
                    runs.append(batch_command(table, src, label, rows))
                    print(f"{runs[-1].command}, {rows:,} rows: {runs[-1].seconds:.1f} s")
            if args.spark:
                runs.append(spark_command(tables[0], rows))
                print(f"score-spark, {rows:,} rows: {runs[-1].seconds:.1f} s")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    note = (
        f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; load "
        f"average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after; rows drawn from the "
        "test split; each command in a process of its own (Python's start and the model's "
        f"load included); compared: {args.compare_src or 'nothing'}."
    )
    text = markdown(runs, note)
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    data = {"note": note, "runs": [asdict(run) for run in runs]}
    args.out.with_suffix(".json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
