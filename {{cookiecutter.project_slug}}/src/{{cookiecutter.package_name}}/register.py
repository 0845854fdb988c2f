"""Stage `register`: log the test metrics to the champion's MLflow run and register it."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from . import cli
from .config import load_params
from .tables import write_json
from .tracking import setup_mlflow

log = logging.getLogger(__name__)


def register(meta: dict[str, Any], report: dict[str, Any], model_name: str) -> dict[str, Any]:
    """Register the logged champion under `model_name` with the alias `champion`."""
    import mlflow
    from mlflow import MlflowClient

    tracked = meta.get("mlflow") or {}
    if not tracked.get("run_id"):
        return {"registered": False, "reason": "the model was not logged to MLflow"}
    with mlflow.start_run(run_id=tracked["run_id"]):
        mlflow.log_metrics({f"test_{name}": value for name, value in report["test"].items()})
    version = mlflow.register_model(tracked["model_uri"], model_name).version
    MlflowClient().set_registered_model_alias(model_name, "champion", version)
    return {
        "registered": True,
        "model": model_name,
        "version": str(version),
        "alias": "champion",
        "run_id": tracked["run_id"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--metrics", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    params = load_params()

    meta = json.loads((args.model_dir / "model.json").read_text(encoding="utf-8"))
    report = json.loads(args.metrics.read_text(encoding="utf-8"))
    setup_mlflow(params.mlflow.experiment)
    outcome = register(meta, report, params.mlflow.registered_model)
    if outcome["registered"]:
        log.info("registered %s version %s as @champion", outcome["model"], outcome["version"])
    else:
        log.warning("not registered: %s", outcome["reason"])
    write_json(outcome, args.out)


if __name__ == "__main__":
    cli.run(main)
