"""Stage `evaluate`: score the champion on the held-out test split and register it."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from . import cli
from .config import load_params
from .metrics import classification_metrics, regression_metrics
from .predictor import Predictor
from .tables import write_json
from .tracking import setup_mlflow
from .train import encode

log = logging.getLogger(__name__)


def evaluate(predictor: Predictor, test: pd.DataFrame) -> dict[str, Any]:
    """Held-out metrics of the champion, through the same path the API serves."""
    target = predictor.meta["target"]
    labels, proba = predictor.predict_frame(test)
    if proba is None:
        scores = regression_metrics(test[target].to_numpy(dtype=float), labels)
    else:
        y_true = encode(test[target], predictor.classes)
        scores = classification_metrics(
            predictor.meta["problem_type"], y_true, proba, predictor.decide(proba)
        )
    return {
        "champion": predictor.meta["champion"],
        "problem_type": predictor.meta["problem_type"],
        "test_rows": len(test),
        "test": scores,
    }


def register(predictor: Predictor, report: dict[str, Any], model_name: str) -> str | None:
    """Log the test metrics to the champion's run and register it with the alias `champion`."""
    import mlflow
    from mlflow import MlflowClient

    tracked = predictor.meta.get("mlflow") or {}
    if not tracked.get("run_id"):
        log.warning("the model was not logged to MLflow; nothing to register")
        return None
    with mlflow.start_run(run_id=tracked["run_id"]):
        mlflow.log_metrics({f"test_{name}": value for name, value in report["test"].items()})
    version = mlflow.register_model(tracked["model_uri"], model_name).version
    MlflowClient().set_registered_model_alias(model_name, "champion", version)
    log.info("registered %s version %s as @champion", model_name, version)
    return str(version)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--metrics", type=Path, required=True)
    args = parser.parse_args()
    params = load_params()

    predictor = Predictor.load(args.model_dir)
    report = evaluate(predictor, pd.read_parquet(args.test))
    setup_mlflow(params.mlflow.experiment)
    report["registered_version"] = register(predictor, report, params.mlflow.registered_model)
    write_json(report, args.metrics)
    shown = ", ".join(f"{k} {v:.4f}" for k, v in report["test"].items())
    log.info("%s on the test split: %s", report["champion"], shown)


if __name__ == "__main__":
    cli.run(main)
