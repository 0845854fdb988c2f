"""/predict/csv under attack (issue 17: attacks 1, 3 and 7), against a real uvicorn serving the
session's trained Telco project with an API key, on 127.0.0.1.

Each request is watched: its status and answer size, the server's peak memory while it ran
(the process's VmHWM, reset through /proc/<pid>/clear_refs just before) and the slowest
/health answer polled every 20 ms meanwhile.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import baking
import httpx
import pandas as pd
import pytest

KEY = "attack-test-key"
HEADERS = {"X-API-Key": KEY, "Content-Type": "text/csv"}
HEALTH_LIMIT = 0.25  # seconds: /health answers in milliseconds, whatever a table costs
ROWS = 10_000  # the default APP_MAX_BATCH_RECORDS


@dataclass
class Watched:
    status: int
    text: str
    size: int
    seconds: float
    memory_mb: float  # peak RSS while the request ran, over the RSS before it
    health: list[float] = field(default_factory=list)  # /health latencies meanwhile, seconds


@dataclass
class Server:
    url: str
    pid: int

    def post(self, body: bytes, timeout: float = 60) -> Watched:
        """POST body to /predict/csv, probing /health and the server's memory meanwhile."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # reset the peak RSS
        before = memory_kb(self.pid, "VmRSS")
        answer: list[httpx.Response] = []
        started = time.perf_counter()
        send = threading.Thread(target=lambda: answer.append(
            httpx.post(f"{self.url}/predict/csv", content=body, headers=HEADERS, timeout=timeout)
        ))  # fmt: skip
        send.start()
        health = []
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while send.is_alive():
                probe = time.perf_counter()
                assert client.get("/health").status_code == 200
                health.append(time.perf_counter() - probe)
                time.sleep(0.02)
        send.join()
        seconds = time.perf_counter() - started
        growth = (memory_kb(self.pid, "VmHWM") - before) / 1024
        (response,) = answer
        return Watched(
            response.status_code, response.text, len(response.content), seconds, growth, health
        )


def proc_status(pid: int, key: str) -> str:
    """A line of /proc/<pid>/status, after its key."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return line.split(":", 1)[1].strip()
    raise KeyError(key)


def memory_kb(pid: int, key: str) -> int:
    return int(proc_status(pid, key).split()[0])


def is_running(pid: int) -> bool:
    """False once the process has exited (a zombie waiting for its parent has too)."""
    try:
        return proc_status(pid, "State")[0] != "Z"
    except FileNotFoundError:
        return False


@contextmanager
def served_telco(project: Path) -> Iterator[Server]:
    env = baking.project_env(project) | {"APP_API_KEY": KEY}
    with baking.serving(project, baking.package_name(project), env) as (url, process):
        yield Server(url, process.pid)


@pytest.fixture(scope="module")
def server(trained_telco: Path) -> Iterator[Server]:
    with served_telco(trained_telco) as running:
        yield running


@pytest.fixture(scope="module")
def table(trained_telco: Path) -> pd.DataFrame:
    """The Telco test split without its target, as a client would upload it."""
    test = pd.read_parquet(trained_telco / "data" / "processed" / "test.parquet")
    return test.drop(columns=[baking.params_target(trained_telco)])


def rows_of(table: pd.DataFrame, count: int, extra: int = 0) -> bytes:
    """`count` rows of the table (repeated as needed), with `extra` columns the model ignores."""
    frame = pd.concat([table] * (count // len(table) + 1), ignore_index=True).head(count)
    extras = pd.DataFrame({f"extra_{i}": (frame.index * (i + 1)) % 997 for i in range(extra)})
    return pd.concat([frame, extras], axis=1).to_csv(index=False).encode()


def lines(table: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    """The header and two rows of the table, as lists of cells."""
    header, *rows = csv.reader(io.StringIO(table.head(2).to_csv(index=False)))
    return header, rows[0], rows[1]


def as_csv(*rows: list[str]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    return text.getvalue().encode()


def assert_calm(watched: Watched, memory_mb: float) -> None:
    """The server stayed responsive and its memory grew by less than memory_mb."""
    assert max(watched.health, default=0) < HEALTH_LIMIT, watched.health
    assert watched.memory_mb < memory_mb, watched.memory_mb


@pytest.mark.parametrize("columns", [1_000_000, 100_000])
def test_a_wide_header_is_refused_at_once(server, columns):
    """Before: 10^6 column names (7.9 MB) got no answer, 2.2 GB and counting; 10^5 took 11 s."""
    body = (",".join(f"c{i:06d}" for i in range(columns)) + "\n").encode()
    watched = server.post(body)
    assert watched.status == 413, watched.text
    assert "line 1: the header" in watched.text or f"{columns} columns" in watched.text
    assert watched.size < 500 and watched.seconds < 5
    assert_calm(watched, memory_mb=100)


def test_a_ragged_row_is_a_422_naming_its_line(server, table):
    """Before: a row with two fields too many was scored on shifted values, with a 200."""
    header, first, second = lines(table)
    for rows, line, says in [
        ([[*first, "x", "y"]], "line 2", "21 fields, but the header has 19 columns"),
        ([first, second[:-1]], "line 3", "18 fields"),
    ]:
        watched = server.post(as_csv(header, *rows))
        assert watched.status == 422, watched.text
        body = httpx.Response(422, text=watched.text).json()
        assert body["count"] == 1 and body["detail"][0]["loc"] == ["body", line]
        assert says in body["detail"][0]["msg"] and watched.size < 500


def test_text_and_infinity_in_number_columns_are_named(server, table):
    """Before: both were scored with a 200 (the text as a missing value, inf as infinity)."""
    header, first, second = lines(table)
    tenure, charges = header.index("tenure"), header.index("monthly_charges")
    first[tenure], second[charges] = "twelve", "inf"
    watched = server.post(as_csv(header, first, second))
    assert watched.status == 422, watched.text
    body = httpx.Response(422, text=watched.text).json()
    assert [p["loc"] for p in body["detail"]] == [
        ["body", "line 2", "tenure"],
        ["body", "line 3", "monthly_charges"],
    ]
    assert body["count"] == 2


def test_problems_are_bounded(server, table):
    header, first, _ = lines(table)
    tenure = header.index("tenure")
    first[tenure] = "n/a?"
    watched = server.post(as_csv(header, *[first] * ROWS))
    assert watched.status == 422
    body = httpx.Response(422, text=watched.text).json()
    assert body["count"] == ROWS and len(body["detail"]) == 20 and watched.size < 10_000
    assert_calm(watched, memory_mb=150)


def test_formulas_come_back_escaped_and_numbers_unchanged(server, table):
    """Before: cells and names starting with = + - @ came back as sent."""
    header, first, second = lines(table)
    contract = header.index("contract")
    first[contract] = '=HYPERLINK("http://example.com","x")'
    sent = as_csv(
        ["=cmd|' /C calc'!A0", "@name", *header],
        ["=1+2", "+A1", *first],
        ["-3.5", "-1e-05", *second],
    )
    watched = server.post(sent)
    assert watched.status == 200, watched.text
    answer = list(csv.reader(io.StringIO(watched.text)))
    assert answer[0][:2] == ["'=cmd|' /C calc'!A0", "'@name"]
    assert answer[1][:2] == ["'=1+2", "'+A1"]
    assert answer[1][contract + 2] == "'" + first[contract]
    assert answer[2][:2] == ["-3.5", "-1e-05"]
    warnings = answer[0].index("warnings")
    assert "was not seen in training" in answer[1][warnings]


def test_health_answers_while_a_large_table_is_scored(server, table):
    body = rows_of(table, ROWS, extra=100)
    watched = server.post(body)
    assert watched.status == 200, watched.text[:300]
    assert len(watched.health) >= 5  # probed while the table was being scored
    assert_calm(watched, memory_mb=400)
    answer = pd.read_csv(io.StringIO(watched.text))
    assert len(answer) == ROWS and {"prediction", "warnings", "extra_99"} <= set(answer.columns)


def test_the_server_stops_on_sigterm_while_scoring_a_table(trained_telco, table):
    body = rows_of(table, ROWS, extra=100)
    with served_telco(trained_telco) as running:
        send = threading.Thread(target=lambda: httpx.post(
            f"{running.url}/predict/csv", content=body, headers=HEADERS, timeout=60
        ), daemon=True)  # fmt: skip
        send.start()
        time.sleep(0.5)
        stopped = time.perf_counter()
        os.kill(running.pid, signal.SIGTERM)
        while is_running(running.pid) and time.perf_counter() - stopped < 20:
            time.sleep(0.05)
        assert not is_running(running.pid), "still running 20 s after SIGTERM"
