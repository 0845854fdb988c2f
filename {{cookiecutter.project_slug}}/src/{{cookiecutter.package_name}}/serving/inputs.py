"""Raw records to model input: typed columns (schema cleaning), then engineered features."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from ..data.cleaning import coerce_features, date_parts, is_text, to_datetime
from ..data.features import add_features
from ..data.schema import DATE_PARTS, MISSING_TEXT, ColumnSpec, Schema
from .text_codes import DISTINCT_FROM_ROWS


def model_input(raw: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Raw columns (original names) to what the fitted pipeline takes: typed, plus features.

    Numbers are rounded to float32, the precision the ONNX graph reads them in, in training
    as in serving: a tree then compares exactly the values it will be served, and a value
    next to a split point cannot take the other branch in the graph.
    """
    typed = coerce_features(raw, schema)
    frame = pd.DataFrame(add_features(typed), index=typed.index)
    numbers = frame.select_dtypes("number").columns
    with np.errstate(over="ignore"):  # beyond float32's range is +-inf in both runtimes
        frame[numbers] = frame[numbers].astype(np.float32).astype(np.float64)
    return frame


def typed_columns(raw: pd.DataFrame, schema: Schema) -> dict[str, np.ndarray]:
    """What `schema.coerce_features` makes of the table, as arrays; a text column whose values
    repeat is cleaned once per distinct value and spread back over its rows.

    Cleaning works value by value, so the columns are the same, many times faster on long
    tables (`export` compares this path with the training one on every run). The schema's own
    text cleaning also works per distinct value, but only after turning the whole column into
    Python objects, and it parses numbers and dates held as text row by row: factorising the
    column first, in its own dtype, makes the batch path about 3x faster on a million rows.
    """
    coerce_features(raw.head(0), schema)  # names the missing columns, if any
    out: dict[str, np.ndarray] = {}
    for name, spec in schema.columns.items():
        column, codes = raw[name], None
        if is_text(column) and len(column) >= DISTINCT_FROM_ROWS:
            found, distinct = pd.factorize(column, use_na_sentinel=False)
            if len(distinct) * 4 <= len(column):
                column, codes = pd.Series(np.asarray(distinct, dtype=object)), found
        one = schema.model_copy(update={"columns": {name: spec}})
        typed = coerce_features(pd.DataFrame({name: column}), one)
        for part in typed.columns:
            values = typed[part].to_numpy()
            out[part] = values if codes is None else values[codes]
    return out


class RowEncoder:
    """Validated API rows -> typed feature columns, and warnings for values unlike training.

    Plain Python per value and one array per kind of column: a single request then costs a
    handful of numpy calls instead of a few per column.
    """

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        specs = list(schema.columns.items())
        numeric = [i for i, (_, spec) in enumerate(specs) if spec.kind == "numeric"]
        self.numeric = [specs[i][0] for i in numeric]
        self.pick_numbers = _picker(numeric)
        self.ranges = [
            (i, name, spec.min, spec.max)
            for i, (name, spec) in enumerate(specs)
            if spec.kind == "numeric" and spec.min is not None and spec.max is not None
        ]
        self.text = [
            (i, name, *_text_cleaner(spec))
            for i, (name, spec) in enumerate(specs)
            if spec.kind == "categorical"
        ]
        self.text_names = [name for _, name, *_ in self.text]
        self.dates = [
            (i, name, spec) for i, (name, spec) in enumerate(specs) if spec.kind == "datetime"
        ]

    def encode(self, rows: Sequence[Sequence[Any]]) -> tuple[dict[str, Any], list[list[str]]]:
        """The typed columns `features.add_features` takes, and each row's warnings."""
        found: list[list[str]] = []
        texts = []
        for row in rows:
            flagged = []
            for i, name, low, high in self.ranges:
                value = row[i]
                if value is not None and not low <= value <= high:
                    flagged.append(
                        f"{name}: {value:g} is outside the training range {low:g} to {high:g}"
                    )
            cleaned = []
            for i, name, known, clean, levels in self.text:
                value = known.get(row[i])
                if value is None:  # neither missing nor a level as spelt in training
                    value = clean(row[i])
                    if levels is not None and value and value not in levels:
                        flagged.append(f"{name}: {value!r} was not seen in training")
                cleaned.append(value)
            texts.append(cleaned)
            found.append(flagged)
        # One array per kind (None becomes NaN), then a column view per feature.
        numbers = np.array([self.pick_numbers(row) for row in rows], dtype=np.float64)
        numbers = numbers.reshape(len(rows), len(self.numeric))
        text = np.array(texts, dtype=object).reshape(len(rows), len(self.text))
        columns: dict[str, Any] = dict(zip(self.numeric, numbers.T, strict=True))
        columns |= zip(self.text_names, text.T, strict=True)
        for i, name, spec in self.dates:
            dates = to_datetime(pd.Series([row[i] for row in rows], dtype=object))
            parts = date_parts(name, dates, spec.parts or list(DATE_PARTS))
            columns |= {part: values.to_numpy() for part, values in parts.items()}
        return columns, found


def _picker(positions: list[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """row -> the tuple of its values at `positions`."""
    if len(positions) == 1:
        only = positions[0]
        return lambda row: (row[only],)
    return itemgetter(*positions) if positions else lambda row: ()


def _text_cleaner(spec: ColumnSpec) -> tuple[dict[Any, str], Callable[[Any], str], set[str] | None]:
    """Cleaning a categorical value as `schema.coerce_features` does: (the cleaned form of
    missing and of each listed level, looked up before any string work; the cleaning itself;
    the closed list of levels for warnings, or None when any level is expected)."""
    spelling = {level.casefold(): level for level in spec.categories or []}

    def clean(value: Any) -> str:
        # Case variants of a listed level are scored as that level, as in training.
        text = MISSING_TEXT if value is None else str(value).strip()
        return spelling.get(text.casefold(), text)

    known = {value: clean(value) for value in [None, *(spec.categories or [])]}
    levels = set(spec.categories) if spec.closed and spec.categories else None
    return known, clean, levels
