"""Raw records to model input, one way for every caller: training, evaluation, batch scoring,
the API and the export parity check all go through `ModelInput`.

A raw record holds the values of the training table as it was exported: numbers, booleans,
numeric text such as "$1,234" or "45%", text levels in any case or padding, dates as text.
`ModelInput` applies the schema's cleaning rules (`data.cleaning`, each written once for one
value) and then `features.add_features`:
- `typed` / `columns`: a table, column by column (each rule once per distinct value of a long
  column): batch scoring, the CSV endpoint, evaluation;
- `typed_rows`: records in schema column order, value by value, with the warnings the API
  gives: a single record costs a few dictionary look-ups and one numpy call per kind;
- `frame`: the DataFrame the fitted pipeline is trained on, numbers at float32 precision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..data.cleaning import (
    clean_column,
    date_parts,
    level_rule,
    number,
    require_columns,
    to_datetime,
)
from ..data.features import add_features
from ..data.schema import DATE_PARTS, STRING_KINDS, Schema

Columns = dict[str, Any]  # feature name -> numpy array (or pandas Series)


def pipeline_frame(columns: Mapping[str, Any], index: Any = None) -> pd.DataFrame:
    """Feature columns as the DataFrame the fitted scikit-learn pipeline takes.

    Numbers are rounded to float32, the precision the ONNX graph reads them in, in training
    as in serving: a tree then compares exactly the values it will be served, and a value
    next to a split point cannot take the other branch in the graph.
    """
    frame = pd.DataFrame(dict(columns), index=index)
    numbers = frame.select_dtypes("number").columns
    with np.errstate(over="ignore"):  # beyond float32's range is +-inf in both runtimes
        frame[numbers] = frame[numbers].astype(np.float32).astype(np.float64)
    return frame


class ModelInput:
    """The schema's cleaning, then `add_features`: raw tables or records to model input."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        specs = list(schema.columns.items())
        # (position in the record, name, lowest and highest value seen in training)
        self.numbers = [
            (i, name, -math.inf if spec.min is None else spec.min,
             math.inf if spec.max is None else spec.max)
            for i, (name, spec) in enumerate(specs)
            if spec.kind == "numeric"
        ]  # fmt: skip
        # (position, name, the cleaned form of missing and of each level as listed,
        #  looked up before any string work; the rule itself; the closed list of levels)
        self.levels = []
        for i, (name, spec) in enumerate(specs):
            if spec.kind in STRING_KINDS:  # free text: trimmed, no levels listed
                rule = level_rule(spec)
                known = {value: rule(value) for value in [None, *(spec.categories or [])]}
                closed = set(spec.categories) if spec.closed and spec.categories else None
                self.levels.append((i, name, known, rule, closed))
        self.dates = [
            (i, name, spec.parts or list(DATE_PARTS))
            for i, (name, spec) in enumerate(specs)
            if spec.kind == "datetime"
        ]
        self.number_names = [name for _, name, *_ in self.numbers]
        self.level_names = [name for _, name, *_ in self.levels]

    def typed(self, raw: pd.DataFrame) -> Columns:
        """A table's schema columns, cleaned: floats (NaN if missing), canonical text ("" if
        missing), and each date as its numeric parts "<name>__<part>"."""
        require_columns(raw, self.schema)
        out: Columns = {}
        for name, spec in self.schema.columns.items():
            clean = clean_column(raw[name], spec)
            if spec.kind == "datetime":
                parts = date_parts(name, clean, spec.parts or list(DATE_PARTS))
                out |= {part: values.to_numpy() for part, values in parts.items()}
            else:
                out[name] = clean.to_numpy()
        return out

    def features(self, typed: Mapping[str, Any]) -> Columns:
        """Typed columns with the engineered features appended (`features.add_features`)."""
        return add_features(typed)

    def columns(self, raw: pd.DataFrame) -> Columns:
        """A table's feature columns, for a scorer (`runtimes`)."""
        return self.features(self.typed(raw))

    def frame(self, raw: pd.DataFrame) -> pd.DataFrame:
        """A table as the DataFrame the pipeline is trained on (see `pipeline_frame`)."""
        return pipeline_frame(self.columns(raw), raw.index)

    def typed_rows(self, rows: Sequence[Sequence[Any]]) -> tuple[Columns, list[list[str]]]:
        """Records (values in schema column order, as a client sends them) to typed columns,
        and each record's warnings: numbers outside the training range, levels not seen."""
        found: list[list[str]] = []
        numbers, texts = [], []
        for row in rows:
            flagged: list[str] = []
            values = []
            for i, name, low, high in self.numbers:
                value = row[i]
                if type(value) is not float:  # the API hands over floats: the common case
                    value = math.nan if value is None else number(value)
                if not low <= value <= high and value == value:
                    flagged.append(
                        f"{name}: {value:g} is outside the training range {low:g} to {high:g}"
                    )
                values.append(value)
            numbers.append(values)
            cleaned = []
            for i, name, known, rule, closed in self.levels:
                value = known.get(row[i])
                if value is None:  # neither missing nor a level as spelt in training
                    value = rule(row[i])
                    if closed is not None and value and value not in closed:
                        flagged.append(f"{name}: {value!r} was not seen in training")
                cleaned.append(value)
            texts.append(cleaned)
            found.append(flagged)
        # One array per kind, then a column view per feature.
        block = np.array(numbers, dtype=np.float64).reshape(len(rows), len(self.numbers))
        text = np.array(texts, dtype=object).reshape(len(rows), len(self.levels))
        columns: Columns = dict(zip(self.number_names, block.T, strict=True))
        columns |= zip(self.level_names, text.T, strict=True)
        for i, name, parts in self.dates:
            dates = to_datetime(pd.Series([row[i] for row in rows], dtype=object))
            parts = date_parts(name, dates, parts)
            columns |= {part: values.to_numpy() for part, values in parts.items()}
        return columns, found
