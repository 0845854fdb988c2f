"""The prediction log's writer: requests hand their rows over, a thread appends them in batches.

A request only appends a reference to its rows and answers to a list (under a lock held for
a few hundred nanoseconds); the writer thread wakes every APP_LOG_FLUSH_SECONDS, takes the
whole list and appends it to the SQLite file in one transaction (`store.py`). So the log adds
no disk wait to a request; a graceful stop (SIGTERM, Ctrl-C) writes what is pending before
the process ends, and a crash (kill -9, a power cut aside) loses at most the rows of the last
flush interval. When the disk cannot keep up, rows beyond APP_LOG_MAX_PENDING waiting rows are
dropped, counted and reported, rather than growing the process without bound.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from . import store

log = logging.getLogger(__name__)

PRUNE_SECONDS = 600.0  # how often retention and the row limit are applied
# (route, request id, time in s since the epoch, model version, rows, answers, first row's
# place in its request)
Entry = tuple[str, str, float, str, Sequence[Sequence[Any]], Sequence[dict[str, Any]], int]


class LogSettings(BaseSettings):
    """The prediction log's settings, from APP_* variables (the service's and the batch
    command's)."""

    model_config = SettingsConfigDict(env_prefix="APP_", extra="ignore")

    log_predictions: bool = Field(True, description="false: no prediction log")
    prediction_log: Path = Field(Path("logs/predictions.sqlite"), description="its SQLite file")
    # A crash loses at most this many seconds of rows; each flush is one transaction.
    log_flush_seconds: float = Field(1.0, gt=0, le=3600)
    log_retention_days: int = Field(90, ge=1, description="older rows are deleted")
    log_max_rows: int = Field(5_000_000, ge=1000, description="the oldest beyond are deleted")
    log_max_pending: int = Field(200_000, ge=100, description="rows waiting; beyond: dropped")


class PredictionLog:
    """Appends scored rows to the log file from a background thread."""

    def __init__(
        self, settings: LogSettings, inputs: Sequence[str], classes: Sequence[str] | None
    ) -> None:
        self.path = settings.prediction_log
        self.settings = settings
        probabilities = [store.PROBABILITY + label for label in classes or []]
        self.names = [*store.FIXED, *(store.INPUT + name for name in inputs), *probabilities]
        self.width = len(inputs)
        self.classes = classes is not None
        self._conn = store.connect(self.path)  # errors here stop the start, not a request
        store.add_columns(self._conn, self.names)
        self._entries: list[Entry] = []
        self._rows = 0
        self._lock = threading.Lock()
        self._writing = threading.Lock()  # one flush at a time: the thread's, or a caller's
        self._stop = threading.Event()
        self.written = self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def add(
        self,
        route: str,
        request_id: str,
        version: str,
        rows: Sequence[Sequence[Any]],
        answers: Sequence[dict[str, Any]],
        first: int = 0,
    ) -> None:
        """Hand rows (input values in schema order) and their answers to the writer; `first`
        is the first row's place in its request. The answers must not change afterwards."""
        entry = (route, request_id, time.time(), version, rows, answers, first)
        with self._lock:
            if self._rows + len(rows) > self.settings.log_max_pending:
                self.dropped += len(rows)
                return
            self._rows += len(rows)
            self._entries.append(entry)

    def close(self) -> None:
        """Write what is pending and stop the thread (the service's shutdown calls it)."""
        self._stop.set()
        self._thread.join()
        self._conn.close()
        log.info("prediction log: %d rows written to %s", self.written, self.path)

    def _run(self) -> None:
        pruned_at = 0.0
        while True:
            stopping = self._stop.wait(self.settings.log_flush_seconds)
            try:
                self.flush()
                if time.monotonic() - pruned_at > PRUNE_SECONDS:
                    pruned_at = time.monotonic()
                    cfg = self.settings
                    store.prune(self._conn, cfg.log_retention_days, cfg.log_max_rows)
            except Exception:  # a full disk, say: keep serving, say so, try again next time
                log.exception("prediction log: writing to %s failed", self.path)
            if stopping:
                return

    def flush(self) -> None:
        """Write the pending rows now, in one transaction."""
        with self._writing:
            with self._lock:
                entries, self._entries, self._rows = self._entries, [], 0
                dropped, self.dropped = self.dropped, 0
            if dropped:
                log.warning("prediction log: %d rows dropped (writing could not keep up)", dropped)
            if entries:
                store.insert(self._conn, self.names, self._rows_of(entries))
                self.written += sum(len(entry[4]) for entry in entries)

    def _rows_of(self, entries: list[Entry]) -> Iterator[tuple[Any, ...]]:
        """Each entry's rows as the table's values: fixed columns, inputs, probabilities."""
        width, classes = self.width, self.classes
        for route, request_id, seconds, version, rows, answers, first in entries:
            when = store.stamp_seconds(seconds)
            for i, (row, answer) in enumerate(zip(rows, answers, strict=True), first):
                label = answer["prediction"]
                found = answer.get("warnings")
                yield (
                    request_id, i, when, route, version, str(label) if classes else label,
                    "; ".join(found) if found else None, *_plain(row, width),
                    *(answer["probabilities"].values() if classes else ()),
                )  # fmt: skip


def _plain(row: Sequence[Any], width: int) -> Sequence[Any]:
    """The row's first `width` values as SQLite stores them: a boolean (sent for a category
    whose levels are true/false) as its text, as training reads it."""
    values = row[:width]
    if any(type(value) is bool for value in values):
        return [str(value) if type(value) is bool else value for value in values]
    return values


def table_rows(frame: pd.DataFrame, names: Sequence[str]) -> list[tuple[Any, ...]]:
    """A table's values as the log stores them, in the order of `names` (None for a column
    it lacks): Python numbers and text, None where missing, dates as ISO 8601 text."""
    columns = []
    for name in names:
        if name not in frame.columns:
            columns.append([None] * len(frame))
            continue
        values = frame[name]
        if pd.api.types.is_datetime64_any_dtype(values):
            values = values.map(lambda v: v.isoformat(), na_action="ignore")
        values = values.astype(object)
        columns.append(values.where(values.notna(), None).tolist())
    return list(zip(*columns, strict=True))
