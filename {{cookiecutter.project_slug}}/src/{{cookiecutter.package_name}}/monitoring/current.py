"""The rows a monitor run judges: a time window of the prediction log, or a table of new records
(scored here by the served model). Either way: the input values under the table's column
names, the model's answers, and where known the true values and each row's request id."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.sources import read_source
from ..errors import StageError
from ..serving.predictor import Predictor
from . import store

REQUEST_ID, ROW = "request_id", "row"


@dataclass
class Current:
    """The judged rows, in one order across its fields."""

    frame: pd.DataFrame  # input values by column name (the request ids, when known, too)
    labels: list[Any]  # the predicted labels, or values
    proba: np.ndarray | None  # class probabilities (classification)
    source: str  # what was read, for the report
    truth: pd.Series | None = None  # the true values, NaN where unknown
    times: pd.Series | None = None  # when each row was scored (the log's rows)


def read_log(path: Path, since: datetime, until: datetime, predictor: Predictor) -> Current:
    """The log's rows from `since` up to `until` that the current model answered."""
    if not path.is_file():
        raise StageError(
            f"{path}: no prediction log here (the service and the batch command write it; "
            "APP_PREDICTION_LOG names it, --log here)"
        )
    window = f"between {store.stamp(since)} and {store.stamp(until)}"
    try:
        conn = store.connect(path, write=False)
        try:
            query = f"SELECT * FROM {store.TABLE} WHERE time >= ? AND time < ?"
            rows = pd.read_sql_query(query, conn, params=(store.stamp(since), store.stamp(until)))
        finally:
            conn.close()
    except (sqlite3.Error, pd.errors.DatabaseError) as exc:
        raise StageError(f"{path}: not a readable prediction log ({exc})") from None
    if rows.empty:
        raise StageError(f"{path}: the log holds no predictions {window}")
    version = predictor.version
    ours = rows[rows["model_version"] == version]
    if ours.empty:
        others = ", ".join(sorted(rows["model_version"].unique()))
        raise StageError(
            f"{path}: the {len(rows):,} predictions {window} came from other model versions "
            f"({others}), not the current one ({version})"
        )
    ours = ours.reset_index(drop=True)
    inputs = {name: name.removeprefix(store.INPUT) for name in ours if name.startswith(store.INPUT)}
    frame = ours[list(inputs)].rename(columns=inputs)
    frame[REQUEST_ID], frame[ROW] = ours[REQUEST_ID].astype(str), ours[ROW].astype(int)
    left_out = len(rows) - len(ours)
    source = f"the prediction log {path}, {window}: {len(ours):,} rows of model {version}"
    source += f" ({left_out:,} rows of other versions left out)" if left_out else ""
    labels, proba = _answers(ours, predictor)
    times = pd.to_datetime(ours["time"], format="ISO8601", utc=True)
    return Current(frame, labels, proba, source, times=times)


def _answers(rows: pd.DataFrame, predictor: Predictor) -> tuple[list[Any], np.ndarray | None]:
    """The logged answers: predicted labels (or values) and class probabilities."""
    if predictor.classes is None:
        return rows["prediction"].astype(float).tolist(), None
    names = [store.PROBABILITY + label for label in predictor.class_names]
    proba = rows[names].to_numpy(dtype=float)
    index = {label: i for i, label in enumerate(predictor.class_names)}
    labels = [predictor.classes[index[str(text)]] for text in rows["prediction"]]
    return labels, proba


def read_table(path: Path, predictor: Predictor) -> Current:
    """A CSV or Parquet table of new records, scored here; its target column, if it has one,
    gives the true values."""
    frame = read_source(str(path))
    frame.columns = [str(name) for name in frame.columns]
    missing = [name for name in predictor.schema.features if name not in frame.columns]
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise StageError(f"{path}: {len(missing)} of the model's columns are missing: {shown}")
    labels, proba = predictor.predict_frame(frame)
    target = predictor.meta.target
    truth = frame[target] if target in frame.columns else None
    return Current(frame, labels, proba, f"the table {path}: {len(frame):,} rows", truth=truth)
