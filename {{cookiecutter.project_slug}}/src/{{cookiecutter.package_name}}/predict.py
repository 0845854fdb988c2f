"""Batch scoring: a CSV or Parquet table in, the same table with predictions out.

    python -m {{ cookiecutter.package_name }}.predict INPUT OUTPUT [--model-dir models]

INPUT is a CSV (optionally .gz) or Parquet table with one column per feature (other columns
are kept); OUTPUT gets the same table with a `prediction` column and, for classification,
one `probability_<label>` column per class: CSV or Parquet by its suffix. It runs the served
model (ONNX Runtime once `dvc repro` has exported it) through the same feature path as the
API and the evaluation.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from .data.sources import read_source
from .runner import run
from .serving.batch import write_table
from .serving.predictor import Predictor

log = logging.getLogger(__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, help="CSV or Parquet table to score")
    parser.add_argument("output", type=Path, help="where to write it with predictions")
    parser.add_argument("--model-dir", type=Path, default=Path("models"))
    parser.add_argument("--runtime", choices=["auto", "onnx", "sklearn"], default="auto")
    args = parser.parse_args()

    predictor = Predictor.load(args.model_dir, runtime=args.runtime, threads=0)  # every core
    started = time.perf_counter()
    frame = read_source(str(args.input))
    read = time.perf_counter()
    scored = predictor.with_predictions(frame)
    done = time.perf_counter()
    write_table(scored, args.output)
    log.info(
        "%d rows: read %.2f s, scored %.2f s (%.0f rows/s, %s runtime), written to %s",
        len(frame),
        read - started,
        done - read,
        len(frame) / max(done - read, 1e-9),
        predictor.runtime,
        args.output,
    )


if __name__ == "__main__":
    run(main)
