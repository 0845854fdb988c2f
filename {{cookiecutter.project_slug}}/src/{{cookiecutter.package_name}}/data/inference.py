"""Inferring schema.yaml from the raw table: column kinds, ranges, levels, and which
columns to drop."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import DataParams
from ..errors import StageError
from .cleaning import (
    as_text,
    has_label,
    is_numbers,
    is_text,
    mean_words,
    to_datetime,
    to_number,
)
from .identifiers import identifier_reason
from .schema import (
    MAX_CLASSES,
    MAX_LISTED_CATEGORIES,
    MAX_MISSING_TEXTS,
    MISSING_TEXT,
    PARSE_SHARE,
    TEXT_WORDS,
    ColumnSpec,
    Label,
    Problem,
    Schema,
)

log = logging.getLogger(__name__)
GROUP_REASON = "group column of the split, not a feature"


def _native(value: Any) -> Label:
    return value.item() if isinstance(value, np.generic) else value


def _date_like(text: pd.Series) -> bool:
    sample = text[text != MISSING_TEXT].head(200)
    return bool(len(sample)) and bool(sample.str.contains(r"\d[-/.:]\d", regex=True).mean() > 0.9)


def _parses(parsed: pd.Series, present: pd.Series) -> bool:
    return present.sum() > 0 and parsed[present].notna().mean() >= PARSE_SHARE


def infer_problem_type(target: pd.Series) -> Problem:
    """Two values: binary; text, or a few whole numbers each on two rows or more: multiclass;
    otherwise regression. A whole number on a single row (a count of 17 among counts of 0 to
    9) is a quantity's value: as a class it could be neither learnt nor split."""
    values = target.dropna()
    n_unique = values.nunique()
    if n_unique == 2:
        return "binary"
    if is_text(values) or pd.api.types.is_bool_dtype(values):
        return "multiclass"
    whole = np.all(np.mod(values.astype(float), 1) == 0)
    classes = whole and n_unique <= 20 and values.value_counts().min() >= 2
    return "multiclass" if classes else "regression"


def _canonical_levels(text: pd.Series) -> pd.Series:
    """Level counts, with spellings that differ only in case merged into the commonest one."""
    counts = text[text != MISSING_TEXT].value_counts()
    canonical: dict[str, str] = {}
    merged: dict[str, int] = {}
    for level, count in counts.items():  # most frequent first: it names the group
        key = canonical.setdefault(level.casefold(), level)
        merged[key] = merged.get(key, 0) + int(count)
    return pd.Series(merged, dtype="int64").sort_values(ascending=False)


def is_free_text(levels: pd.Series) -> bool:
    """Free text rather than levels: more distinct values than are listed (MAX_LISTED_CATEGORIES),
    averaging TEXT_WORDS words or more. `levels`: counts indexed by the distinct values."""
    if len(levels) <= MAX_LISTED_CATEGORIES:
        return False
    return mean_words(pd.Series(levels.index, dtype=object)) >= TEXT_WORDS


def _numeric_spec(values: pd.Series, nullable: bool) -> ColumnSpec:
    present = values.dropna()
    return ColumnSpec(
        kind="numeric", nullable=nullable, min=float(present.min()), max=float(present.max())
    )


def _no_values(series: pd.Series) -> bool:
    """Every value missing: blank text, or numbers that are all NaN or infinite."""
    if is_numbers(series):
        return bool(to_number(series).isna().all())
    return bool(series.isna().all() or (is_text(series) and (as_text(series) == "").all()))


def _column_spec(series: pd.Series) -> ColumnSpec:
    if is_numbers(series):
        numbers = to_number(series)  # an infinity reads as missing, as validation reads it
        return _numeric_spec(numbers, bool(numbers.isna().any()))
    if pd.api.types.is_datetime64_any_dtype(series):
        return _datetime_spec(to_datetime(series))
    text = as_text(series)
    present = text != MISSING_TEXT
    nullable = bool((~present).any())
    numbers = to_number(series)
    if _parses(numbers, present):
        spec = _numeric_spec(numbers, nullable or bool(numbers.isna().any()))
        return spec.model_copy(update={"missing_texts": _unparsed(text[present & numbers.isna()])})
    if _date_like(text):
        dates = to_datetime(series)
        if _parses(dates, present):
            spec = _datetime_spec(dates)
            return spec.model_copy(
                update={"missing_texts": _unparsed(text[present & dates.isna()])}
            )
    levels = _canonical_levels(text)
    if is_free_text(levels):
        return ColumnSpec(kind="text", nullable=nullable)
    closed = len(levels) <= MAX_LISTED_CATEGORIES
    listed = sorted(levels.index[:MAX_LISTED_CATEGORIES].tolist())
    return ColumnSpec(kind="categorical", nullable=nullable, categories=listed, closed=closed)


def _unparsed(text: pd.Series) -> list[str] | None:
    """The commonest texts of a number or date column that hold none (they read as missing)."""
    counts = text.value_counts()
    return counts.index[:MAX_MISSING_TEXTS].tolist() if len(counts) else None


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
    labelled = has_label(frame[target])
    labels = frame[target][labelled]
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

    rows = frame[labelled]
    columns: dict[str, ColumnSpec] = {}
    dropped: dict[str, str] = dict(exclude or {})
    for name in frame.columns:
        if name == target or name in dropped:
            continue
        series = rows[name]
        if _no_values(series):
            dropped[name] = "empty: no values"
        elif series.nunique(dropna=False) < 2:
            dropped[name] = "constant: a single value"
        else:
            spec = _column_spec(series)
            # A row counter counts every row, those without a target too.
            reason = identifier_reason(frame[name], spec, str(name))
            if reason:
                dropped[name] = reason
            else:
                columns[name] = spec
    if not columns:
        raise StageError("no usable feature columns are left after dropping IDs and constants")
    return Schema(
        target=target, problem_type=problem, classes=classes, columns=columns, dropped=dropped
    )


def schema_for(frame: pd.DataFrame, data: DataParams, group: str | None, path: Path) -> Schema:
    """schema.yaml for the raw table: kept when it exists (yours to edit), else inferred and
    written. The split's group column is never a feature."""
    source, target = data.source, data.target
    if target not in frame.columns:
        columns = ", ".join(map(repr, frame.columns))
        raise StageError(f"{source}: target column {target!r} is not in the table ({columns})")
    if group and group not in frame.columns:
        raise StageError(f"split.group_column: {group!r} is not a column of {source}")
    if not path.exists():
        schema = infer_schema(
            frame, target, data.problem_type, {group: GROUP_REASON} if group else {}
        )
        for name, reason in schema.dropped.items():
            log.info("dropping column %r: %s", name, reason)
        schema.save(path)
        log.info("inferred %s: %s problem", path, schema.problem_type)
        return schema
    schema = Schema.load(path)
    if schema.target != target:
        raise StageError(
            f"{path}: its target is {schema.target!r} but params.yaml says {target!r}; "
            f"delete {path} to infer it again for the new target"
        )
    if group and group in schema.columns:
        del schema.columns[group]
        schema.dropped[group] = GROUP_REASON
        schema.save(path)
        log.info("moved %r from the features to `dropped` in %s", group, path)
    log.info("keeping %s (delete it to infer it again)", path)
    return schema
