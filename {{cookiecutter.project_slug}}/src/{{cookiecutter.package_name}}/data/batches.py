"""A table read in chunks of rows, so that memory does not grow with its length: a CSV file
(optionally gzip-compressed), a Parquet file, or a folder of Parquet files (hive-partitioned
folders such as `region=north/` add their column), as Arrow record batches.

A CSV is read as `sources` reads it whole: the separator from its header line, a UTF-8
byte-order mark dropped, pandas' missing-value markers (`NA_TEXT`) as missing. Every column is
read as text: a streamed reader infers types from its first block, so a column of whole
numbers that holds "1.5" (or "$1,234") a million rows later would fail there. `numbers` then
gives the model's number columns their values chunk by chunk (the cleaning rules of
`cleaning.to_number` where a chunk holds more than plain numbers), and the other columns pass
through as the file spelt them. Parquet keeps its own types.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from pyarrow import csv

from ..errors import StageError
from .cleaning import to_number
from .schema import Schema
from .sources import (
    DEMO_PREFIX,
    GZIP_MAGIC,
    NA_TEXT,
    csv_separator,
    file_type,
    read_source,
    utf8_text,
)

BATCH_ROWS = 16_384  # Parquet rows per chunk (more: more memory, no faster)
CSV_BLOCK_BYTES = 2 << 20  # CSV bytes per chunk
HEADER_BYTES = 1 << 20  # the longest header line looked for
INDEX = re.compile(r"__index_level_\d+__")
# In a number column, as the API's CSV route reads them (text, so the column stays text).
BOOLEAN_TEXT = {"True": "1", "TRUE": "1", "true": "1", "False": "0", "FALSE": "0", "false": "0"}


@dataclass(frozen=True)
class Batches:
    """A table's chunks: `schema` holds every chunk's columns and types; iterate to read."""

    label: str
    schema: pa.Schema
    text: bool  # every column read as text (CSV)
    read: Callable[[], Iterator[pa.RecordBatch]]

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        with arrow_errors(self.label):
            yield from self.read()


@contextmanager
def arrow_errors(label: str) -> Iterator[None]:
    """Arrow's errors while reading, as one StageError line naming the file."""
    try:
        yield
    except (pa.ArrowException, OSError) as exc:
        raise StageError(f"{label}: {_reason(str(exc))}") from None


def _reason(message: str) -> str:
    """Arrow's message, said as the file's problem."""
    line = message.strip().splitlines()[0] if message.strip() else "cannot be read"
    if "Empty CSV file" in line:
        return "the file is empty"
    if "invalid UTF8" in line:
        where = re.search(r"Row #(\d+)", line)
        return f"not UTF-8 text{f' (line {where[1]})' if where else ''}; save it as UTF-8"
    found = re.search(r"Row #(\d+): Expected (\d+) columns, got (\d+)", line)
    if found:
        return f"line {found[1]} has {found[3]} fields, the header {found[2]} columns"
    if "magic bytes" in line or "Parquet" in line:
        return f"not a readable Parquet file ({line})"
    return line


def open_batches(source: str, schema: Schema) -> Batches:
    """The table at `source` in chunks, once its header holds every column the model reads.
    An http(s) URL or a demo name is read whole (`sources.read_source`), then chunked."""
    path = Path(source)
    if path.is_dir():
        batches = _parquet(path, source)
    elif source.startswith(("http://", "https://", DEMO_PREFIX)):  # read whole
        table = pa.Table.from_pandas(read_source(source), preserve_index=False)
        batches = Batches(source, table.schema, False, lambda: iter(table.to_batches(BATCH_ROWS)))
    elif not path.is_file():
        raise StageError(f"{source}: file not found")
    elif file_type(source) == "parquet":
        batches = _parquet(path, source)
    else:
        batches = _csv(path, source)
    require_columns(batches.schema.names, schema, source)
    return batches


def require_columns(names: list[str], schema: Schema, label: str) -> None:
    """Refuse a table that lacks a column the model reads, or names a column twice."""
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise StageError(f"{label}: duplicated column names: {', '.join(twice)}")
    missing = [name for name in schema.columns if name not in names]
    if missing:
        hint = " (separate columns with , ; tab or |)" if len(names) == 1 else ""
        raise StageError(f"{label}: columns missing from the input: {', '.join(missing)}{hint}")


def _parquet(path: Path, label: str) -> Batches:
    with arrow_errors(label):
        dataset = ds.dataset(path, format="parquet", partitioning="hive")
    if not dataset.files:
        raise StageError(f"{label}: no Parquet files in the folder")
    # pre_buffer off and one fragment and batch ahead: memory stays flat however long the
    # file (with Arrow's defaults it grows with the file).
    options = ds.ParquetFragmentScanOptions(pre_buffer=False)
    # pandas' saved index (`__index_level_0__`) is not a column of the table: as pandas reads it
    columns = [name for name in dataset.schema.names if not INDEX.fullmatch(name)]

    def read() -> Iterator[pa.RecordBatch]:
        yield from dataset.to_batches(
            columns=columns, batch_size=BATCH_ROWS, batch_readahead=1, fragment_readahead=1,
            fragment_scan_options=options, use_threads=True,
        )  # fmt: skip

    schema = pa.schema([dataset.schema.field(name) for name in columns])
    return Batches(label, schema, False, read)


def _csv(path: Path, label: str) -> Batches:
    with open(path, "rb") as handle:
        compressed = handle.read(2) == GZIP_MAGIC
    with pa.input_stream(path, compression="gzip" if compressed else None) as stream:
        head = stream.read(HEADER_BYTES)
    if not head.strip():
        raise StageError(f"{label}: the file is empty")
    header = utf8_text(head.split(b"\n", 1)[0], label)
    parse = csv.ParseOptions(delimiter=csv_separator(header), newlines_in_values=True)
    options = csv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False)
    names = _header_names(path, compressed, parse, label)
    convert = csv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        null_values=sorted(NA_TEXT), strings_can_be_null=True, quoted_strings_can_be_null=True,
    )  # fmt: skip

    def read() -> Iterator[pa.RecordBatch]:
        stream = pa.input_stream(path, compression="gzip" if compressed else None)
        with csv.open_csv(stream, options, parse, convert) as reader:
            yield from reader

    schema = pa.schema([(name, pa.string()) for name in names])
    return Batches(label, schema, True, read)


def _header_names(path: Path, compressed: bool, parse: csv.ParseOptions, label: str) -> list[str]:
    """The header's column names, as the CSV reader parses them (quoted, escaped)."""
    small = csv.ReadOptions(block_size=HEADER_BYTES, use_threads=False)
    with arrow_errors(label), pa.input_stream(path, "gzip" if compressed else None) as stream:
        return csv.open_csv(stream, small, parse).schema.names


def model_frame(batch: pa.RecordBatch, schema: Schema, text: bool) -> pd.DataFrame:
    """A chunk's columns the model reads (and its dropped ones it has, which the prediction
    log keeps) as pandas; text: number columns read as text get their values (`numbers`)."""
    names = [*schema.features, *(name for name in schema.dropped if name in batch.schema.names)]
    frame = batch.select(names).to_pandas()
    if text:
        for name, spec in schema.columns.items():
            if spec.kind == "numeric":
                frame[name] = numbers(batch.column(name))
    return frame


def numbers(column: pa.Array) -> np.ndarray:
    """A text column as floats: Arrow's parse when every cell is a plain number, else the
    cleaning rules ("$1,234", "45%", padding), with true/false as 1/0."""
    try:
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        text = column.to_pandas().astype(object).replace(BOOLEAN_TEXT)
        return to_number(text).to_numpy()
