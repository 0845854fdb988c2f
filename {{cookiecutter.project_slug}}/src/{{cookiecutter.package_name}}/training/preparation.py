"""What every candidate of a search shares, made once from the training split: the model
inputs, the target encoded (classes in model order, the positive class last) or, for a
skewed positive regression target, marked for a log transform, the column kinds, the class
weights and the primary metric."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..config import DataParams, SplitParams, TrainParams
from ..data.schema import STRING_KINDS, Schema
from ..errors import StageError
from ..evaluation.metrics import primary_metric
from ..serving.inputs import ModelInput
from .crossval import class_weights
from .task import Setup
from .words import require_words


def ordered_classes(schema: Schema, labels: pd.Series, positive: Any = None) -> list[Any]:
    """Class labels in model order; for binary problems the positive class comes last."""
    classes = list(schema.classes or [])
    if len(classes) != 2:
        return classes
    if positive is None:
        counts = labels.value_counts()
        positive = min(classes, key=lambda c: (counts.get(c, 0), str(c)))
    matches = [c for c in classes if str(c) == str(positive)]
    if not matches:
        raise StageError(f"data.positive_class: {positive!r} is not one of the classes {classes}")
    return [c for c in classes if c != matches[0]] + matches


def encode(labels: pd.Series, classes: list[Any]) -> np.ndarray:
    index = {label: i for i, label in enumerate(classes)}
    return labels.map(index).to_numpy(dtype=int)


def split_kinds(features: pd.DataFrame, schema: Schema) -> tuple[list[str], list[str], list[str]]:
    """Numeric and string columns, and the free-text ones among the strings; engineered
    columns take their kind from their dtype."""
    numeric, strings = [], []
    for name in features.columns:
        spec = schema.columns.get(name)
        is_numeric = (
            spec.kind not in STRING_KINDS if spec else pd.api.types.is_numeric_dtype(features[name])
        )
        (numeric if is_numeric else strings).append(name)
    text = [n for n in strings if n in schema.columns and schema.columns[n].kind == "text"]
    return numeric, strings, text


def wants_log_target(y: np.ndarray, setting: str) -> bool:
    """auto: log for a positive, right-skewed target such as a price."""
    if setting != "auto":
        return setting == "log"
    return bool(y.min() > 0 and pd.Series(y).skew() > 0.75)


def prepare(
    frame: pd.DataFrame,
    schema: Schema,
    cfg: TrainParams,
    data: DataParams,
    split: SplitParams,
    seed: int,
) -> tuple[Setup, list[Any] | None]:
    """What every candidate shares (model inputs, encoded target, folds, weights, metric), and
    the classes in model order (None for regression)."""
    labels = frame[schema.target]
    features = ModelInput(schema).frame(frame)
    numeric, categorical, text = split_kinds(features, schema)
    require_words(features, text)
    problem = schema.problem_type
    try:
        metric = primary_metric(problem, cfg.primary_metric)
    except ValueError as exc:
        raise StageError(f"params.yaml: {exc}") from None
    classes, weights, log_target = None, None, False
    if problem == "regression":
        y = labels.to_numpy(dtype=float)
        log_target = wants_log_target(y, cfg.target_transform)
    else:
        classes = ordered_classes(schema, labels, data.positive_class)
        y = encode(labels, classes)
        weights = class_weights(y, cfg.class_weight)
    group = split.group_column
    setup = Setup(
        features, y, problem, numeric, categorical, metric, cfg, split.strategy, seed, log_target,
        groups=frame[group].to_numpy() if group else None, weights=weights, text=text,
    )  # fmt: skip
    return setup, classes
