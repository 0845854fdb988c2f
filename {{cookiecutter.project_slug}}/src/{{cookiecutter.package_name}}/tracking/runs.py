"""MLflow runs: one per training (a nested run per family, the champion's tagged) and the
evaluation's documents attached to it; `register` logs the champion's model into its run.
Set up when called, never at import time, so tests can point MLflow at a temporary store."""

from __future__ import annotations

import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import StageError
from ..files import sha256
from ..serving.metadata import TrackingInfo
from .server import preflight, tracking_uri

if TYPE_CHECKING:
    import pandas as pd

    from ..training.leaderboard import Candidate

SCHEMA_ROWS = 1_000  # rows the logged dataset's column types are read from
DIGEST_CHARS = 16  # of the split file's SHA-256: MLflow stores a short digest


def setup_mlflow(experiment: str) -> None:
    """Point MLflow at MLFLOW_TRACKING_URI's store (checked first: one line if it does not
    answer) and at the project's experiment."""
    import mlflow

    uri = tracking_uri()
    preflight(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment)


def git_commit() -> str | None:
    """The checked-out commit, or None outside a git repository or before the first commit."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


@dataclass
class Training:
    """What a training's runs record: the settings logged as params, the training rows (or
    their first SCHEMA_ROWS: the dataset record reads no more), every candidate, the
    champion's family, the leaderboard and the training split's file."""

    settings: dict[str, Any]
    frame: pd.DataFrame
    candidates: list[Candidate]
    champion: str
    board: pd.DataFrame
    source: Path


def log_training(training: Training) -> TrackingInfo:
    """A parent run for this training, a nested run per family; the champion family's
    tagged. After setup_mlflow (in `process.TrackingProcess`)."""
    import mlflow

    with mlflow.start_run(run_name="train") as parent, tempfile.TemporaryDirectory() as tmp:
        mlflow.log_params(_flat(training.settings))
        mlflow.log_input(_dataset(training.frame, training.source), context="training")
        training.board.to_csv(Path(tmp, "leaderboard.csv"), index=False)
        mlflow.log_artifact(str(Path(tmp, "leaderboard.csv")))
        tracked = TrackingInfo(parent_run_id=parent.info.run_id)
        for candidate in training.candidates:
            with mlflow.start_run(run_name=candidate.family, nested=True) as run:
                _log_candidate(candidate, Path(tmp))
                if candidate.family == training.champion:
                    mlflow.set_tag("champion", "true")
                    tracked.run_id = run.info.run_id
    return tracked


def _dataset(frame: pd.DataFrame, source: Path) -> Any:
    """The training split as MLflow's dataset record: its file, the file's checksum and the
    columns' types. Not `mlflow.data.from_pandas`: it infers the types from every row (85 s
    on 800,000 rows here) where a sample tells the same."""
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.models import infer_signature

    with warnings.catch_warnings():  # MLflow's hints on integer columns and source classes
        warnings.simplefilter("ignore", UserWarning)
        schema = infer_signature(frame.head(SCHEMA_ROWS)).inputs
        location = resolve_dataset_source(str(source.resolve()))
    return MetaDataset(location, "train", sha256(source)[:DIGEST_CHARS], schema)


def _log_candidate(candidate: Candidate, tmp: Path) -> None:
    """A family's tuned params, CV scores, timings and Optuna trials, in the active run."""
    import mlflow

    mlflow.log_params(candidate.config)
    mlflow.log_metrics({f"cv_{m}": mean for m, (mean, _) in candidate.cv.items()})
    mlflow.log_metrics({f"cv_{m}_std": std for m, (_, std) in candidate.cv.items()})
    timings = {
        "fit_seconds": candidate.fit_seconds,
        "predict_ms_per_row": candidate.predict_ms_per_row,
    }
    mlflow.log_metrics(timings)
    if candidate.trials is not None:
        path = tmp / f"trials_{candidate.family}.csv"
        candidate.trials.to_csv(path, index=False)
        mlflow.log_artifact(str(path))


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


def log_to_mlflow(run_id: str, paths: list[Path]) -> None:
    """Attach the documents and figures to the champion's MLflow run (after setup_mlflow)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

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
