"""Raw values to clean, typed ones. Each rule is written once, for one value: `number` (from a
number, a boolean or text such as "$1,234" or "45%"), `text` (trimmed, "" for missing),
`level_rule` (a listed level as training spelt it) and `to_datetime`. A single record (the
API) applies them value by value; a column applies the same rules, once per distinct value
on long columns (`per_distinct`), or as one numpy cast where its dtype is already numeric.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import StageError
from .schema import MISSING_TEXT, ColumnSpec, Schema

# Columns at least this long are cleaned (and their text looked up, `serving.text_codes`)
# once per distinct value and spread back over their rows.
DISTINCT_FROM_ROWS = 1_000

# Padding: ASCII blanks and the no-break space spreadsheets write. Spelt out, not \s, which
# means other characters in Python than in JSON Schema (ECMA-262): the pattern below then
# means the same here and in the API's OpenAPI document.
_SPACE = r"[\t\n\v\f\r \u00a0]*"
_DIGITS = (
    r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?"  # 1,234 or 1,234.5: thousands grouped
    r"|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"  # 1234, 12.5, .5, 1e6
)
# Text that holds a number, as exported tables write it: padded, with a currency sign before
# or after it, or a per cent sign after it ("45%" is 45). Group 1 is the number.
NUMBER_TEXT = rf"{_SPACE}(?:[$€£¥]{_SPACE})?([-+]?(?:{_DIGITS})){_SPACE}(?:[$€£¥%]{_SPACE})?"
_NUMBER_TEXT = re.compile(NUMBER_TEXT)
# A duration as a Parquet file's timedelta column reaches JSON or CSV, read as seconds (as
# `sources.read_table` reads the column): ISO 8601, as pandas writes it ("P0DT2H46M40S",
# "P-1DT23H59M50S"), or pandas' own text ("0 days 02:46:40", "-1 days +23:59:50").
_ISO_DURATION = (
    r"-?P(?=[-0-9T])(?:-?[0-9]+D)?(?:T(?=[0-9])(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:\.[0-9]+)?S)?)?"
)
_DAYS_CLOCK = r"-?[0-9]+ days? \+?[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
DURATION_TEXT = rf"{_SPACE}(?:{_ISO_DURATION}|{_DAYS_CLOCK}){_SPACE}"
_DURATION_TEXT = re.compile(DURATION_TEXT)
BLANK_TEXT = _SPACE


def is_missing(value: Any) -> bool:
    """None, NaN, NaT or pd.NA: each way a table cell says it holds no value."""
    return value is None or value is pd.NA or (not isinstance(value, str) and value != value)


def finite(value: float) -> float:
    """The value, or NaN for an infinity: no measurement, as a spreadsheet's overflow or a
    division by zero writes it; missing, as training, validation and the API all read it."""
    return value if math.isfinite(value) else math.nan


def seconds(duration: str) -> float:
    """A duration's text (DURATION_TEXT) as seconds; NaN where pandas cannot read it."""
    try:
        return pd.Timedelta(duration.strip()).total_seconds()
    except ValueError:
        return math.nan


def number(value: Any) -> float:
    """A float from a number, a boolean (1.0, 0.0), text holding a number (NUMBER_TEXT) or a
    duration (DURATION_TEXT, in seconds); NaN for a missing value, an infinity and anything
    else (text that holds no number)."""
    if isinstance(value, str):
        found = _NUMBER_TEXT.fullmatch(value)
        if found:
            return finite(float(found[1].replace(",", "")))
        return seconds(value) if _DURATION_TEXT.fullmatch(value) else math.nan
    if isinstance(value, bool | int | float | np.integer | np.floating | np.bool_):
        return finite(float(value))
    return math.nan if value is None else number(str(value))


def text(value: Any) -> str:
    """Any value as trimmed text; every kind of missing value as "" (MISSING_TEXT)."""
    if isinstance(value, str):
        return value.strip()
    return MISSING_TEXT if is_missing(value) else str(value).strip()


def level_rule(spec: ColumnSpec) -> Callable[[Any], str]:
    """`text` for a categorical column, with case variants of a listed level spelt as that
    level ("  basic" is "Basic"), as training saw it."""
    spelling = {level.casefold(): level for level in spec.categories or []}
    if not spelling:
        return text

    def level(value: Any) -> str:
        found = text(value)
        return spelling.get(found.casefold(), found)

    return level


def mean_words(values: pd.Series) -> float:
    """The average number of blank-separated words of some text values (0 for none): a code
    such as "Town-007" is one word, a title such as "Oil on canvas" three."""
    return float(values.str.split().str.len().mean()) if len(values) else 0.0


def is_text(series: pd.Series) -> bool:
    """True for string columns, whether pandas holds them as `object` or as `str`."""
    return pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)


def per_distinct(series: pd.Series, clean: Callable[[pd.Series], Any]) -> np.ndarray:
    """clean(values) for a column whose rules work value by value: on a long column it runs
    on the distinct values only (missing ones as None) and the result is spread back.

    pandas takes 1, 1.0 and True for one distinct value; their text differs, so a long
    column mixing such values outside strings is cleaned whole instead."""
    if len(series) >= DISTINCT_FROM_ROWS:
        codes, distinct = pd.factorize(series, use_na_sentinel=True)
        distinct = np.asarray(distinct, dtype=object)
        if series.dtype != object or all(isinstance(v, str) for v in distinct):
            done = np.asarray(clean(pd.Series([*distinct, None], dtype=object)))
            return done[codes]  # code -1, a missing value: the last one
    return np.asarray(clean(series))


def _each(rule: Callable[[Any], Any], dtype: Any) -> Callable[[pd.Series], np.ndarray]:
    return lambda values: np.array([rule(v) for v in values.tolist()], dtype=dtype)


def is_numbers(series: pd.Series) -> bool:
    """True for columns of numbers or booleans (pandas' own dtypes, nullable ones too)."""
    return pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series)


def to_number(series: pd.Series) -> pd.Series:
    """`number` for each value: a numpy cast when the column is already numbers or booleans."""
    if is_numbers(series):
        numbers = series.astype("float64")
        return numbers.where(np.isfinite(numbers))
    return pd.Series(per_distinct(series, _each(number, "float64")), index=series.index)


def has_label(labels: pd.Series) -> pd.Series:
    """Which rows' target values count: not missing and, in a column of numbers, not
    infinite (a mask: a table's index may repeat labels)."""
    present = labels.notna()
    if is_numbers(labels):
        present &= to_number(labels).notna()
    return present


def as_text(series: pd.Series) -> pd.Series:
    """`text` for each value: trimmed strings, every kind of missing value as ""."""
    return pd.Series(per_distinct(series, _each(text, object)), index=series.index)


def to_levels(series: pd.Series, spec: ColumnSpec) -> pd.Series:
    """`level_rule(spec)` for each value of a categorical column."""
    cleaned = per_distinct(series, _each(level_rule(spec), object))
    return pd.Series(cleaned, index=series.index, dtype=object)


def _parse_dates(values: pd.Series) -> pd.Series:
    text = as_text(values).replace(MISSING_TEXT, None)
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
    if parsed.notna().sum() < text.notna().sum():
        mixed = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
        parsed = parsed.fillna(mixed)
    return parsed.dt.tz_localize(None)


def to_datetime(series: pd.Series) -> pd.Series:
    """Timestamps (naive, UTC) from ISO 8601 or other common date text, value by value; NaT
    where a value does not parse."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.tz_localize(None) if series.dt.tz is not None else series
    return pd.Series(per_distinct(series, _parse_dates), index=series.index)


def date_parts(name: str, dates: pd.Series, parts: list[str]) -> dict[str, pd.Series]:
    """Numeric columns "<name>__<part>" from timestamps (NaN where the date is missing)."""
    return {f"{name}__{part}": getattr(dates.dt, part).astype("float64") for part in parts}


def clean_column(series: pd.Series, spec: ColumnSpec) -> pd.Series:
    """One column with its clean type: floats, canonical text ("" if missing) or dates."""
    if spec.kind == "numeric":
        return to_number(series)
    if spec.kind == "datetime":
        return to_datetime(series)
    return to_levels(series, spec)


def require_columns(frame: pd.DataFrame, schema: Schema) -> None:
    missing = [name for name in schema.columns if name not in frame.columns]
    if missing:
        raise StageError(f"columns missing from the input: {', '.join(missing)}")


def clean_columns(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The schema's columns with clean types: floats, canonical text ("" if missing), dates."""
    require_columns(frame, schema)
    out = {name: clean_column(frame[name], spec) for name, spec in schema.columns.items()}
    return pd.DataFrame(out, index=frame.index)
