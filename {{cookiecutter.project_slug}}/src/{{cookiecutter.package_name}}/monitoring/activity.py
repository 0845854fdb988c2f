"""The service's recent activity, for the web page: predictions since midnight (UTC), how they
split over the classes (or how the predicted values spread), and the last monitor run's verdict.
Counts only: no record and no input value leaves the log this way."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from . import store

HISTOGRAM_BINS = 10


class Histogram(BaseModel):
    edges: list[float] = Field(description="HISTOGRAM_BINS + 1 bin edges, lowest first")
    counts: list[int]


class LastMonitor(BaseModel):
    verdict: str = Field(description="ok, drift or degraded")
    created_at: str
    rows: int
    crossed: list[str] = Field(description="the columns that crossed a threshold")


class Activity(BaseModel):
    log: bool = Field(description="whether this service logs its predictions")
    since: str = Field(description="midnight UTC today")
    predictions: int = Field(description="rows scored since then, by every worker")
    classes: dict[str, int] | None = Field(None, description="rows per predicted class")
    histogram: Histogram | None = Field(None, description="regression: the predicted values")
    monitor: LastMonitor | None = Field(None, description="the last `monitor` run")


def last_monitor(summary: Path) -> LastMonitor | None:
    """The verdict in reports/monitoring/summary.json; None if there is none (or it is bad)."""
    try:
        found = json.loads(summary.read_text(encoding="utf-8"))
        crossed = [f["name"] for f in found["features"] if f["crossed"]]
        return LastMonitor(
            verdict=found["verdict"], created_at=found["created_at"], rows=found["rows"],
            crossed=crossed,
        )  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None


def today(log: Path | None, classes: list[str] | None, summary: Path) -> Activity:
    """The activity since midnight UTC in the log file (`log` None: the log is off)."""
    since = store.stamp(datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0))
    activity = Activity(log=log is not None, since=since, predictions=0)
    activity.monitor = last_monitor(summary)
    if log is None or not log.is_file():
        return activity
    conn = store.connect(log, write=False)
    try:
        where = f"FROM {store.TABLE} WHERE time >= ?"
        if classes is not None:
            counts = dict(conn.execute(f"SELECT prediction, COUNT(*) {where} GROUP BY 1", (since,)))
            activity.classes = {label: int(counts.get(label, 0)) for label in classes}
            activity.predictions = sum(counts.values())
        else:
            activity.predictions, activity.histogram = _spread(conn, where, since)
    except sqlite3.Error:
        return activity  # a log still being created, or damaged: the page shows no counts
    finally:
        conn.close()
    return activity


def _spread(conn: sqlite3.Connection, where: str, since: str) -> tuple[int, Histogram | None]:
    total, low, high = conn.execute(
        f"SELECT COUNT(*), MIN(prediction), MAX(prediction) {where}", (since,)
    ).fetchone()
    if not total:
        return 0, None
    width = (high - low) / HISTOGRAM_BINS or 1.0
    found = conn.execute(
        f"SELECT MIN(CAST((prediction - ?) / ? AS INTEGER), ?), COUNT(*) {where} GROUP BY 1",
        (low, width, HISTOGRAM_BINS - 1, since),
    )
    counts = [0] * HISTOGRAM_BINS
    for index, count in found:
        counts[int(index)] = int(count)
    edges = [low + i * width for i in range(HISTOGRAM_BINS + 1)]
    return int(total), Histogram(edges=edges, counts=counts)
