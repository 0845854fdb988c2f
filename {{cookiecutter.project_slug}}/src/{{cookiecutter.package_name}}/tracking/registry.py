"""The registration gate: the champion gets the alias `champion` only if it beats a naive
baseline and is not worse (beyond `register.tolerance`) than the registered champion."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..evaluation.direction import better
from ..serving.metadata import ModelMeta

ALIAS = "champion"


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


def register(
    meta: ModelMeta, report: dict, split_sha: str, naive: float, name: str, tolerance: float
) -> dict:
    import mlflow
    from mlflow import MlflowClient

    metric = meta.primary_metric
    score = float(report["test"][metric])
    tracked = meta.mlflow
    outcome: dict[str, Any] = {"model": name, "metric": metric, "test": score, "naive": naive}
    if not tracked.model_uri:
        return outcome | {"registered": False, "reason": "the model was not logged to MLflow"}
    client = MlflowClient()
    current = _current(client, name)
    ok, reason = decide(metric, score, naive, current, split_sha, tolerance)
    outcome |= {"registered": ok, "reason": reason}
    if current is not None:
        outcome["previous_version"] = current["version"]
    if not ok:
        return outcome
    with mlflow.start_run(run_id=tracked.run_id):
        mlflow.log_metrics({f"test_{k}": v for k, v in report["test"].items()})
    tags = {"test_split_sha256": split_sha, "primary_metric": metric, f"test_{metric}": score}
    version = mlflow.register_model(tracked.model_uri, name, tags=tags).version
    client.set_registered_model_alias(name, ALIAS, version)
    return outcome | {"version": str(version), "alias": ALIAS, "run_id": tracked.run_id}
