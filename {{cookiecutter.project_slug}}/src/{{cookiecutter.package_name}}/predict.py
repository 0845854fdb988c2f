"""Batch scoring: a CSV or Parquet table in, the same table with predictions out.

    python -m {{ cookiecutter.package_name }}.predict INPUT OUTPUT [--model-dir models]

INPUT is a CSV (optionally .gz) or Parquet file, or a folder of Parquet files (hive-partitioned
folders such as region=north/ add their column), with one column per feature (other columns
are kept); OUTPUT gets the same table with a `prediction` column and, for classification,
one `probability_<label>` column per class: CSV or Parquet by its suffix. The table is read,
scored and written chunk by chunk, so memory does not grow with its length, and OUTPUT appears
only once every row is scored. It runs the served model (ONNX Runtime once `dvc repro` has
exported it) through the same feature path as the API and the evaluation. The scored rows go
to the prediction log as the service's do (the APP_PREDICTION_LOG file; `--no-log` or
APP_LOG_PREDICTIONS=false: not), under one request id for the run, each row by its place in
the table.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .monitoring.writer import LogSettings, PredictionLog, table_rows
from .runner import run
from .scoring.stream import score_file
from .serving.predictor import Predictor

log = logging.getLogger(__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, help="CSV or Parquet table (or folder) to score")
    parser.add_argument("output", type=Path, help="where to write it with predictions")
    parser.add_argument("--model-dir", type=Path, default=Path("models"))
    parser.add_argument("--runtime", choices=["auto", "onnx", "sklearn"], default="auto")
    parser.add_argument("--no-log", action="store_true", help="leave the prediction log alone")
    args = parser.parse_args()

    predictor = Predictor.load(args.model_dir, runtime=args.runtime, threads=0)  # every core
    started = time.perf_counter()
    settings = LogSettings()
    logged = RowLog(predictor, settings) if settings.log_predictions and not args.no_log else None
    try:
        stats = score_file(predictor, str(args.input), args.output, logged)
    finally:
        if logged is not None:
            logged.close()
    seconds = time.perf_counter() - started
    log.info(
        "%d rows in %d chunks: read %.2f s, scored %.2f s (%.0f rows/s, %s runtime), "
        "written to %s; %.0f rows/s in all, peak memory %s",
        stats.rows,
        stats.chunks,
        stats.read_seconds,
        stats.score_seconds,
        stats.rows / max(stats.score_seconds, 1e-9),
        predictor.runtime,
        args.output,
        stats.rows / max(seconds, 1e-9),
        peak_memory(),
    )
    if logged is not None:
        log.info("logged to %s as request %s", settings.prediction_log, logged.request_id)


def peak_memory() -> str:
    """This process's peak resident memory so far, where the system reports it."""
    try:
        import resource
    except ImportError:  # Windows
        return "not measured"
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20:.0f} MB"


class RowLog:
    """Each scored chunk appended to the prediction log, under one request id for the run (the
    log's memory stays flat on a large table: each chunk is flushed before the next)."""

    def __init__(self, predictor: Predictor, settings: LogSettings) -> None:
        schema = predictor.schema
        self.predictor = predictor
        self.names = [*schema.features, *schema.dropped]
        classes = predictor.class_names if predictor.classes is not None else None
        self.writer = PredictionLog(settings, self.names, classes)
        self.request_id = secrets.token_hex(16)

    def __call__(
        self, frame: pd.DataFrame, labels: list[Any], proba: np.ndarray | None, first: int
    ) -> None:
        rows = table_rows(frame, self.names)
        answers = self.predictor.answers(labels, proba)
        self.writer.add("command", self.request_id, self.predictor.version, rows, answers, first)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


if __name__ == "__main__":
    run(main)
