"""The columns a scored table gains, named and typed once for the whole table, and a table
scored chunk by chunk as it is read (`score_file`, the batch command: each chunk read by
`data.batches`, scored, and written by `serving.batch.write_batches` before the next is read);
Spark's workers add the same columns to their partitions (`scoring.spark`).

A table gets a `prediction` column and, for classification, one `probability_<label>` column
per class; a name the table already uses gets a leading underscore (`_prediction`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..data.batches import Batches, model_frame, open_batches
from ..errors import StageError
from ..serving.batch import write_batches

if TYPE_CHECKING:
    from ..serving.predictor import Predictor


@dataclass(frozen=True)
class ScoredColumns:
    """The names and types of the columns scoring adds to a table."""

    prediction: str
    probabilities: list[str]  # one per class, in the model's order; none for regression
    label_type: pa.DataType  # the prediction column's: the classes' type, or float64

    @classmethod
    def plan(
        cls, classes: list[Any] | None, taken: Iterable[str], casefold: bool = False
    ) -> ScoredColumns:
        """Names free of the table's own (`taken`); casefold: compared ignoring case, as
        Spark compares column names."""
        fold = str.casefold if casefold else str
        used = {fold(str(name)) for name in taken}

        def free(name: str) -> str:
            while fold(name) in used:
                name = f"_{name}"
            used.add(fold(name))
            return name

        prediction = free("prediction")
        if classes is None:
            return cls(prediction, [], pa.float64())
        names = [free(f"probability_{label}") for label in classes]
        return cls(prediction, names, pa.array(classes).type)

    @property
    def names(self) -> list[str]:
        return [self.prediction, *self.probabilities]

    def fields(self) -> list[pa.Field]:
        label = pa.field(self.prediction, self.label_type)
        return [label, *(pa.field(name, pa.float64()) for name in self.probabilities)]

    def schema(self, table: pa.Schema) -> pa.Schema:
        """A table's schema with the scored columns appended."""
        return pa.schema([*table, *self.fields()])

    def arrays(self, labels: list[Any], proba: np.ndarray | None) -> list[pa.Array]:
        """`Predictor.predict_frame`'s answer as the scored columns' Arrow arrays."""
        label = pa.array(labels, type=self.label_type)
        if proba is None:
            return [label]
        return [label, *(pa.array(proba[:, i]) for i in range(len(self.probabilities)))]

    def add_to(self, frame: pd.DataFrame, labels: list[Any], proba: np.ndarray | None) -> None:
        """The scored columns appended to a pandas frame, in place."""
        frame[self.prediction] = labels
        for i, name in enumerate(self.probabilities):
            frame[name] = proba[:, i]


def score_chunk(
    predictor: Predictor, batch: pa.RecordBatch, frame: pd.DataFrame, scored: ScoredColumns
) -> tuple[pa.RecordBatch, list[Any], np.ndarray | None]:
    """A chunk with its scored columns appended, and the labels and probabilities; `frame`
    holds the chunk's model columns with their values (`batches.model_frame`)."""
    labels, proba = predictor.predict_frame(frame)
    columns = [*batch.columns, *scored.arrays(labels, proba)]
    out = pa.RecordBatch.from_arrays(columns, schema=scored.schema(batch.schema))
    return out, labels, proba


@dataclass
class StreamStats:
    """What scoring a streamed table took: rows, chunks, and seconds reading and scoring."""

    rows: int = 0
    chunks: int = 0
    read_seconds: float = 0.0
    score_seconds: float = 0.0


# Called with each scored chunk's model columns, labels, probabilities and first row's place.
OnScored = Callable[[pd.DataFrame, list[Any], "np.ndarray | None", int], None]


def score_stream(
    predictor: Predictor,
    source: Batches,
    scored: ScoredColumns,
    stats: StreamStats,
    on_scored: OnScored | None = None,
) -> Iterator[pa.RecordBatch]:
    """The source's chunks, each scored as it is read (a generator for `batch.write_batches`);
    counts and times go to `stats`. A source of no rows is refused once it is read through."""
    chunks = iter(source)
    while True:
        started = time.perf_counter()
        batch = next(chunks, None)
        read = time.perf_counter()
        stats.read_seconds += read - started
        if batch is None:
            break
        frame = model_frame(batch, predictor.schema, source.text)
        out, labels, proba = score_chunk(predictor, batch, frame, scored)
        stats.score_seconds += time.perf_counter() - read
        if on_scored is not None:
            on_scored(frame, labels, proba, stats.rows)
        stats.rows += batch.num_rows
        stats.chunks += 1
        yield out
    if stats.rows == 0:
        raise StageError(f"{source.label}: the table has a header but no rows")


def score_file(
    predictor: Predictor, source: str, output: Path, on_scored: OnScored | None = None
) -> StreamStats:
    """Score the table at `source` (`batches.open_batches`) into `output` chunk by chunk."""
    batches = open_batches(source, predictor.schema)
    scored = ScoredColumns.plan(predictor.classes, batches.schema.names)
    stats = StreamStats()
    chunks = score_stream(predictor, batches, scored, stats, on_scored)
    write_batches(output, scored.schema(batches.schema), chunks)
    return stats
