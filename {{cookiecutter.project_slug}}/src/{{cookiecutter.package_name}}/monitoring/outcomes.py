"""The true outcomes, handed in later: a CSV or Parquet table of request id -> true value.

Its columns: `request_id` (as the service answered it, in `X-Request-ID` and the JSON),
the target under its own name (as in params.yaml, `data.target`), and `row` for the records of
a batch, a CSV upload or the batch command (each record's place in its request, from 0;
without it, 0: the one record of a /predict call). A request id the window does not hold is
counted and left out; when none is found, that is an error.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..data.sources import read_source
from ..errors import StageError
from .current import REQUEST_ID, ROW, Current

log = logging.getLogger(__name__)


def read_outcomes(path: Path, target: str) -> pd.DataFrame:
    """The outcomes as (request_id, row) -> target, one row per key (the last one wins)."""
    table = read_source(str(path))
    table.columns = [str(name) for name in table.columns]
    missing = [name for name in (REQUEST_ID, target) if name not in table.columns]
    if missing:
        raise StageError(
            f"{path}: needs the columns {REQUEST_ID} and {target} (and {ROW} for batches); "
            f"missing: {', '.join(missing)}"
        )
    keys = pd.DataFrame({REQUEST_ID: table[REQUEST_ID].astype(str)})
    if ROW in table.columns:
        rows = pd.to_numeric(table[ROW], errors="coerce")
        if rows.isna().any() or (rows % 1 != 0).any():
            raise StageError(f"{path}: column {ROW}: expected whole numbers (a record's place)")
        keys[ROW] = rows.astype(int)
    else:
        keys[ROW] = 0
    keys[target] = table[target]
    keys = keys[keys[target].notna()]
    repeated = int(keys.duplicated([REQUEST_ID, ROW]).sum())
    if repeated:
        log.warning("%s: %d request ids appear more than once; the last one counts", path, repeated)
    return keys.drop_duplicates([REQUEST_ID, ROW], keep="last")


def join_outcomes(current: Current, path: Path, target: str) -> tuple[Current, int]:
    """`current` with its true values from the outcomes file; and how many of the file's
    outcomes matched no row of the window."""
    if REQUEST_ID not in current.frame.columns:
        raise StageError(f"{path}: the rows judged have no {REQUEST_ID} column to join it to")
    outcomes = read_outcomes(path, target)
    keys = current.frame[[REQUEST_ID]].astype(str)
    keys[ROW] = current.frame[ROW].astype(int) if ROW in current.frame.columns else 0
    joined = keys.merge(outcomes, how="left", on=[REQUEST_ID, ROW], validate="many_to_one")
    matched = int(joined[target].notna().sum())
    if matched == 0:
        raise StageError(
            f"{path}: none of its {len(outcomes):,} request ids is among the "
            f"{len(keys):,} rows judged ({current.source})"
        )
    truth = joined[target].set_axis(current.frame.index)
    known = set(zip(keys[REQUEST_ID], keys[ROW], strict=True))
    unknown = sum(key not in known for key in zip(outcomes[REQUEST_ID], outcomes[ROW], strict=True))
    current.truth = truth
    return current, unknown


def labelled_rows(current: Current, target: str, columns: list[str]) -> pd.DataFrame:
    """The judged rows whose outcome is known, as new training rows: the input values as
    received and the target, in the order of `columns` (the source table's; a column the log
    does not hold stays empty), so that they can be appended to the source."""
    known = current.truth.notna() if current.truth is not None else None
    if known is None or not known.any():
        raise StageError("--labelled: no row has a true outcome (give --outcomes)")
    rows = current.frame[known.to_numpy()].copy()
    rows[target] = current.truth[known].to_numpy()
    order = columns or [*current.frame.columns.drop([REQUEST_ID, ROW], errors="ignore"), target]
    return rows.reindex(columns=order)
