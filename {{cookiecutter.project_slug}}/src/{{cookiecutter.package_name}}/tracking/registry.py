"""The registration gate: the champion gets the alias `champion` only if it beats a naive
baseline and is not worse (beyond `register.tolerance`) than the registered champion."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import StageError
from ..evaluation.direction import better
from ..serving.metadata import ModelMeta, TrackingInfo
from .champion import LoggedChampion, log_champion

ALIAS = "champion"


@dataclass(frozen=True)
class Split:
    """The held-out test split the gate judges on: its rows, file checksum and the naive
    baseline's score on it."""

    test: pd.DataFrame
    sha256: str
    naive: float


def naive_score(train: pd.DataFrame, test: pd.DataFrame, meta: ModelMeta) -> float:
    """The primary metric of a model that ignores the features (class shares or the mean)."""
    target, metric = meta.target, meta.primary_metric
    if meta.classes is None:
        guess = train[target].astype(float).mean()
        errors = test[target].astype(float) - guess
        scores = {"rmse": np.sqrt((errors**2).mean()), "mae": errors.abs().mean(), "r2": 0.0}
        return float(scores[metric])
    shares = train[target].value_counts(normalize=True)
    majority = test[target] == shares.index[0]
    prior = test[target].map(shares).fillna(1e-15).clip(1e-15, 1)
    scores = {
        "roc_auc": 0.5,
        "pr_auc": float(shares.get(meta.classes[-1], 0.0)),
        "log_loss": float(-np.log(prior).mean()),
        "accuracy": float(majority.mean()),
        "f1": 0.0,
        "f1_macro": 0.0,
    }
    return scores[metric]


def decide(
    metric: str,
    score: float,
    naive: float,
    current: dict[str, str] | None,
    split_sha: str,
    tolerance: float,
) -> tuple[bool, str]:
    """Whether to register, and why (or why not)."""
    if not better(metric, score, naive):
        return False, f"test {metric} {score:.4f} does not beat the naive baseline ({naive:.4f})"
    if current is None:
        return True, "no registered champion yet"
    if current.get("test_split_sha256") != split_sha:
        return True, "the registered champion was tested on another split"
    if current.get("primary_metric") != metric or f"test_{metric}" not in current:
        return True, "the registered champion was scored with another metric"
    registered = float(current[f"test_{metric}"])
    allowed = registered + tolerance if not better(metric, 1, 0) else registered - tolerance
    if better(metric, allowed, score):
        return False, (
            f"test {metric} {score:.4f} is worse than the registered champion's {registered:.4f}"
        )
    return True, f"test {metric} {score:.4f} vs the registered champion's {registered:.4f}"


def _current(client: Any, name: str) -> dict[str, str] | None:
    from mlflow.exceptions import MlflowException

    try:
        version = client.get_model_version_by_alias(name, ALIAS)
    except MlflowException:
        return None
    return dict(version.tags) | {"version": str(version.version)}


def _log_champion(
    tracked: TrackingInfo, model_dir: Path, test: pd.DataFrame, report: dict
) -> LoggedChampion:
    """The served champion as a pyfunc in its training run (a new run if there is none),
    with the test metrics on both."""
    import mlflow

    run = {"run_id": tracked.run_id} if tracked.run_id else {"run_name": "champion"}
    with mlflow.start_run(**run):  # a run_name would rename the family's run
        champion = log_champion(model_dir, test)
        metrics = {f"test_{k}": float(v) for k, v in report["test"].items()}
        mlflow.log_metrics(metrics, model_id=champion.model_id)
    return champion


def register(
    meta: ModelMeta,
    report: dict,
    split: Split,
    name: str,
    tolerance: float,
    model_dir: Path,
) -> dict:
    """The gate, in an order that leaves no half-registered model: decide, log the pyfunc
    and its metrics, register the version with its tags, then move the alias (or delete the
    version when the alias cannot be set)."""
    import mlflow
    from mlflow import MlflowClient

    metric = meta.primary_metric
    score = float(report["test"][metric])
    outcome: dict[str, Any] = {"model": name, "metric": metric, "test": score, "naive": split.naive}
    client = MlflowClient()
    current = _current(client, name)
    ok, reason = decide(metric, score, split.naive, current, split.sha256, tolerance)
    outcome |= {"registered": ok, "reason": reason}
    if current is not None:
        outcome["previous_version"] = current["version"]
    champion = _log_champion(meta.mlflow, model_dir, split.test, report)
    outcome |= {"model_id": champion.model_id, "model_uri": champion.model_uri,
                "runtime": champion.runtime}  # fmt: skip
    if not ok:
        return outcome
    tags = {"test_split_sha256": split.sha256, "primary_metric": metric}
    tags |= {f"test_{k}": float(v) for k, v in report["test"].items()}
    version = mlflow.register_model(champion.model_uri, name, tags=tags).version
    try:
        client.set_registered_model_alias(name, ALIAS, version)
    except Exception as exc:  # MLflow's or the connection's: undo the registration
        client.delete_model_version(name, version)
        raise StageError(
            f"MLflow registry: {name} version {version} could not take the alias "
            f"@{ALIAS} ({str(exc).splitlines()[0][:200]}); the version was deleted"
        ) from None
    return outcome | {"version": str(version), "alias": ALIAS, "run_id": champion.run_id}
