"""What every candidate shares while training: the data, its folds, weights and scoring."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    TimeSeriesSplit,
)

from ..config import TrainParams
from .families import build_pipeline, fit_params


@dataclass
class Setup:
    """Everything fixed across candidates: data, folds, weights, scoring."""

    features: pd.DataFrame
    y: np.ndarray
    problem: str
    numeric: list[str]
    categorical: list[str]
    metric: str
    cfg: TrainParams
    strategy: str  # split.strategy: folds respect it
    seed: int
    log_target: bool = False
    groups: np.ndarray | None = None
    weights: np.ndarray | None = None
    text: list[str] = field(default_factory=list)  # the free-text columns among `categorical`
    cv: Any = field(init=False)

    def __post_init__(self) -> None:
        self.cv = self.splitter(self.cfg.cv_folds)

    def splitter(self, folds: int) -> Any:
        """Folds that respect the split strategy: stratified, grouped or time-ordered."""
        seed, strategy = self.seed, self.strategy
        classes = self.problem != "regression"
        if classes:
            folds = max(2, min(folds, int(np.bincount(self.y).min())))
        if strategy == "time":
            return TimeSeriesSplit(folds)
        if strategy == "group":
            if classes:
                return StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
            return GroupKFold(folds)
        if classes:
            return StratifiedKFold(folds, shuffle=True, random_state=seed)
        return KFold(folds, shuffle=True, random_state=seed)

    def pipeline(self, family: str, cfg: Any) -> Any:
        classes = 0 if self.problem == "regression" else int(self.y.max()) + 1
        return build_pipeline(
            family, cfg, self.problem, self.numeric, self.categorical,
            self.seed, self.log_target, self.text, classes,
        )  # fmt: skip

    def fit_kw(self, family: str) -> dict[str, Any]:
        return fit_params(family, self.numeric, self.categorical, self.weights)

    def folds(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return list(self.cv.split(self.features, self.y, self.groups))

    def subset(self, rows: np.ndarray) -> Setup:
        """The same task on some of the rows (the search's sample of a large table)."""

        def part(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values[rows]

        return replace(
            self,
            features=self.features.iloc[rows].reset_index(drop=True),
            y=self.y[rows],
            groups=part(self.groups),
            weights=part(self.weights),
        )
