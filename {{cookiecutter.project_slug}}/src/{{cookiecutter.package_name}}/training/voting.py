"""The kept blend as one fitted scikit-learn estimator: a soft VotingClassifier or a
VotingRegressor over the candidates' refitted pipelines, with the blend's weights.

scikit-learn's own classes, so that the model file needs nothing of this package to load
(MLflow, the batch command, the scikit-learn runtime) and `clone` plus `fit` refit every
member. The members are fitted already (`trainer.refitted`), so the
estimator is assembled, not fitted again: the fitted attributes its answers read are set
as `fit` sets them (not `named_estimators_`, which only repeats `estimators_` by name).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import VotingClassifier, VotingRegressor
from sklearn.preprocessing import LabelEncoder

FOLD = "fold"  # the names of a fold mean's members (`bagging.py`): fold1, fold2, ...


def folds_of(pipeline: Any) -> int:
    """How many fold fits an estimator averages (1: a single pipeline)."""
    if isinstance(pipeline, VotingClassifier) and all(
        name.startswith(FOLD) for name, _ in pipeline.estimators
    ):
        return len(pipeline.estimators)
    return 1


def flattened(
    members: list[tuple[str, Any]], weights: list[float]
) -> tuple[list[tuple[str, Any]], list[float]]:
    """A blend's members with each fold mean among them spread into its fold pipelines, each
    with its share of the member's weight: one level of averaging, as the ONNX export reads."""
    flat: list[tuple[str, Any]] = []
    shares: list[float] = []
    for (name, pipeline), weight in zip(members, weights, strict=True):
        folds = folds_of(pipeline)
        if folds == 1:
            flat.append((name, pipeline))
            shares.append(weight)
            continue
        for fold, fitted in zip(pipeline.estimators, pipeline.estimators_, strict=True):
            flat.append((f"{name}_{fold[0]}", fitted))
            shares.append(weight / folds)
    return flat, shares


def voting(members: list[tuple[str, Any]], weights: list[float], classes: int | None) -> Any:
    """The fitted members (name, pipeline) as one estimator averaging their answers with
    `weights`: class probabilities (for `classes` encoded 0..classes-1), or predicted values.
    A member that is itself a mean of fold fits is spread into them (`flattened`)."""
    members, weights = flattened(members, weights)
    # The params hold unfitted copies: a serializer that does not share objects (skops, for
    # MLflow) would otherwise write every fitted member twice.
    unfitted = [(name, clone(pipeline)) for name, pipeline in members]
    if classes is None:
        model = VotingRegressor(unfitted, weights=weights)
    else:
        model = VotingClassifier(unfitted, voting="soft", weights=weights)
        model.le_ = LabelEncoder().fit(np.arange(classes))
        model.classes_ = model.le_.classes_
    model.estimators_ = [pipeline for _, pipeline in members]
    names = getattr(members[0][1], "feature_names_in_", None)
    if names is not None:
        model.feature_names_in_ = names
    return model
