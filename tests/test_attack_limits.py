"""Issue 17's attacks 2, 4 and 5 against the baked service as `make serve` runs it.

One real server for the module (the trained Telco project, `python -m <package>.api.server`
on 127.0.0.1, short timeouts); each test sends one attack and checks the status, the answer's
size, the server's memory growth (its peak RSS, from /proc, reset before each attack) and
/health's latency while the attack runs. Every attack is bounded: seconds, tens of MB.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import baking
import httpx
import pytest

TIMEOUT = 2  # APP_HEADER_TIMEOUT and APP_BODY_TIMEOUT, seconds
JSON = {"content-type": "application/json"}
MB = 1 << 20


class Server:
    def __init__(self, url: str, pid: int, record: dict[str, Any], columns: int) -> None:
        self.url, self.pid, self.record, self.columns = url, pid, record, columns
        self.port = int(url.rsplit(":", 1)[1])

    def memory(self) -> tuple[int, int]:
        """(RSS, peak RSS since the last reset), in bytes."""
        status = Path(f"/proc/{self.pid}/status").read_text(encoding="ascii").splitlines()
        fields = dict(line.split(":", 1) for line in status if ":" in line)
        return int(fields["VmRSS"].split()[0]) << 10, int(fields["VmHWM"].split()[0]) << 10

    def attack(self, send: Callable[[], Any]) -> tuple[Any, float, list[float]]:
        """send()'s result, the server's memory growth (peak minus RSS before) and /health's
        latencies meanwhile."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5", encoding="ascii")  # reset the peak
        before, _ = self.memory()
        with Health(self.port) as health:
            result = send()
        _, peak = self.memory()
        assert httpx.get(f"{self.url}/health", timeout=5).status_code == 200
        return result, peak - before, health.latencies


# Asks /health every 20 ms, each time on a new connection, until its stdin closes; prints the
# latencies. A process of its own: the attack's client does not delay it.
PROBE = """
import http.client, json, sys, threading, time
port, done, latencies = int(sys.argv[1]), threading.Event(), []
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
while not done.is_set():
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/health")
    assert connection.getresponse().read() == b'{"status":"ok"}'
    connection.close()
    latencies.append(time.perf_counter() - started)
    done.wait(0.02)
print(json.dumps(latencies))
"""


class Health:
    """/health's latencies while the `with` block runs (from a probe process)."""

    def __init__(self, port: int) -> None:
        self.port, self.latencies = port, []

    def __enter__(self) -> Health:
        command = [sys.executable, "-c", PROBE, str(self.port)]
        self.probe = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        time.sleep(0.2)  # its first answers: the server's quiet latency
        return self

    def __exit__(self, *exc: object) -> None:
        out, _ = self.probe.communicate(b"", timeout=120)
        assert self.probe.returncode == 0
        self.latencies = sorted(json.loads(out))


@pytest.fixture(scope="module")
def server(trained_telco: Path) -> Iterator[Server]:
    env = baking.project_env(trained_telco)
    env |= {"APP_HEADER_TIMEOUT": str(TIMEOUT), "APP_BODY_TIMEOUT": str(TIMEOUT)}
    record = baking.first_test_record(trained_telco, baking.params_target(trained_telco))
    package = baking.package_name(trained_telco)
    meta = json.loads((trained_telco / "models" / "model.json").read_text(encoding="utf-8"))
    with baking.serving(trained_telco, package, env) as (url, process):
        yield Server(url, process.pid, record, len(meta["schema"]["columns"]))


def assert_responsive(latencies: list[float]) -> None:
    """/health answered within milliseconds, bar the odd pause of a busy machine (before
    these fixes: stalls of 1 to 60 s). The bounds leave room for other jobs on 2 cores: a
    run of the full suite next to other work saw a 90th percentile of 0.17 s."""
    assert latencies, "no /health answer during the attack"
    assert latencies[int(len(latencies) * 0.9)] < 0.5, latencies[-5:]
    assert latencies[-1] < 1.5, latencies[-5:]


def post(server: Server, path: str, body: bytes) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", content=body, headers=JSON, timeout=60)


def records(items: list[str]) -> bytes:
    return ('{"records": [' + ",".join(items) + "]}").encode()


def test_ten_thousand_empty_records_get_a_small_422_with_a_count(server):
    answer, grown, latencies = server.attack(
        lambda: post(server, "/predict/batch", records(["{}"] * 10_000))
    )
    assert answer.status_code == 422
    assert answer.json()["count"] == 10_000 * server.columns
    assert len(answer.json()["detail"]) == 20 and len(answer.content) < 10_000
    assert grown < 100 * MB
    assert_responsive(latencies)


def test_a_hundred_thousand_empty_records_are_refused_before_they_are_parsed(server):
    started = time.perf_counter()
    answer, grown, _ = server.attack(
        lambda: post(server, "/predict/batch", records(["{}"] * 100_000))
    )
    assert answer.status_code == 413 and "the limit is 10000" in answer.json()["detail"]
    assert time.perf_counter() - started < 2 and grown < 50 * MB


def test_a_full_body_of_valid_records_is_refused_before_it_is_validated(server):
    row = json.dumps(server.record)
    body = records([row] * (32 * MB // (len(row) + 1) - 1))
    started = time.perf_counter()
    answer, grown, latencies = server.attack(lambda: post(server, "/predict/batch", body))
    assert answer.status_code == 413
    assert time.perf_counter() - started < 3 and grown < 150 * MB
    assert_responsive(latencies)


@pytest.mark.parametrize("with_fields", [True, False])
def test_a_hundred_thousand_unknown_keys_get_a_small_422(server, with_fields):
    keys = {str(i): 0 for i in range(100_000)}
    body = json.dumps((server.record if with_fields else {}) | keys, separators=(",", ":"))
    answer, grown, latencies = server.attack(lambda: post(server, "/predict", body.encode()))
    assert answer.status_code == 422 and answer.json()["count"] == 100_000
    assert len(answer.content) < 10_000 and grown < 100 * MB
    assert_responsive(latencies)


def exchange(server: Server, data: bytes, wait: float = 10) -> str:
    """Send `data` on a new connection (as much as the server takes); its status line."""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.settimeout(wait)
        with contextlib.suppress(OSError):  # refused and closed while sending: answer waits
            sock.sendall(data)
        return sock.recv(200).split(b"\r\n")[0].decode()


def test_a_16_mb_header_is_refused_with_431(server):
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (16 * MB) + b"\r\n\r\n"
    line, grown, _ = server.attack(lambda: exchange(server, head))
    assert line == "HTTP/1.1 431 Request Header Fields Too Large"
    assert grown < 20 * MB


def test_unfinished_headers_on_ten_connections_are_cut_off(server):
    """Each sends up to 40 MB of one header that never ends: each is refused early."""

    def send() -> list[str]:
        sockets = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(10)]
        for sock in sockets:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
            sock.settimeout(10)
        open_ = set(range(10))
        for _ in range(40 * MB // (64 << 10)):
            for i in list(open_):
                try:
                    sockets[i].sendall(b"a" * (64 << 10))
                except OSError:
                    open_.discard(i)
            if not open_:
                break
        lines = [sock.recv(200).split(b"\r\n")[0].decode() for sock in sockets]
        for sock in sockets:
            sock.close()
        return lines

    lines, grown, _ = server.attack(send)
    assert lines == ["HTTP/1.1 431 Request Header Fields Too Large"] * 10
    assert grown < 30 * MB


def trickle(server: Server, data: bytes, every: float = 0.3) -> tuple[str, float]:
    """Send `data` a byte at a time; the answer's status line and when it came."""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.settimeout(every)
        started = time.monotonic()
        for byte in data:
            try:
                answer = sock.recv(200)
                return answer.split(b"\r\n")[0].decode(), time.monotonic() - started
            except TimeoutError:
                sock.sendall(bytes([byte]))
    return "not closed", time.monotonic() - started


def test_a_slowloris_connection_is_closed_with_408(server):
    head = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 100
    line, after = trickle(server, head)
    assert line == "HTTP/1.1 408 Request Timeout"
    assert TIMEOUT - 0.1 <= after < TIMEOUT + 1.5  # asyncio may fire a timer a little early


def test_a_half_sent_body_is_timed_out(server):
    head = b"POST /predict HTTP/1.1\r\nContent-Type: application/json\r\n"
    head += b"Content-Length: 900\r\n\r\n"
    started = time.monotonic()
    assert exchange(server, head + b'{"a') == "HTTP/1.1 408 Request Timeout"
    assert TIMEOUT <= time.monotonic() - started < TIMEOUT + 1.5


def test_health_answers_in_milliseconds_during_200_concurrent_big_batches(server):
    body = records([json.dumps(server.record)] * 1_000)

    async def batches() -> list[int]:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(limits=limits, timeout=120) as client:
            answers = await asyncio.gather(
                *[
                    client.post(f"{server.url}/predict/batch", content=body, headers=JSON)
                    for _ in range(200)
                ]
            )
        return [answer.status_code for answer in answers]

    statuses, grown, latencies = server.attack(lambda: asyncio.run(batches()))
    assert statuses == [200] * 200
    assert_responsive(latencies)
    assert grown < 300 * MB
