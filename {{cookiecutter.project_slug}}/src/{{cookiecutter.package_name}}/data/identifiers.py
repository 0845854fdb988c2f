"""Columns that name rows rather than describe them: row numbers, customer IDs, codes.

Such a column tells a model nothing it can use on a new row; kept, it invites memorising
(and on a table sorted by time or outcome, leakage). Inference drops it with a reason.

The rule for numbers: whole numbers, every one different, in a span a measurement could not
fill without repeats. n values drawn at random from a span of s whole numbers are all
different with a chance of about exp(-n² / 2s); a span under n² / 10 puts that below 1%,
and real measurements (bunched, not uniform) repeat sooner still. Row numbers, shuffled or
from a sample of a larger table, and IDs handed out in sequence fit that span; a price, a
count or a length on a few hundred rows repeats, and a float measurement is never whole.
A column named as an identifier (`customer_id`, `CustomerID`, `rownames`, `index`) whose
whole numbers are all different is one however wide their span.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .cleaning import mean_words, to_number
from .schema import STRING_KINDS, ColumnSpec

MIN_ROWS = 20  # below this, uniqueness says little
PRESENT_SHARE = 0.9  # an identifier is filled in on (almost) every row
DISTINCT_TEXT_SHARE = 0.9  # text: names, codes, free text
PROSE_WORDS = 4  # free text this wordy is kept even when every value differs
SPAN_FACTOR = 10  # numbers: span <= rows² / SPAN_FACTOR
ID_WORDS = {"id", "ids", "uuid", "guid", "rownames", "index", "idx"}
TEXT_REASON = "ID-like: a different value on (almost) every row"
NUMBER_REASON = "ID-like: a different whole number on every row (a row number or an ID)"
NAMED_REASON = "ID-like: named as an identifier, with a different whole number on every row"


def name_words(name: str) -> list[str]:
    """`CustomerID` -> [customer, id]; `row_id` -> [row, id]; `Unnamed: 0` -> [unnamed, 0]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [word.casefold() for word in re.split(r"[^0-9A-Za-z]+", spaced) if word]


def named_as_identifier(name: str) -> bool:
    words = name_words(name)
    return bool(words) and (words[-1] in ID_WORDS or words == ["unnamed", "0"])


def identifier_reason(series: pd.Series, spec: ColumnSpec, name: str) -> str | None:
    """Why the column identifies rows, or None for a feature. `series` holds every row."""
    values = series.dropna()
    n_rows = len(series)
    if n_rows < MIN_ROWS or len(values) < PRESENT_SHARE * n_rows:
        return None
    if spec.kind in STRING_KINDS:
        if values.nunique() < DISTINCT_TEXT_SHARE * len(values):
            return None
        # Prose (a description, a review) differs on every row too, but its words repeat.
        prose = spec.kind == "text" and mean_words(values.astype(str)) >= PROSE_WORDS
        return None if prose else TEXT_REASON
    if spec.kind != "numeric":
        return None
    numbers = to_number(values).dropna().to_numpy(dtype=float)
    if len(numbers) < PRESENT_SHARE * n_rows or not np.all(np.isfinite(numbers)):
        return None
    if not np.all(np.mod(numbers, 1) == 0) or len(np.unique(numbers)) < len(numbers):
        return None
    span = float(numbers.max() - numbers.min() + 1)
    if span <= len(numbers) ** 2 / SPAN_FACTOR:
        return NUMBER_REASON
    return NAMED_REASON if named_as_identifier(name) else None
