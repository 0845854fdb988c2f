"""Load-test the prediction service with wrk; print the table, write reports/serving_benchmark.md.

`make bench-serve` measures, in one run, one uvicorn worker started as `make serve` does:

- cold start: from starting the process to the first 200 from /ready;
- single-record /predict against two constant-answer endpoints that validate the same
  request model: /bench/framework (FastAPI's own way: a declared body and a response model,
  the framework's ceiling) and /bench/fastpath (the request path /predict uses, without the
  model); at 1, 16 and 64 connections, in alternating rounds so that changes in the machine's
  load hit them alike;
- /predict/batch in rows/s (1,000 records per request);
- a steady 500 requests/s on /predict for 60 s: p99 and errors;
- the same /predict served by scikit-learn (APP_RUNTIME=sklearn), for contrast;
- the prediction log's cost: /predict on two servers side by side, one logging (the default),
  one with APP_LOG_PREDICTIONS=false, in alternating rounds at 1 and 16 connections;
- the batch scoring command (`<package>.predict`) on 1,000,000 rows, CSV and Parquet (logging
  them, as by default).

Every server and the batch command log to a temporary folder, not the project's logs/.

It needs a trained, exported model (`dvc repro`) and wrk (Debian/Ubuntu: apt-get install wrk).
All traffic goes to 127.0.0.1. `--quick` shortens every run for a smoke test.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import csv as pa_csv

PACKAGE = "{{ cookiecutter.package_name }}"
PROJECT = Path(__file__).resolve().parents[1]
CONCURRENCY = (1, 16, 64)
LOG_CONCURRENCY = (1, 16)
BATCH_ROWS = 1_000
CLI_ROWS = 1_000_000
STEADY_RATE = 500
GOALS = {
    "share": 0.8,
    "steady_p99_ms": 10.0,
    "cold_start_s": 5.0,
    "cli_rows": 1e5,
    "batch_rows": 2e4,
    "log_ratio": 0.9,
}

WRK_SCRIPT = """
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local i = math.random(#bodies)
local mean_delay = %(delay_ms)f
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
if mean_delay > 0 then
  -- exponential pauses: arrivals at a steady average rate, not in lockstep
  delay = function() return -math.log(1 - math.random()) * mean_delay end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


@contextmanager
def server(log_dir: Path, **env: str):
    """uvicorn on a free port (as `make serve` runs it); yields (base URL, cold start in s)."""
    port = free_port()
    command = [sys.executable, "-m", f"{PACKAGE}.api.server", "--port", str(port)]
    logged = {"APP_PREDICTION_LOG": str(log_dir / f"predictions-{port}.sqlite")}
    environment = os.environ | {"APP_BENCHMARK": "1"} | logged | env
    log = open(log_dir / f"uvicorn-{port}.log", "w")  # noqa: SIM115 (closed below)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=PROJECT, env=environment, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        while get(f"{url}/ready") != 200:
            if process.poll() is not None or time.perf_counter() - started > 60:
                raise SystemExit(f"the server did not become ready; see {log.name}")
            time.sleep(0.02)
        yield url, time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def wrk(url: str, script: Path, connections: int, seconds: float) -> dict[str, float]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    found = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", output)
    if found is None:
        raise SystemExit(f"wrk printed no result:\n{output}")
    requests, micros, p50, p99, errors, status = map(int, found.groups())
    return {
        "rps": requests / (micros / 1e6),
        "p50": p50 / 1000,
        "p99": p99 / 1000,
        "errors": errors + status,
    }


def lua(folder: Path, name: str, bodies: Path, delay_ms: float = 0.0) -> Path:
    path = folder / f"{name}.lua"
    path.write_text(WRK_SCRIPT % {"bodies": bodies, "delay_ms": delay_ms}, encoding="utf-8")
    return path


def request_bodies(folder: Path) -> tuple[Path, Path]:
    """Real test rows as /predict bodies (one JSON per line), and one /predict/batch body."""
    sys.path.insert(0, str(PROJECT / "src"))
    from {{ cookiecutter.package_name }}.data.cleaning import clean_columns
    from {{ cookiecutter.package_name }}.data.schema import Schema
    from {{ cookiecutter.package_name }}.onnx.parity import api_rows

    meta = json.loads((PROJECT / "models" / "model.json").read_text(encoding="utf-8"))
    schema = Schema.model_validate(meta["schema"])
    test = pd.read_parquet(PROJECT / "data" / "processed" / "test.parquet")
    rows = api_rows(clean_columns(test, schema), schema)
    records = [dict(zip(schema.features, row, strict=True)) for row in rows]
    single = folder / "records.jsonl"
    single.write_text("".join(json.dumps(r) + "\n" for r in records[:2000]), encoding="utf-8")
    batch = [records[i % len(records)] for i in range(BATCH_ROWS)]
    batched = folder / "batch.jsonl"
    batched.write_text(json.dumps({"records": batch}) + "\n", encoding="utf-8")
    return single, batched


def ratio(part: float, whole: float) -> float:
    """part / whole; NaN (printed as such) when a stalled machine answered nothing in a run."""
    return part / whole if whole > 0 else math.nan


def compare(url: str, scripts: dict[str, Path], seconds: float, rounds: int) -> dict:
    """{(endpoint, connections): result}, the median of alternating rounds.

    "share" is an endpoint's requests/s over the first endpoint's in the same round, the
    median over rounds ("low" and "high" its range): runs seconds apart see the same load
    from other processes, so their ratio varies far less than either figure.
    """
    results: dict[tuple[str, int], list[dict]] = {}
    first = next(iter(scripts))
    for connections in CONCURRENCY:
        for _ in range(rounds):
            for path, script in scripts.items():
                result = wrk(f"{url}{path}", script, connections, seconds)
                results.setdefault((path, connections), []).append(result)
    summary = {}
    for (path, connections), runs in results.items():
        reference = results[(first, connections)]
        shares = [ratio(r["rps"], ref["rps"]) for r, ref in zip(runs, reference, strict=True)]
        summary[(path, connections)] = {
            **{name: statistics.median(r[name] for r in runs) for name in runs[0]},
            "share": statistics.median(shares),
            "low": min(shares),
            "high": max(shares),
        }
    return summary


def log_cost(folder: Path, script: Path, seconds: float, rounds: int) -> dict:
    """/predict's requests/s with the prediction log on and off: two servers started alike,
    measured in alternating rounds (which goes first alternates too); per connection count
    the medians and the median of each round's ratio on / off, with its range."""
    path = folder / "log-cost.sqlite"
    cost: dict = {}
    with (
        server(folder, APP_PREDICTION_LOG=str(path)) as (on, _),
        server(folder, APP_LOG_PREDICTIONS="false") as (off, _),
    ):
        for connections in LOG_CONCURRENCY:
            runs: dict[str, list[dict]] = {"on": [], "off": []}
            for i in range(rounds):
                for name, url in [("on", on), ("off", off)][:: 1 if i % 2 == 0 else -1]:
                    runs[name].append(wrk(f"{url}/predict", script, connections, seconds))
            pairs = zip(runs["on"], runs["off"], strict=True)
            ratios = [ratio(a["rps"], b["rps"]) for a, b in pairs]
            median = {name: statistics.median(r["rps"] for r in got) for name, got in runs.items()}
            cost[connections] = {
                **median,
                "p99_on": statistics.median(r["p99"] for r in runs["on"]),
                "p99_off": statistics.median(r["p99"] for r in runs["off"]),
                "ratio": statistics.median(ratios), "low": min(ratios), "high": max(ratios),
            }  # fmt: skip
    with sqlite3.connect(path) as conn:  # what the logging server wrote, its stop included
        cost["logged_rows"] = conn.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]
    return cost


def batch_command(folder: Path, rows: int) -> dict[str, float]:
    """End-to-end rows/s of the batch command on `rows` rows, CSV and Parquet."""
    test = pd.read_parquet(PROJECT / "data" / "processed" / "test.parquet")
    table = test.sample(rows, replace=True, random_state=0)
    rates = {}
    for suffix in ("csv", "parquet"):
        source, target = folder / f"rows.{suffix}", folder / f"scored.{suffix}"
        arrow = pa.Table.from_pandas(table, preserve_index=False)
        (pa_csv.write_csv if suffix == "csv" else pq.write_table)(arrow, source)
        started = time.perf_counter()
        command = [sys.executable, "-m", f"{PACKAGE}.predict", str(source), str(target)]
        env = os.environ | {"PYTHONPATH": str(PROJECT / "src")}
        env["APP_PREDICTION_LOG"] = str(folder / "batch-command.sqlite")
        done = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"the batch command failed:\n{done.stderr}")
        rates[suffix] = rows / (time.perf_counter() - started)
        scored = re.search(r"\((\d+) rows/s", done.stderr)
        rates[f"{suffix}_scoring"] = float(scored.group(1)) if scored else float("nan")
    return rates


def table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows[1:]])


def log_rows(log: dict) -> list[list[str]]:
    rows = [["connections", "log on req/s", "log off req/s", "on / off (range)", "p99 on / off ms"]]
    for connections in LOG_CONCURRENCY:
        r = log[connections]
        rows.append([
            str(connections), f"{r['on']:,.0f}", f"{r['off']:,.0f}",
            f"{r['ratio']:.2f} ({r['low']:.2f}-{r['high']:.2f})",
            f"{r['p99_on']:.2f} / {r['p99_off']:.2f}",
        ])  # fmt: skip
    rows.append(["rows in the log", f"{log['logged_rows']:,}", "", "", ""])
    return rows


def report(run: dict) -> str:
    onnx, sk = run["onnx"], run["sklearn"]
    rows = [["endpoint", "connections", "requests/s", "p50 ms", "p99 ms", "errors", "vs ceiling"]]
    names = {
        "/bench/framework": "ceiling: FastAPI body + response model, constant answer",
        "/bench/fastpath": "/predict's request path, constant answer",
        "/predict": "**/predict, ONNX Runtime**",
    }
    for connections in CONCURRENCY:
        ceiling = onnx[("/bench/framework", connections)]["rps"]
        entries = [(names[p], onnx[(p, connections)]) for p in names]
        # The scikit-learn server ran on its own: its share is against the ceiling's median.
        sklearn = sk[("/predict", connections)]
        sklearn_share = ratio(sklearn["rps"], ceiling)
        entries.append(("/predict, scikit-learn", sklearn | {"share": sklearn_share}))
        for name, r in entries:
            share = r["share"]
            rows.append([
                name, str(connections), f"{r['rps']:,.0f}", f"{r['p50']:.2f}", f"{r['p99']:.2f}",
                str(int(r["errors"])), f"{share:.2f}",
            ])  # fmt: skip
    predict = [onnx[("/predict", c)] for c in CONCURRENCY]
    shares = [r["share"] for r in predict]
    steady, cli, log = run["steady"], run["cli"], run["log"]
    goals = [
        ["goal", "target", "measured", "met"],
        ["/predict vs ceiling (1/16/64 conns)", f">= {GOALS['share']}",
         " / ".join(f"{s:.2f}" for s in shares) + " (rounds: "
         + ", ".join(f"{r['low']:.2f}-{r['high']:.2f}" for r in predict) + ")",
         str(min(shares) >= GOALS["share"])],
        [f"p99 at {STEADY_RATE} req/s for {run['steady_seconds']:.0f} s",
         f"< {GOALS['steady_p99_ms']:g} ms, 0 errors",
         f"{steady['p99']:.2f} ms at {steady['rps']:,.0f} req/s, {int(steady['errors'])} errors",
         str(steady["p99"] < GOALS["steady_p99_ms"] and steady["errors"] == 0)],
        ["/predict, prediction log on vs off (1 conn)", f">= {GOALS['log_ratio']}",
         f"{log[1]['ratio']:.2f} (rounds: {log[1]['low']:.2f}-{log[1]['high']:.2f}; 16 conns: "
         f"{log[16]['ratio']:.2f})", str(log[1]["ratio"] >= GOALS["log_ratio"])],
        ["cold start to ready", f"< {GOALS['cold_start_s']:g} s", f"{run['cold_start']:.2f} s",
         str(run["cold_start"] < GOALS["cold_start_s"])],
        [f"batch command, {run['cli_rows']:,} rows", f"> {GOALS['cli_rows']:,.0f} rows/s",
         f"CSV {cli['csv']:,.0f}, Parquet {cli['parquet']:,.0f} rows/s end to end",
         str(min(cli["csv"], cli["parquet"]) > GOALS["cli_rows"])],
        [f"/predict/batch, {BATCH_ROWS:,} records each", f"> {GOALS['batch_rows']:,.0f} rows/s",
         f"{run['batch_rows']:,.0f} rows/s (scikit-learn: {run['batch_rows_sklearn']:,.0f})",
         str(run["batch_rows"] > GOALS["batch_rows"])],
    ]  # fmt: skip
    return f"""# Serving benchmark

{run["when"]}; {run["machine"]}; model `{run["model"]}`, version `{run["version"]}`.
One uvicorn worker as `make serve` starts it; wrk with one thread, {run["seconds"]:g} s a run,
requests rotate over real test rows; each figure is the median of {run["rounds"]} rounds, and
"vs ceiling" the median of each round's ratio to the ceiling endpoint measured just before.
Another process on the machine changes absolute numbers: read the ratios.

{table(rows)}

The prediction log, on against off (two servers, alternating rounds):

{table(log_rows(log))}

Batch scoring: the command read, scored and wrote {run["cli_rows"]:,} rows at
{cli["csv"]:,.0f} rows/s from CSV and {cli["parquet"]:,.0f} rows/s from Parquet, process start
included (scoring alone: {cli["csv_scoring"]:,.0f} rows/s).

{table(goals)}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--steady-seconds", type=float, default=60)
    parser.add_argument("--cli-rows", type=int, default=CLI_ROWS, help="rows for the batch command")
    parser.add_argument(
        "--quick", action="store_true", help="2 s runs, one round, 10 s steady, 100,000 rows"
    )
    parser.add_argument("--out", type=Path, default=PROJECT / "reports" / "serving_benchmark.md")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.steady_seconds, args.cli_rows = 2, 1, 10, 100_000
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    if not (PROJECT / "models" / "serving" / "manifest.json").is_file():
        raise SystemExit("no exported model: run `dvc repro` first")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        single, batched = request_bodies(folder)
        scripts = {path: lua(folder, path.strip("/").replace("/", "_"), single) for path in
                   ("/bench/framework", "/bench/fastpath", "/predict")}  # fmt: skip
        batch_script = lua(folder, "batch", batched)
        run: dict = {"seconds": args.seconds, "rounds": args.rounds}
        run["steady_seconds"], run["cli_rows"] = args.steady_seconds, args.cli_rows
        with server(folder) as (url, cold_start):
            run["cold_start"] = cold_start
            ready = json.loads(urllib.request.urlopen(f"{url}/ready").read())
            run["version"], runtime = ready["model_version"], ready["runtime"]
            print(f"cold start {cold_start:.2f} s; {runtime} runtime; comparing endpoints...")
            run["onnx"] = compare(url, scripts, args.seconds, args.rounds)
            batch = wrk(f"{url}/predict/batch", batch_script, 1, args.seconds)
            run["batch_rows"] = batch["rps"] * BATCH_ROWS
            print(f"steady {STEADY_RATE} requests/s for {args.steady_seconds:g} s...")
            connections = 16
            steady = lua(folder, "steady", single, delay_ms=1000 * connections / STEADY_RATE)
            run["steady"] = wrk(f"{url}/predict", steady, connections, args.steady_seconds)
        print("scikit-learn runtime...")
        with server(folder, APP_RUNTIME="sklearn") as (url, _):
            run["sklearn"] = compare(url, {"/predict": scripts["/predict"]}, args.seconds / 2, 1)
            batch = wrk(f"{url}/predict/batch", batch_script, 1, args.seconds / 2)
            run["batch_rows_sklearn"] = batch["rps"] * BATCH_ROWS
        print("the prediction log, on against off...")
        run["log"] = log_cost(folder, scripts["/predict"], args.seconds, max(2, args.rounds // 2))
        print(f"batch command on {args.cli_rows:,} rows...")
        run["cli"] = batch_command(folder, args.cli_rows)

    from {{ cookiecutter.package_name }}.serving.metadata import ModelMeta

    run["model"] = ModelMeta.read(PROJECT / "models" / "model.json").champion
    run["when"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    run["machine"] = (
        f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}"
    )
    text = report(run)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
