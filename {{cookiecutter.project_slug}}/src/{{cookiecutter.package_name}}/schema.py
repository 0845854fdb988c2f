"""The table's contract: column kinds, ranges, categories, and how raw values become features.

It is inferred once from the raw table (`ingest`) into schema.yaml, which you may edit and
commit; `validate`, training and the prediction service all read the same file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from .cli import StageError

SCHEMA_FILE = Path("schema.yaml")
MAX_LISTED_CATEGORIES = 100
MAX_CLASSES = 50
MISSING_TEXT = ""  # missing categorical values travel as "" (ONNX Runtime has no null strings)

Kind = Literal["numeric", "categorical"]
Problem = Literal["binary", "multiclass", "regression"]
Label = str | int | float | bool


class ColumnSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    categories: list[str] | None = None


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str
    problem_type: Problem
    classes: list[Label] | None = None
    columns: dict[str, ColumnSpec]
    dropped: dict[str, str] = {}

    def save(self, path: Path) -> None:
        text = yaml.safe_dump(self.model_dump(), sort_keys=False, allow_unicode=True, width=100)
        header = (
            "# Inferred from the raw table by `ingest`. Edit and commit it: validate, training\n"
            "# and serving all read it. Delete it to infer it again from the data.\n"
        )
        path.write_text(header + text, encoding="utf-8")

    @classmethod
    def load(cls, path: Path = SCHEMA_FILE) -> Schema:
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
            return cls.model_validate(raw)
        except FileNotFoundError as exc:
            raise StageError(f"{path}: not found (run `dvc repro ingest` to infer it)") from exc
        except (yaml.YAMLError, ValidationError) as exc:
            raise StageError(f"{path}: not a valid schema: {exc}") from exc

    @property
    def features(self) -> list[str]:
        return list(self.columns)


def is_text(series: pd.Series) -> bool:
    """True for string columns, whether pandas holds them as `object` or as `str`."""
    return pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)


def _native(value: Any) -> Label:
    return value.item() if isinstance(value, np.generic) else value


def infer_problem_type(target: pd.Series) -> Problem:
    """Two values: binary; text or a few whole numbers: multiclass; otherwise regression."""
    values = target.dropna()
    n_unique = values.nunique()
    if n_unique == 2:
        return "binary"
    if is_text(values) or pd.api.types.is_bool_dtype(values):
        return "multiclass"
    whole = np.all(np.mod(values.astype(float), 1) == 0)
    return "multiclass" if whole and n_unique <= 20 else "regression"


def _id_like(series: pd.Series, n_rows: int) -> bool:
    values = series.dropna()
    if len(values) < n_rows or values.nunique() < n_rows or n_rows < 20:
        return False
    if is_text(values):
        return True
    if pd.api.types.is_integer_dtype(values):
        return int(values.max()) - int(values.min()) + 1 == n_rows  # a row counter
    return False


def _column_spec(series: pd.Series) -> ColumnSpec:
    nullable = bool(series.isna().any())
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        values = series.dropna().astype(float)
        return ColumnSpec(
            kind="numeric", nullable=nullable, min=float(values.min()), max=float(values.max())
        )
    counts = as_text(series).value_counts()
    counts = counts[counts.index != MISSING_TEXT]
    listed = sorted(counts.index[:MAX_LISTED_CATEGORIES].tolist())
    return ColumnSpec(kind="categorical", nullable=nullable, categories=listed)


def infer_schema(frame: pd.DataFrame, target: str, problem_type: str = "auto") -> Schema:
    """Describe every column of the raw table; drop IDs, constants and empty columns."""
    if target not in frame.columns:
        raise StageError(
            f"target column {target!r} is not in the table; columns: {', '.join(map(str, frame))}"
        )
    labels = frame[target].dropna()
    if labels.empty:
        raise StageError(f"target column {target!r} has no values")
    if labels.nunique() < 2:
        raise StageError(f"target column {target!r} has a single value: {labels.iloc[0]!r}")
    problem = infer_problem_type(labels) if problem_type == "auto" else problem_type
    classes = None
    if problem != "regression":
        if labels.nunique() > MAX_CLASSES:
            raise StageError(
                f"target column {target!r} has {labels.nunique()} classes; "
                f"set data.problem_type: regression in params.yaml if it is a quantity"
            )
        classes = [_native(v) for v in sorted(labels.unique().tolist())]
    elif not pd.api.types.is_numeric_dtype(labels):
        raise StageError(f"target column {target!r} is not numeric, so it cannot be regressed")

    rows = frame[frame[target].notna()]
    columns: dict[str, ColumnSpec] = {}
    dropped: dict[str, str] = {}
    for name in frame.columns:
        if name == target:
            continue
        series = rows[name]
        if series.isna().all():
            dropped[name] = "empty: no values"
        elif series.nunique(dropna=False) < 2:
            dropped[name] = "constant: a single value"
        elif _id_like(series, len(rows)):
            dropped[name] = "ID-like: a different value on every row"
        else:
            columns[name] = _column_spec(series)
    if not columns:
        raise StageError("no usable feature columns are left after dropping IDs and constants")
    return Schema(
        target=target, problem_type=problem, classes=classes, columns=columns, dropped=dropped
    )


def as_text(series: pd.Series) -> pd.Series:
    """Categorical values as trimmed strings, with every kind of missing value as ""."""
    values = series.astype(object)
    missing = values.isna()
    text = values.map(lambda v: v if isinstance(v, str) else str(v)).str.strip()
    return text.where(~missing, MISSING_TEXT).astype(object)


def coerce_features(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The schema's feature columns with model-ready types: floats with NaN, text with ""."""
    missing = [name for name in schema.columns if name not in frame.columns]
    if missing:
        raise StageError(f"columns missing from the input: {', '.join(missing)}")
    out = {}
    for name, spec in schema.columns.items():
        if spec.kind == "numeric":
            out[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        else:
            out[name] = as_text(frame[name])
    return pd.DataFrame(out, index=frame.index)
