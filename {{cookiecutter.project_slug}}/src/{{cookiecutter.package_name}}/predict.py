"""Batch scoring: a CSV or Parquet table in, the same table with predictions out.

    python -m {{ cookiecutter.package_name }}.predict INPUT OUTPUT [--model-dir models]

INPUT is a CSV (optionally .gz) or Parquet table with one column per feature (other columns
are kept); OUTPUT gets the same table with a `prediction` column and, for classification,
one `probability_<label>` column per class: CSV or Parquet by its suffix. It runs the served
model (ONNX Runtime once `dvc repro` has exported it) through the same feature path as the
API and the evaluation. The scored rows go to the prediction log as the service's do (the
APP_PREDICTION_LOG file; `--no-log` or APP_LOG_PREDICTIONS=false: not), under one request id
for the run, each row by its place in the table.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .data.sources import read_source
from .monitoring.writer import LogSettings, PredictionLog, table_rows
from .runner import run
from .serving.batch import write_table
from .serving.predictor import Predictor

log = logging.getLogger(__name__)

LOG_CHUNK = 50_000  # rows handed to the prediction log at a time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, help="CSV or Parquet table to score")
    parser.add_argument("output", type=Path, help="where to write it with predictions")
    parser.add_argument("--model-dir", type=Path, default=Path("models"))
    parser.add_argument("--runtime", choices=["auto", "onnx", "sklearn"], default="auto")
    parser.add_argument("--no-log", action="store_true", help="leave the prediction log alone")
    args = parser.parse_args()

    predictor = Predictor.load(args.model_dir, runtime=args.runtime, threads=0)  # every core
    started = time.perf_counter()
    frame = read_source(str(args.input))
    read = time.perf_counter()
    labels, proba = predictor.predict_frame(frame)
    done = time.perf_counter()
    write_table(predictor.with_predictions(frame, (labels, proba)), args.output)
    settings = LogSettings()
    if settings.log_predictions and not args.no_log:
        log_rows(predictor, frame, labels, proba, settings)
    log.info(
        "%d rows: read %.2f s, scored %.2f s (%.0f rows/s, %s runtime), written to %s",
        len(frame),
        read - started,
        done - read,
        len(frame) / max(done - read, 1e-9),
        predictor.runtime,
        args.output,
    )


def log_rows(
    predictor: Predictor,
    frame: pd.DataFrame,
    labels: list[Any],
    proba: np.ndarray | None,
    settings: LogSettings,
) -> None:
    """Append the scored table to the prediction log under one new request id, LOG_CHUNK
    rows at a time (the log's memory stays flat on a large table)."""
    schema = predictor.schema
    names = [*schema.features, *schema.dropped]
    classes = predictor.class_names if predictor.classes is not None else None
    writer = PredictionLog(settings, names, classes)
    rid = secrets.token_hex(16)
    try:
        for start in range(0, len(frame), LOG_CHUNK):
            end = start + LOG_CHUNK
            rows = table_rows(frame.iloc[start:end], names)
            part = None if proba is None else proba[start:end]
            answers = predictor.answers(labels[start:end], part)
            writer.add("command", rid, predictor.version, rows, answers, first=start)
            writer.flush()
    finally:
        writer.close()
    last = len(frame) - 1
    log.info("logged to %s as request %s, rows 0 to %d", settings.prediction_log, rid, last)


if __name__ == "__main__":
    run(main)
