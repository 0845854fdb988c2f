"""The prediction log's file: one SQLite database, each scored row one row of `predictions`.

Why SQLite rather than Parquet files or DuckDB: it is in Python's standard library (nothing
to install, no server); a committed transaction survives the process being killed (WAL
journal), so a crash loses only what was not yet handed to it; several uvicorn workers may
append to one file (each waits its turn for a few milliseconds; DuckDB allows one writing
process); readers never block the writer; retention is a DELETE on an indexed time column, and
an append is one small transaction, not one more file (a Parquet file per flush would leave
tens of thousands of files a day to compact). pandas, DuckDB and the `sqlite3` shell read it.

Columns: `request_id`, `row` (the record's place in its request), `time` (UTC, ISO 8601, in
time order as text), `route` (predict, batch, csv or command), `model_version`,
`prediction`, `warnings`; then each input value as received, `input.<column>`, and each class
probability, `probability.<label>`. A model with other columns adds them (ALTER TABLE).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

TABLE = "predictions"
FIXED = ("request_id", "row", "time", "route", "model_version", "prediction", "warnings")
INPUT = "input."
PROBABILITY = "probability."
BUSY_MS = 10_000  # how long a writer waits for another process's transaction


def quoted(name: str) -> str:
    """A column name as an SQL identifier (any text: quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def stamp(moment: datetime) -> str:
    """A UTC time as the log writes it: fixed width, so text order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stamp_seconds(seconds: float) -> str:
    return stamp(datetime.fromtimestamp(seconds, UTC))


def connect(path: Path, write: bool = True) -> sqlite3.Connection:
    """A connection in WAL mode; for writing, the folder and the table are made if missing."""
    if write:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_MS / 1000, check_same_thread=False)
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only takes on a new file
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL: a commit survives the process being killed; only a power cut may undo the
        # last ones (FULL would wait for the disk at every flush).
        conn.execute("PRAGMA synchronous = NORMAL")
        columns = ", ".join(
            ["request_id TEXT NOT NULL", "row INTEGER NOT NULL", "time TEXT NOT NULL",
             "route TEXT NOT NULL", "model_version TEXT NOT NULL", "prediction", "warnings TEXT"]
        )  # fmt: skip
        with conn:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} ({columns})")
            conn.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_time ON {TABLE} (time)")
        return conn
    uri = f"{path.resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_MS / 1000, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    return conn


def columns(conn: sqlite3.Connection) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({TABLE})")]


def add_columns(conn: sqlite3.Connection, names: Iterable[str]) -> None:
    """Add the columns the table lacks (another worker may add the same one at once)."""
    for name in [n for n in names if n not in set(columns(conn))]:
        try:
            with conn:
                conn.execute(f"ALTER TABLE {TABLE} ADD COLUMN {quoted(name)}")
        except sqlite3.OperationalError as exc:
            if "duplicate column" not in str(exc):
                raise


def insert(conn: sqlite3.Connection, names: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Append rows (values in the order of `names`) in one transaction: all or none.

    One statement per row. Many rows per INSERT (20, 100: tried) cut the writer's CPU by a
    third, but the writer then holds the GIL while it binds them: /predict's p99 at one
    connection rose from 1.6 ms to 2.3 and 3.3 ms, for no throughput that measured above
    noise (scripts/bench_serve.py's rounds, a 2-core machine)."""
    marks = ", ".join("?" * len(names))
    sql = f"INSERT INTO {TABLE} ({', '.join(map(quoted, names))}) VALUES ({marks})"
    with conn:
        conn.executemany(sql, rows)


def prune(conn: sqlite3.Connection, retention_days: int, max_rows: int) -> int:
    """Delete rows older than retention_days, then the oldest beyond max_rows; give back the
    freed pages. Returns how many rows went."""
    cutoff = stamp(datetime.now(UTC) - timedelta(days=retention_days))
    with conn:
        old = conn.execute(f"DELETE FROM {TABLE} WHERE time < ?", (cutoff,)).rowcount
        # The (max_rows + 1)-th newest row and every older one (rowids grow with each append).
        over = conn.execute(
            f"DELETE FROM {TABLE} WHERE rowid <= "
            f"(SELECT rowid FROM {TABLE} ORDER BY rowid DESC LIMIT 1 OFFSET ?)",
            (max_rows,),
        ).rowcount
    if old or over:
        conn.execute("PRAGMA incremental_vacuum")
    return old + over
