"""Text levels to codes, before the ONNX graph: a single record's call then passes no strings.

The fitted encoders convert to one lookup for all text columns (`converters.ImputedCodes`):
each value is keyed by its column's position ("3\x1fYes") and looked up in a table of codes,
missing values ("") included. `lift` takes that lookup out of the exported graph: the graph
reads the codes instead of the strings, and the table is written to the serving manifest,
where `encode` reads it. The answers are the same (the `export` stage checks them raw row in,
answer out); a call is cheaper, since ONNX Runtime copies no strings and runs two nodes fewer.
When the numbers and the codes only meet in one Concat, the two inputs become one.

`encode` needs numpy alone: the service imports it, not onnx.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..data.cleaning import DISTINCT_FROM_ROWS  # cleaned once per distinct value too

if TYPE_CHECKING:
    from .metadata import TextCodes

SEPARATOR = "\x1f"  # between a column's position and its level in the lookup's keys


def encode(columns: Mapping[str, Any], names: Sequence[str], spec: TextCodes) -> list[Any]:
    """The codes of each text column in `names`: lists for a few rows, arrays for many (looked
    up once per distinct value). The caller stacks them with the numbers in one numpy call."""
    default, tables = spec.default, spec.levels
    pairs = zip(tables, names, strict=True)
    if len(columns[names[0]]) < DISTINCT_FROM_ROWS:
        # tolist(): iterating a numpy array costs more than the lookups themselves
        return [
            [table.get(v, default) for v in np.asarray(columns[name]).tolist()]
            for table, name in pairs
        ]
    out = []
    for table, name in pairs:
        found, distinct = pd.factorize(np.asarray(columns[name], dtype=object))
        out.append(np.array([table.get(v, default) for v in distinct], dtype=spec.dtype)[found])
    return out
