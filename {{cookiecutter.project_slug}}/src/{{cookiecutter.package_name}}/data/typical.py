"""A typical record: what the documents show as an example, made of aggregates, not of a row.

The API's OpenAPI document (public) and /metadata show an example request body. A real row of
the training table would publish one customer's data, so the example is made of typical
values instead: each number column's median rounded to two significant digits, each text
column's most common level (left out, as missing, when even that level is rare: a near-unique
column such as a name), each date column's median month.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .schema import MISSING_TEXT, STRING_KINDS, Schema

DIGITS = 2  # significant digits of a number
# A level shown must be common: at least this many rows and this share of the present values.
MIN_ROWS = 5
MIN_SHARE = 0.01


def rounded(value: float, digits: int = DIGITS) -> int | float:
    """A finite `value` to `digits` significant digits; an int when whole (1701.65 -> 1700)."""
    if value == 0:
        return 0
    found = round(value, digits - 1 - math.floor(math.log10(abs(value))))
    return int(found) if found.is_integer() else found


def common_level(values: pd.Series) -> str | None:
    """The most common level (ties: the first in sort order), or None when it is rare."""
    present = values[values.notna() & (values.astype(str) != MISSING_TEXT)].astype(str)
    if present.empty:
        return None
    counts = present.value_counts()
    top = counts.max()
    if top < MIN_ROWS or top < MIN_SHARE * len(present):
        return None
    return min(level for level, count in counts.items() if count == top)


def typical_value(values: pd.Series, kind: str) -> Any:
    """One column's typical value as the API takes it (None when there is none to show)."""
    if kind in STRING_KINDS:
        return common_level(values)
    present = values.dropna()
    if present.empty:
        return None
    if kind == "datetime":
        median = pd.to_datetime(present).median()
        return median.strftime("%Y-%m-01")
    # The middle value itself, not the mean of the middle two: a 0/1 column gets 0 or 1.
    median = float(pd.to_numeric(present).quantile(0.5, interpolation="lower"))
    return rounded(median) if math.isfinite(median) else None


def typical_record(frame: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    """A request body of typical values for the schema's feature columns."""
    return {
        name: typical_value(frame[name], spec.kind) if name in frame else None
        for name, spec in schema.columns.items()
    }
