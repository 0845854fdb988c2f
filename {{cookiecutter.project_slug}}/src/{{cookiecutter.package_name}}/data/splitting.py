"""The held-out test set: random (stratified), by group, or by time."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from ..config import SplitParams
from ..errors import StageError
from .schema import Schema


def _require(frame: pd.DataFrame, column: str, option: str) -> pd.Series:
    if column not in frame.columns:
        raise StageError(f"split.{option}: {column!r} is not a column of the validated table")
    values = frame[column]
    if values.isna().any():
        raise StageError(f"split.{option}: column {column!r} has missing values")
    return values


def split(
    frame: pd.DataFrame, schema: Schema, params: SplitParams, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random (stratified for classification), by group, or by time (latest rows to test)."""
    if params.strategy == "time":
        order = _require(frame, params.time_column, "time_column").sort_values(kind="stable")
        cut = round(len(frame) * (1 - params.test_size))
        train, test = frame.loc[order.index[:cut]], frame.loc[order.index[cut:]]
    elif params.strategy == "group":
        groups = _require(frame, params.group_column, "group_column")
        if groups.nunique() < 2:
            raise StageError(f"split.group_column: {params.group_column!r} has one group")
        splitter = GroupShuffleSplit(n_splits=1, test_size=params.test_size, random_state=seed)
        train_rows, test_rows = next(splitter.split(frame, groups=groups))
        train, test = frame.iloc[train_rows], frame.iloc[test_rows]
    else:
        stratify = None
        if schema.problem_type != "regression":
            counts = frame[schema.target].value_counts()
            single = counts[counts < 2].index.tolist()  # Python values: 8, not np.int64(8)
            if single:
                raise StageError(
                    f"column {schema.target!r}: {len(single)} class(es) with a single row "
                    f"({', '.join(map(repr, single[:5]))}), and every class needs two to split:"
                    " drop or relabel those rows, or set data.problem_type: regression in"
                    " params.yaml if the column is a quantity"
                )
            stratify = frame[schema.target]
        train, test = train_test_split(
            frame, test_size=params.test_size, random_state=seed, stratify=stratify
        )
    if train.empty or test.empty:
        raise StageError(f"split.test_size: {params.test_size} leaves an empty side")
    return train.reset_index(drop=True), test.reset_index(drop=True)
