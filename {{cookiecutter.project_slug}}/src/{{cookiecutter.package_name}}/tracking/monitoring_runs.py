"""A monitor run in MLflow: one run named `monitor` in the project's experiment, tagged with
its verdict and the model version it judged, with the drift scores and the performance as
metrics and summary.json and report.html as artifacts; `mlflow ui` then shows the verdicts
and scores over time beside the training runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .runs import setup_mlflow

_UNSAFE = re.compile(r"[^A-Za-z0-9_\-. /]")  # MLflow metric names allow only these


def metric_name(text: str) -> str:
    return _UNSAFE.sub("_", text)[:250]


def log_monitoring(experiment: str, summary: dict[str, Any], folder: Path) -> str:
    """Log the run; return its id."""
    import mlflow

    setup_mlflow(experiment)
    with mlflow.start_run(run_name="monitor") as run:
        mlflow.set_tags({
            "verdict": summary["verdict"], "model_version": summary["model_version"],
            "source": summary["source"][:5000],
        })  # fmt: skip
        metrics = {"rows": summary["rows"], "exit_code": summary["exit_code"]}
        metrics["features_crossed"] = sum(f["crossed"] for f in summary["features"])
        metrics |= {metric_name(f"psi.{f['name']}"): f["score"] for f in summary["features"]}
        metrics["psi.prediction"] = summary["prediction"]["score"]
        performance = summary["performance"]
        if performance:
            metrics["outcomes"] = performance["rows"]
            metrics |= {metric_name(f"now.{k}"): v for k, v in performance["metrics"].items()}
        mlflow.log_metrics(metrics)
        for name in ("summary.json", "report.html"):
            mlflow.log_artifact(str(folder / name), artifact_path="monitoring")
    return run.info.run_id
