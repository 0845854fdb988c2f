"""MLflow runs: one per training (a nested run per family, the champion's model logged) and
the evaluation's documents attached to it. Set up when called, never at import time, so tests
can point MLflow at a temporary store."""

from __future__ import annotations

import os
import subprocess
import tempfile
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import StageError
from ..serving.metadata import TrackingInfo

if TYPE_CHECKING:
    import pandas as pd

    from ..serving.predictor import Predictor
    from ..training.leaderboard import Candidate

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
# Pinned at logging time: inferring requirements costs MLflow several seconds per model.
_RUNTIME_PACKAGES = ("scikit-learn", "pandas", "numpy", "lightgbm", "xgboost-cpu", "xgboost")


def setup_mlflow(experiment: str) -> None:
    import mlflow

    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI)
    mlflow.set_experiment(experiment)


def pip_requirements() -> list[str]:
    pins = []
    for package in _RUNTIME_PACKAGES:
        try:
            pins.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return pins


def git_commit() -> str | None:
    """The checked-out commit, or None outside a git repository or before the first commit."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def log_training(
    experiment: str,
    logged: dict[str, Any],
    frame: pd.DataFrame,
    candidates: list[Candidate],
    champion: Predictor,
    board: pd.DataFrame,
    source: Path,
) -> TrackingInfo:
    """A parent run for this training, a nested run per family; the champion's model logged."""
    import mlflow
    from mlflow.models import infer_signature
    from skops.io import dumps, get_untrusted_types

    setup_mlflow(experiment)
    pipeline, meta = champion.pipeline, champion.meta
    example = champion.features(frame.head(5))
    with mlflow.start_run(run_name="train") as parent, tempfile.TemporaryDirectory() as tmp:
        mlflow.log_params(_flat(logged))
        with warnings.catch_warnings():  # MLflow's hints on source classes and integer columns
            warnings.simplefilter("ignore", UserWarning)
            dataset = mlflow.data.from_pandas(
                frame, source=str(Path(source).resolve()), name="train", targets=meta.target
            )
            mlflow.log_input(dataset, context="training")
        board.to_csv(Path(tmp, "leaderboard.csv"), index=False)
        mlflow.log_artifact(str(Path(tmp, "leaderboard.csv")))
        info, champion_run = None, ""
        for c in candidates:
            with mlflow.start_run(run_name=c.family, nested=True) as run:
                mlflow.log_params(c.config)
                mlflow.log_metrics({f"cv_{m}": mean for m, (mean, _) in c.cv.items()})
                mlflow.log_metrics({f"cv_{m}_std": std for m, (_, std) in c.cv.items()})
                mlflow.log_metrics(
                    {"fit_seconds": c.fit_seconds, "predict_ms_per_row": c.predict_ms_per_row}
                )
                if c.trials is not None:
                    path = Path(tmp, f"trials_{c.family}.csv")
                    c.trials.to_csv(path, index=False)
                    mlflow.log_artifact(str(path))
                if c.family != meta.champion:
                    continue
                champion_run = run.info.run_id
                mlflow.set_tag("champion", "true")
                info = mlflow.sklearn.log_model(
                    pipeline,
                    name="model",
                    signature=infer_signature(example, pipeline.predict(example)),
                    input_example=example,
                    pip_requirements=pip_requirements(),
                    skops_trusted_types=get_untrusted_types(data=dumps(pipeline)),
                )
    return TrackingInfo(
        parent_run_id=parent.info.run_id,
        run_id=champion_run,
        model_uri=info.model_uri if info else "",
    )


def _flat(nested: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}, for MLflow params."""
    out: dict[str, Any] = {}
    for key, value in nested.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= _flat(value, f"{name}.")
        else:
            out[name] = value
    return out


def log_to_mlflow(run_id: str, paths: list[Path], experiment: str) -> None:
    """Attach the documents and figures to the champion's MLflow run."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    setup_mlflow(experiment)
    client = MlflowClient()
    try:
        for path in paths:
            if path.is_dir():
                client.log_artifacts(run_id, str(path), artifact_path=f"evaluation/{path.name}")
            else:
                client.log_artifact(run_id, str(path), artifact_path="evaluation")
    except MlflowException as exc:
        raise StageError(
            f"MLflow run {run_id} (models/model.json) cannot take the report: {exc}; "
            "run `dvc repro -f train` to log a new one"
        ) from exc
