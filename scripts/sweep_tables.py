"""Run the template on tables nobody tuned it for: bake each one as a custom table, `dvc repro`
it with the default params, serve it, and post its source table's rows, as they appear there
(the target and the dropped columns included), to /predict one by one and to /predict/batch.

A table passes when every stage ends and every record is answered with a 200. The list covers
what breaks templates: a count target, targets with missing values, a wide table of values near
1e-20, 32 classes, dates as text, list-like text, leaked columns, a table of 88 rows, a word
among numbers. It prints one line per table (rows, columns, problem, seconds per stage,
champion, primary test score, answers); the bench-train tables (`bench_train.py`) are the
ones scored against the peers.

    python scripts/sweep_tables.py [--tables mpg esoph] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

# Run as a script, so scripts/ is on sys.path and its sibling modules import directly.
from baking import CommandFailed, bake, package_name, project_env, serve
from bench_train import Table, context, timed_repro

SINGLE_RECORDS = 300  # rows posted one by one (all of them in one batch, up to BATCH_RECORDS)
BATCH_RECORDS = 5000
TABLES = {
    table.name: table
    for table in [
        Table("creditcard", "binary; two leaked columns", "AER/CreditCard", "card"),
        Table("titanic", "binary; names as row names", "carData/TitanicSurvival", "survived"),
        Table("mpg", "regression; 234 rows", "ggplot2/mpg", "hwy"),
        Table("txhousing", "regression; 616 rows without a target", "ggplot2/txhousing",
              "median"),
        Table("credit_data", "binary; missing values", "modeldata/credit_data", "Status"),
        Table("sacramento", "regression; high-cardinality text", "modeldata/Sacramento",
              "price"),
        Table("starwars", "binary; 87 rows, list-like text", "dplyr/starwars", "gender"),
        Table("wages", "regression; panel data", "Ecdat/Wages", "lwage"),
        Table("ad_data", "binary; 333 rows, 132 columns", "modeldata/ad_data", "Class"),
        Table("scat", "multiclass; 110 rows", "modeldata/scat", "Species"),
        Table("esoph", "a count target; 88 rows", "datasets/esoph", "ncases"),
        Table("lending_club", "binary; 5% positives", "modeldata/lending_club", "Class"),
        Table("weather", "regression; 26,115 rows, dates as text", "nycflights13/weather",
              "temp"),
        Table("loans", "regression; 56 columns", "openintro/loans_full_schema",
              "interest_rate"),
        Table("pd_speech", "binary; 252 rows, 752 columns near 1e-20", "modeldata/pd_speech",
              "class"),
        Table("leaf", "multiclass; 32 classes", "modeldata/leaf_id_flavia", "species"),
        Table("car_prices", "regression; 804 rows", "modeldata/car_prices", "Price"),
        Table("cars93", 'multiclass; 93 rows, "rotary" among cylinder counts', "MASS/Cars93",
              "Type"),
        Table("deliveries", "regression; 10,012 rows", "modeldata/deliveries",
              "time_to_delivery"),
        Table("default", "binary; 3% positives, 10,000 rows", "ISLR/Default", "default"),
        Table("taxi", "binary; hour, weekday and month as text", "modeldata/taxi", "tip"),
        Table("housing", "regression; yes/no columns, 546 rows", "Ecdat/Housing", "price"),
        Table("arrests", "binary; police records", "carData/Arrests", "released"),
        Table("hmda", "binary; mortgage denials", "AER/HMDA", "deny"),
        Table("stackoverflow", "regression; a salary", "modeldata/stackoverflow", "Salary"),
        Table("hfi", "regression; 124 columns with gaps, a target made of two columns",
              "openintro/hfi", "hf_score"),
        Table("chicago", "regression; 51 columns of daily counts and dates", "modeldata/Chicago",
              "ridership"),
        Table("survey", "multiclass; 237 rows of a class survey", "MASS/survey", "Smoke"),
        Table("permeability", "regression; 165 rows, 1,108 fingerprint columns",
              "modeldata/permeability_qsar", "permeability"),
        Table("meats", "regression; 215 rows: 100 absorbances, water and protein",
              "modeldata/meats", "fat"),
        Table("affairs", "a count read as six classes; 601 rows", "AER/Affairs", "affairs"),
        Table("storms", "multiclass; 19,537 rows", "dplyr/storms", "status"),
        Table("hotel_rates", "regression; 15,402 rows, 29 columns", "modeldata/hotel_rates",
              "avg_price_per_room"),
    ]
}  # fmt: skip


def answers(url: str, records: list[dict[str, Any]]) -> tuple[str, bool]:
    """How /predict answered each of the first records, and /predict/batch all of them; and
    whether every answer was a 200."""
    single = Counter(
        httpx.post(f"{url}/predict", json=record, timeout=60).status_code
        for record in records[:SINGLE_RECORDS]
    )
    batch = httpx.post(
        f"{url}/predict/batch", json={"records": records[:BATCH_RECORDS]}, timeout=300
    )
    counts = ", ".join(f"{count} x {status}" for status, count in sorted(single.items()))
    passed = set(single) == {200} and batch.status_code == 200
    return f"/predict {counts}; /predict/batch {batch.status_code}", passed


def sweep_table(table: Table, folder: Path) -> tuple[str, bool]:
    """The table's line, and whether it passed."""
    folder.mkdir(parents=True, exist_ok=True)
    project = bake(folder, context(table, folder))
    source = pd.read_parquet(folder / f"{table.name}.parquet")
    env = project_env(project)
    total, stages = timed_repro(project, env, folder / "dvc-repro.log")
    metrics = json.loads((project / "reports" / "metrics.json").read_text("utf-8"))
    metric = metrics["primary_metric"]
    # The table as it is: NaN and NaT become null, dates ISO text.
    records = json.loads(source.to_json(orient="records", date_format="iso"))
    with serve(project, package_name(project), env) as url:
        answered, passed = answers(url, records)
    times = " ".join(f"{name} {seconds:.0f}" for name, seconds in stages.items())
    line = (
        f"{table.name}: {len(source):,} rows x {source.shape[1]}, {metrics['problem_type']}; "
        f"dvc repro {total:.0f} s ({times}); {metrics['champion']} {metric} "
        f"{metrics['test'][metric]:.4f}; {answered}"
    )
    return line, passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", choices=TABLES, default=list(TABLES))
    parser.add_argument("--out", type=Path, help="bake here and keep the projects and logs")
    args = parser.parse_args()
    failed = []
    with tempfile.TemporaryDirectory(prefix="sweep-") as tmp:
        out = args.out or Path(tmp)
        for name in args.tables:
            try:
                line, passed = sweep_table(TABLES[name], out / name)
            except CommandFailed as err:  # the other tables still run
                line, passed = f"{name}: FAILED: {str(err)[-1500:]}", False
            print(line, flush=True)
            failed += [] if passed else [name]
    print(f"\n{len(args.tables) - len(failed)} of {len(args.tables)} tables passed"
          + (f"; failed: {', '.join(failed)}" if failed else "."))  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
