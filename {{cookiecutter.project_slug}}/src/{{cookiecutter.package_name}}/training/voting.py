"""The kept blend as one fitted scikit-learn estimator: a soft VotingClassifier or a
VotingRegressor over the candidates' refitted pipelines, with the blend's weights.

scikit-learn's own classes, so that the model file needs nothing of this package to load
(MLflow, the batch command, the scikit-learn runtime) and `clone` plus `fit` refit every
member (the learning curve). The members are fitted already (`trainer.refitted`), so the
estimator is assembled, not fitted again: its fitted attributes are set as `fit` sets them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import VotingClassifier, VotingRegressor
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch


def voting(members: list[tuple[str, Any]], weights: list[float], classes: int | None) -> Any:
    """The fitted members (name, pipeline) as one estimator averaging their answers with
    `weights`: class probabilities (for `classes` encoded 0..classes-1), or predicted values."""
    if classes is None:
        model = VotingRegressor(members, weights=weights)
    else:
        model = VotingClassifier(members, voting="soft", weights=weights)
        model.le_ = LabelEncoder().fit(np.arange(classes))
        model.classes_ = model.le_.classes_
    model.estimators_ = [pipeline for _, pipeline in members]
    model.named_estimators_ = Bunch(**dict(members))
    names = getattr(members[0][1], "feature_names_in_", None)
    if names is not None:
        model.feature_names_in_ = names
    return model


def is_voting(model: Any) -> bool:
    return isinstance(model, VotingClassifier | VotingRegressor)
