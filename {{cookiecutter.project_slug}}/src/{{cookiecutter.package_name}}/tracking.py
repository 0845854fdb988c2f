"""MLflow set-up, kept out of import time so tests can point it at a temporary store."""

from __future__ import annotations

import os
import subprocess
from importlib.metadata import PackageNotFoundError, version

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
