"""Writing a scored table: whole (`write_table`, the monitor's labelled rows), or chunk by chunk
as it is scored (`write_batches`, the batch command), CSV (gzip for .gz) or Parquet by the
name's suffix. Either way the file appears whole or not at all: it is written beside the
target and renamed over it at the end, so a chunk that fails leaves no half-written output."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import csv

from ..errors import StageError
from ..files import atomic_write, write_parquet

CSV_OPTIONS = csv.WriteOptions(quoting_style="needed")


def output_kind(path: Path) -> str:
    """The output's kind by its suffix, parquet or csv; a StageError naming it otherwise."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    raise StageError(f"{path}: unknown file type (expected .csv, .csv.gz or .parquet)")


def _compression(path: Path) -> str | None:
    return "gzip" if path.name.lower().endswith(".gz") else None


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV through Arrow's writer, about ten times faster than pandas'; gzip for .gz."""
    compression = _compression(path)
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, ValueError):  # a column mixing types: pandas writes anything
        atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, compression=compression))
        return

    def write(tmp: Path) -> None:
        with pa.output_stream(tmp, compression=compression) as sink:
            csv.write_csv(table, sink, CSV_OPTIONS)

    atomic_write(path, write)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    if output_kind(path) == "parquet":
        write_parquet(frame, path)
    else:
        write_csv(frame, path)


def write_batches(path: Path, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> int:
    """Write chunks of one schema as they come (each read, scored, then written: memory holds
    one at a time); the rows written. An error raised by `batches` leaves nothing written."""
    kind = output_kind(path)
    rows = 0

    def write(tmp: Path) -> None:
        nonlocal rows
        if kind == "parquet":
            writer = pq.ParquetWriter(tmp, schema)
        else:
            sink = pa.output_stream(tmp, compression=_compression(path))
            writer = csv.CSVWriter(sink, schema, write_options=CSV_OPTIONS)
        try:
            for batch in batches:
                writer.write_batch(batch)
                rows += batch.num_rows
        finally:
            writer.close()
            if kind == "csv":
                sink.close()

    atomic_write(path, write)
    return rows
