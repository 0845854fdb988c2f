"""The table's contract: column kinds, ranges, categories, and how raw values become features.

It is inferred once from the raw table (`ingest`) into schema.yaml, which you may edit and
commit; `validate`, training and the prediction service all read the same file.
"""

from __future__ import annotations

import re
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
PARSE_SHARE = 0.95  # text becomes a number or a date when this share of its values parse
MISSING_TEXT = ""  # missing categorical values travel as "" (ONNX Runtime has no null strings)
DATE_PARTS = ("year", "month", "day", "day_of_week", "hour")

Kind = Literal["numeric", "categorical", "datetime"]
Problem = Literal["binary", "multiclass", "regression"]
Label = str | int | float | bool

_GROUPED_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?")
_UNIT_AFFIXES = r"^[$€£¥]\s*|\s*[$€£¥%]$"


class ColumnSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    # Categorical: the levels seen. `closed`: every level is listed, and validate refuses others.
    categories: list[str] | None = None
    closed: bool | None = None
    # Datetime: the parts the model sees, as numeric columns named "<column>__<part>".
    parts: list[str] | None = None


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str
    problem_type: Problem
    classes: list[Label] | None = None
    columns: dict[str, ColumnSpec]
    dropped: dict[str, str] = {}

    def save(self, path: Path) -> None:
        text = yaml.safe_dump(
            self.model_dump(exclude_none=True), sort_keys=False, allow_unicode=True, width=100
        )
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


def to_number(series: pd.Series) -> pd.Series:
    """Floats from numbers, booleans or text such as " 1,234.5 ", "$12", "45%"; else NaN."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.astype("float64")
    values = series.astype(object)
    flags = values.map(lambda v: float(v) if isinstance(v, bool | np.bool_) else v)
    text = flags.where(flags.notna(), None).map(lambda v: v if v is None else str(v).strip())
    text = text.str.replace(_UNIT_AFFIXES, "", regex=True)
    grouped = text.str.fullmatch(_GROUPED_THOUSANDS).fillna(False).astype(bool)
    text = text.where(~grouped, text.str.replace(",", "", regex=False))
    return pd.to_numeric(text, errors="coerce").astype("float64")


def to_datetime(series: pd.Series) -> pd.Series:
    """Timestamps from ISO 8601 or other common date text; NaT where a value does not parse."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.tz_localize(None) if series.dt.tz is not None else series
    text = as_text(series).replace(MISSING_TEXT, None)
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
    if parsed.notna().sum() < text.notna().sum():
        mixed = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
        parsed = parsed.fillna(mixed)
    return parsed.dt.tz_localize(None)


def _date_like(text: pd.Series) -> bool:
    sample = text[text != MISSING_TEXT].head(200)
    return bool(len(sample)) and bool(sample.str.contains(r"\d[-/.:]\d", regex=True).mean() > 0.9)


def _parses(parsed: pd.Series, present: pd.Series) -> bool:
    return present.sum() > 0 and parsed[present].notna().mean() >= PARSE_SHARE


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


def _id_like(series: pd.Series, spec: ColumnSpec, n_rows: int) -> bool:
    values = series.dropna()
    if n_rows < 20 or len(values) < 0.9 * n_rows:
        return False
    if spec.kind == "categorical":
        return values.nunique() >= 0.9 * len(values)  # names, codes, free text
    if pd.api.types.is_integer_dtype(values) and values.nunique() == n_rows:
        # A row counter; its range may exceed n_rows when some rows were removed.
        return int(values.max()) - int(values.min()) + 1 <= 1.1 * n_rows
    return False


def _canonical_levels(text: pd.Series) -> pd.Series:
    """Level counts, with spellings that differ only in case merged into the commonest one."""
    counts = text[text != MISSING_TEXT].value_counts()
    canonical: dict[str, str] = {}
    merged: dict[str, int] = {}
    for level, count in counts.items():  # most frequent first: it names the group
        key = canonical.setdefault(level.casefold(), level)
        merged[key] = merged.get(key, 0) + int(count)
    return pd.Series(merged, dtype="int64").sort_values(ascending=False)


def _numeric_spec(values: pd.Series, nullable: bool) -> ColumnSpec:
    present = values.dropna()
    return ColumnSpec(
        kind="numeric", nullable=nullable, min=float(present.min()), max=float(present.max())
    )


def _column_spec(series: pd.Series) -> ColumnSpec:
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return _numeric_spec(series.astype(float), bool(series.isna().any()))
    if pd.api.types.is_datetime64_any_dtype(series):
        return _datetime_spec(to_datetime(series))
    text = as_text(series)
    present = text != MISSING_TEXT
    nullable = bool((~present).any())
    numbers = to_number(series)
    if _parses(numbers, present):
        return _numeric_spec(numbers, nullable or bool(numbers.isna().any()))
    if _date_like(text):
        dates = to_datetime(series)
        if _parses(dates, present):
            return _datetime_spec(dates)
    levels = _canonical_levels(text)
    closed = len(levels) <= MAX_LISTED_CATEGORIES
    listed = sorted(levels.index[:MAX_LISTED_CATEGORIES].tolist())
    return ColumnSpec(kind="categorical", nullable=nullable, categories=listed, closed=closed)


def _datetime_spec(dates: pd.Series) -> ColumnSpec:
    present = dates.dropna()
    parts = ["year", "month", "day", "day_of_week"]
    if (present.dt.hour != 0).any() or (present.dt.minute != 0).any():
        parts.append("hour")
    return ColumnSpec(kind="datetime", nullable=bool(dates.isna().any()), parts=parts)


def infer_schema(
    frame: pd.DataFrame,
    target: str,
    problem_type: str = "auto",
    exclude: dict[str, str] | None = None,
) -> Schema:
    """Describe every column of the raw table; drop IDs, constants, empty and excluded columns."""
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
    elif not pd.api.types.is_numeric_dtype(labels) and to_number(labels).isna().any():
        raise StageError(f"target column {target!r} is not numeric, so it cannot be regressed")

    rows = frame[frame[target].notna()]
    columns: dict[str, ColumnSpec] = {}
    dropped: dict[str, str] = dict(exclude or {})
    for name in frame.columns:
        if name == target or name in dropped:
            continue
        series = rows[name]
        if series.isna().all() or (is_text(series) and (as_text(series) == "").all()):
            dropped[name] = "empty: no values"
        elif series.nunique(dropna=False) < 2:
            dropped[name] = "constant: a single value"
        else:
            spec = _column_spec(series)
            # A row counter counts every row, those without a target too.
            if spec.kind != "datetime" and _id_like(frame[name], spec, len(frame)):
                dropped[name] = "ID-like: a different value on (almost) every row"
            else:
                columns[name] = spec
    if not columns:
        raise StageError("no usable feature columns are left after dropping IDs and constants")
    return Schema(
        target=target, problem_type=problem, classes=classes, columns=columns, dropped=dropped
    )


def _per_distinct(series: pd.Series, clean: Any) -> pd.Series:
    """Apply clean(value) -> str once per distinct value; missing values become ""."""
    codes, distinct = pd.factorize(series.astype(object), use_na_sentinel=True)
    cleaned = np.array([clean(v) for v in distinct] + [MISSING_TEXT], dtype=object)
    return pd.Series(cleaned[codes], index=series.index, dtype=object)  # code -1: missing


def as_text(series: pd.Series) -> pd.Series:
    """Categorical values as trimmed strings, with every kind of missing value as ""."""
    return _per_distinct(series, lambda v: (v if isinstance(v, str) else str(v)).strip())


def _canonical_text(series: pd.Series, spec: ColumnSpec) -> pd.Series:
    if not spec.categories:
        return as_text(series)
    spelling = {level.casefold(): level for level in spec.categories}

    def clean(value: Any) -> str:
        text = (value if isinstance(value, str) else str(value)).strip()
        return spelling.get(text.casefold(), text)

    return _per_distinct(series, clean)


def date_parts(name: str, dates: pd.Series, parts: list[str]) -> dict[str, pd.Series]:
    """Numeric columns "<name>__<part>" from timestamps (NaN where the date is missing)."""
    return {f"{name}__{part}": getattr(dates.dt, part).astype("float64") for part in parts}


def clean_columns(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The schema's columns with clean types: floats, canonical text ("" if missing), dates."""
    missing = [name for name in schema.columns if name not in frame.columns]
    if missing:
        raise StageError(f"columns missing from the input: {', '.join(missing)}")
    out = {}
    for name, spec in schema.columns.items():
        if spec.kind == "numeric":
            out[name] = to_number(frame[name])
        elif spec.kind == "datetime":
            out[name] = to_datetime(frame[name])
        else:
            out[name] = _canonical_text(frame[name], spec)
    return pd.DataFrame(out, index=frame.index)


def coerce_features(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Model-ready columns: clean_columns, with each date expanded into its numeric parts."""
    clean = clean_columns(frame, schema)
    out: dict[str, pd.Series] = {}
    for name, spec in schema.columns.items():
        if spec.kind == "datetime":
            out |= date_parts(name, clean[name], spec.parts or list(DATE_PARTS))
        else:
            out[name] = clean[name]
    return pd.DataFrame(out, index=frame.index)
