"""/predict/csv's work: a table's rows validated as /predict/batch validates its records, scored
by the same path (`Predictor.predict_rows`), and written back with prediction, probability and
warnings columns. Other columns pass through as sent.

A cell is what a client would send in a record, with the table's own ways of saying "missing"
read as pandas reads them when training reads a CSV source ("", NA, N/A, null, NaN, ...: see
MISSING_TEXT; a category level seen in training stays a level) and, in a number column,
True/False as booleans. Text that holds no number, or an infinity, is a 422 naming its line and
column, as on the JSON routes.

`score_table` runs in a worker thread and goes CHUNK_ROWS rows at a time: each validation call
is short (the event loop gets its turns: /health answers in milliseconds), nothing but the
answer's text grows with the table, and a request whose wait was cancelled stops at the next
chunk.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from itertools import islice
from typing import Any

from fastapi import HTTPException
from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from ..data.schema import ColumnSpec
from ..data.sources import NA_TEXT
from ..serving.predictor import Predictor
from .csv_table import CsvLimits, CsvReader, CsvWriter
from .fields import number_value
from .problems import Problems
from .responses import finite, unscorable

CHUNK_ROWS = 256
# pandas.read_csv's default missing-value markers (a test checks that pandas reads each so).
MISSING_TEXT = NA_TEXT
BOOLEAN_TEXT = {"True": True, "TRUE": True, "true": True}
BOOLEAN_TEXT |= {"False": False, "FALSE": False, "false": False}


class _Cells(dict[str, Any]):
    """A column's cells as a record's values, each distinct cell worked out once: the missing
    markers as None and, in a number column, numeric text as its number, by the request
    model's own rule (`number_value`): its validation then takes the fast path for numbers."""

    def __init__(self, spec: ColumnSpec) -> None:
        levels = set(spec.categories or [])
        super().__init__({text: None for text in MISSING_TEXT if text not in levels})
        self.numeric = spec.kind == "numeric"
        if self.numeric:
            self.update(BOOLEAN_TEXT)

    def __missing__(self, cell: str) -> Any:
        value: Any = cell
        if self.numeric:
            # Text that is no number stays text: the request model refuses it, naming the column.
            with suppress(PydanticCustomError):
                value = number_value(cell)
        self[cell] = value
        return value


class _Table:
    """One request's table: where each feature is in the header, and its problems so far."""

    def __init__(self, model: Predictor, header: list[str]) -> None:
        schema, where = model.schema, {name: i for i, name in enumerate(header)}
        missing = Problems()
        other = len(header) == 1 and any(sep in header[0] for sep in ";\t|")
        hint = " (columns are separated by commas)" if other else ""
        for name in schema.columns:
            if name not in where:
                loc = ("body", "header", name)
                missing.add(loc, f"column missing from the CSV{hint}", "missing")
        missing.raise_if_any()
        self.model = model
        specs = schema.columns.items()
        self.columns = [(where[name], name, _Cells(spec)) for name, spec in specs]
        self.problems = Problems()

    def validate(self, rows: TypeAdapter, chunk: Sequence[tuple[int, list[str]]]) -> list[Any]:
        """The chunk's rows as request records' values, in schema order (empty on a problem)."""
        records = [{name: read[cells[i]] for i, name, read in self.columns} for _, cells in chunk]
        try:
            valid = rows.validate_python(records)
        except ValidationError as exc:
            # pydantic's (row, column) as the table's ("line N", column)
            self.problems.add_pydantic(
                exc, locate=lambda loc: ("body", f"line {chunk[int(loc[0])][0]}", str(loc[1]))
            )
            return []
        return [tuple(record.__dict__.values()) for record in valid]

    def scored(
        self, chunk: Sequence[tuple[int, list[str]]], values: list[Any], keep: list | None
    ) -> list[list[str]]:
        """The chunk's rows with their answers' cells appended; (values, answers) added to
        `keep` when it is a list (for the prediction log)."""
        out = []
        answers = self.model.predict_rows(values)
        if keep is not None:
            keep.append((values, answers))
        for (line, cells), answer in zip(chunk, answers, strict=True):
            if not finite(answer):
                self.problems.add(("body", f"line {line}"), unscorable(answer), "not_scorable")
            probabilities = answer.get("probabilities") or {}
            out.append(
                [*cells, str(answer["prediction"]), *map(str, probabilities.values()),
                 "; ".join(answer["warnings"])]
            )  # fmt: skip
        return out


def _chunks(rows: Iterable[Any]) -> Iterator[list[Any]]:
    rows = iter(rows)
    while chunk := list(islice(rows, CHUNK_ROWS)):
        yield chunk


def answer_columns(model: Predictor, header: list[str]) -> list[str]:
    """prediction, probability_<label> per class, warnings; a name the table already has gets
    a leading underscore."""
    taken = set(header)
    names = []
    for name in ["prediction", *(f"probability_{c}" for c in model.class_names), "warnings"]:
        while name in taken:
            name = f"_{name}"
        taken.add(name)
        names.append(name)
    return names


def score_table(
    body: bytes,
    model: Predictor,
    rows: TypeAdapter,
    limits: CsvLimits,
    escape: bool,
    stop: threading.Event,
    keep: list | None = None,
) -> str:
    """The scored table as CSV text; a bounded 422 (`InputProblems`) listing its rows'
    problems. `rows` validates a list of request records; `keep`, when a list, gets each
    chunk's (values, answers)."""
    reader = CsvReader(body, limits)
    table = _Table(model, reader.header)
    writer = CsvWriter(escape)
    writer.write([[*reader.header, *answer_columns(model, reader.header)]])
    for chunk in _chunks(reader.rows()):
        if stop.is_set():
            raise HTTPException(503, "the request was cancelled (the server is stopping)")
        values = table.validate(rows, chunk)
        if values and not table.problems.count:  # once a row is refused, the rest is only validated
            writer.write(table.scored(chunk, values, keep))
    table.problems.raise_if_any()
    return writer.text()
