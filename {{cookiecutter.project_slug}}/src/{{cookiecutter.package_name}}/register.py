"""Stage `register`: attach the evaluation to the champion's MLflow run, log the served
champion as an MLflow pyfunc model (after `export`: the ONNX graph the service runs) with its
test metrics, and register it in MLflow if it earns it.

The champion gets the alias `champion` only if it beats a naive baseline on the test split
and is not worse (beyond `register.tolerance`) than the registered champion on the same
test split. Otherwise the stage says why and the registered champion stays.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import pandas as pd

from .config import load_params
from .files import sha256, write_json
from .runner import run
from .serving.artifacts import META_FILE
from .serving.metadata import ModelMeta
from .tracking.registry import ALIAS, Split, naive_score, register
from .tracking.runs import log_to_mlflow, setup_mlflow

log = logging.getLogger(__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--metrics", type=Path, required=True)
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--documents", type=Path, nargs="+", default=[], help="files and folders for the run"
    )
    args = parser.parse_args()
    params = load_params()

    meta = ModelMeta.read(args.model_dir / META_FILE)
    report = json.loads(args.metrics.read_text(encoding="utf-8"))
    train = pd.read_parquet(args.train, columns=[meta.target])  # the naive baseline's guess
    test = pd.read_parquet(args.test)
    split = Split(test, sha256(args.test), naive_score(train, test, meta))
    setup_mlflow(params.mlflow.experiment)  # fails here, in one line, if MLflow cannot log
    if meta.mlflow.run_id:
        log_to_mlflow(meta.mlflow.run_id, args.documents)
        log.info("evaluation logged to MLflow run %s", meta.mlflow.run_id)
    else:
        log.warning("`train` did not log to MLflow: the champion gets a run of its own")
    name, tolerance = params.mlflow.registered_model, params.registration.tolerance
    outcome = register(meta, report, split, name, tolerance, args.model_dir)
    if outcome["registered"]:
        log.info("registered %s version %s as @%s: %s", outcome["model"], outcome["version"],
                 ALIAS, outcome["reason"])  # fmt: skip
    else:
        log.warning("not registered, the registered champion stays: %s", outcome["reason"])
    write_json(outcome, args.out)


if __name__ == "__main__":
    run(main)
