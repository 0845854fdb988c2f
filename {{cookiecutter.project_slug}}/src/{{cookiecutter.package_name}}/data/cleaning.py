"""Raw values to clean, typed ones: numbers from text such as "$1,234", dates, canonical
text levels ("" for missing)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import StageError
from .schema import _GROUPED_THOUSANDS, _UNIT_AFFIXES, DATE_PARTS, MISSING_TEXT, ColumnSpec, Schema


def is_text(series: pd.Series) -> bool:
    """True for string columns, whether pandas holds them as `object` or as `str`."""
    return pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)


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
