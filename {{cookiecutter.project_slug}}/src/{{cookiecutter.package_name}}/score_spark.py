"""Batch scoring on Spark: a Parquet dataset in, its rows with predictions out, as Parquet.

    python -m {{ cookiecutter.package_name }}.score_spark --input PATH --output PATH [--model-dir models]
    spark-submit ... scripts/score_spark_main.py --input PATH --output PATH [--model-dir models]

INPUT is a Parquet file or folder (hive-partitioned folders such as region=north/ add their
column); OUTPUT gets a folder of Parquet files holding every input column and the batch
command's `prediction` and `probability_<label>` columns, partitioned as the input is (or by
`--partition-by`). The exported ONNX graph scores every row through the API's feature path
(`scoring.spark`). Run as a module, it starts Spark in local mode (`--master`, default
local[*]); under spark-submit (scripts/score_spark_main.py), spark-submit's master and
settings apply. Needs the `spark` extra (pyspark) and Java 17 or 21.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from .errors import StageError
from .runner import run

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None, submitted: bool = False) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, help="Parquet file or folder to score")
    parser.add_argument("--output", required=True, help="folder to write the scored rows to")
    parser.add_argument("--model-dir", type=Path, default=Path("models"))
    parser.add_argument(
        "--partition-by", nargs="*", default=None, metavar="COLUMN",
        help="partition the output by these columns (default: the input's partitions)",
    )  # fmt: skip
    if not submitted:
        parser.add_argument("--master", default="local[*]", help="Spark master (local mode)")
        parser.add_argument("--driver-memory", default="1g", help="the local driver's memory")
    args = parser.parse_args(argv)
    try:
        from .scoring import spark
    except ImportError as exc:
        raise StageError(
            f"score-spark needs pyspark ({exc.name} is missing): install the `spark` extra, "
            "pip install -e '.[spark]'"
        ) from None

    started = time.perf_counter()
    master = None if submitted else args.master
    session = spark.session(master, None if submitted else args.driver_memory)
    ready = time.perf_counter()
    try:
        rows = spark.score(session, args.input, args.output, args.model_dir, args.partition_by)
    finally:
        session.stop()
    seconds = time.perf_counter() - ready
    log.info(
        "%d rows scored on Spark in %.1f s (%.0f rows/s; the session started in %.1f s), "
        "written to %s",
        rows, seconds, rows / max(seconds, 1e-9), ready - started, args.output,
    )  # fmt: skip


def submit() -> None:
    """spark-submit's entry (scripts/score_spark_main.py): its master and settings apply."""
    run(lambda: main(submitted=True))


if __name__ == "__main__":
    run(main)
