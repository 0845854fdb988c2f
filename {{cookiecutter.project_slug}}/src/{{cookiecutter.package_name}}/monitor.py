"""Monitor the deployed model: has the incoming data moved away from the training data, and
has the model got worse where the true outcomes are known?

    python -m {{ cookiecutter.package_name }}.monitor                      # the log's last week
    python -m {{ cookiecutter.package_name }}.monitor --since 2026-05-01 --until 2026-06-01
    python -m {{ cookiecutter.package_name }}.monitor --current new.csv    # a CSV or Parquet batch
    python -m {{ cookiecutter.package_name }}.monitor --outcomes outcomes.csv   # request_id, target
    python -m {{ cookiecutter.package_name }}.monitor --outcomes outcomes.csv --labelled new_rows.csv

Writes reports/monitoring/summary.json and report.html (--out), logs them to MLflow, and
exits 0 when all is well, 3 on drift, 4 when the model is degraded (1: an input is wrong, one
line says which; 2: a wrong command line). Thresholds: `monitor:` in params.yaml.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from .config import load_params
from .errors import StageError
from .monitoring.check import monitor
from .monitoring.current import read_log, read_table
from .monitoring.outcomes import join_outcomes, labelled_rows
from .monitoring.report import write_report
from .monitoring.writer import LogSettings
from .runner import run
from .serving.batch import write_table
from .serving.predictor import Predictor
from .tracking.monitoring_runs import log_monitoring

log = logging.getLogger(__name__)


def moment(text: str) -> datetime:
    """A date or date-time (ISO 8601); without a zone, UTC."""
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {text!r}") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_log = LogSettings().prediction_log
    parser.add_argument("--log", type=Path, default=default_log, help="the prediction log file")
    parser.add_argument("--since", type=moment, help="window start (default: window_days ago)")
    parser.add_argument("--until", type=moment, help="window end, excluded (default: now)")
    parser.add_argument("--current", type=Path, help="judge this CSV/Parquet table, not the log")
    parser.add_argument("--outcomes", type=Path, help="true outcomes: request_id, [row,] target")
    parser.add_argument("--model-dir", type=Path, default=Path("models"))
    parser.add_argument("--train", type=Path, default=Path("data/processed/train.parquet"))
    parser.add_argument("--test", type=Path, default=Path("data/processed/test.parquet"))
    parser.add_argument("--metrics", type=Path, default=Path("reports/metrics.json"))
    parser.add_argument("--out", type=Path, default=Path("reports/monitoring"))
    parser.add_argument("--no-mlflow", action="store_true", help="do not log the run to MLflow")
    parser.add_argument(
        "--labelled", type=Path, help="write the rows with outcomes as new training rows (CSV)"
    )
    raw = Path("data/raw/data.parquet")
    parser.add_argument("--raw", type=Path, default=raw, help="--labelled's column order")
    return parser.parse_args()


def _read_report(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StageError(f"{path}: not found (run `dvc repro` first)") from None
    except ValueError as exc:
        raise StageError(f"{path}: not valid JSON ({exc})") from None


def main() -> None:
    args = arguments()
    params = load_params()
    cfg = params.monitor
    predictor = Predictor.load(args.model_dir, runtime="auto")
    if args.current:
        current = read_table(args.current, predictor)
    else:
        until = args.until or datetime.now(UTC)
        since = args.since or until - timedelta(days=cfg.window_days)
        current = read_log(args.log, since, until, predictor)
    unknown = 0
    if args.outcomes:
        current, unknown = join_outcomes(current, args.outcomes, predictor.meta.target)
    labelled = None
    if args.labelled:
        columns = pq.read_schema(args.raw).names if args.raw.is_file() else []
        labelled = labelled_rows(current, predictor.meta.target, columns)
    if len(current.frame) < cfg.min_rows:
        raise StageError(
            f"{current.source}: too few rows to judge drift (monitor.min_rows: {cfg.min_rows})"
        )
    report = _read_report(args.metrics)
    train, test = pd.read_parquet(args.train), pd.read_parquet(args.test)
    result = monitor(predictor, train, test, current, report, cfg, params.seed, unknown)
    write_report(result, params.project.name, args.out)
    if labelled is not None:
        write_table(labelled, args.labelled)
        log.info("%d rows with outcomes written to %s", len(labelled), args.labelled)
    if not args.no_mlflow:
        run_id = log_monitoring(params.mlflow.experiment, result.summary(), args.out)
        log.info("logged to MLflow run %s", run_id)
    crossed = [j.drift.name for j in result.features if j.crossed]
    log.info(
        "%s on %d rows (%s); crossed: %s; performance: %s; report in %s",
        result.verdict, result.rows, current.source, ", ".join(crossed) or "nothing",
        result.performance_note, args.out,
    )  # fmt: skip
    sys.exit(result.exit_code)


if __name__ == "__main__":
    run(main)
