"""Hostile input gets small answers: bounded 422s, a batch counted before it is parsed, and a
server that refuses oversized or slow request heads (a real process, on 127.0.0.1)."""

import http.client
import os
import socket
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.api import create_app
from {{ cookiecutter.package_name }}.api.problems import MAX_PROBLEMS, MAX_TEXT
from {{ cookiecutter.package_name }}.api.settings import Settings

PACKAGE = "{{ cookiecutter.package_name }}"
JSON_50 = b"Content-Type: application/json\r\nContent-Length: 50\r\n"


def make_client(model_dir, **settings):
    settings = Settings(model_dir=model_dir, runtime="sklearn", metrics_file="none", **settings)
    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(model_dir):
    with make_client(model_dir, max_batch_records=2_000) as test_client:
        yield test_client


def test_many_empty_records_get_a_small_422_that_counts_every_problem(client, predictor):
    response = client.post("/predict/batch", json={"records": [{}] * 2_000})
    assert response.status_code == 422
    answer = response.json()
    assert len(answer["detail"]) == MAX_PROBLEMS
    assert answer["count"] == 2_000 * len(predictor.schema.columns)
    assert answer["detail"][0]["loc"][:3] == ["body", "records", 0]
    assert len(response.content) < 8_000


def test_a_record_with_very_many_unknown_keys_is_answered_from_its_keys(client, record):
    keys = {str(i): 0 for i in range(50_000)}
    for body in (record | keys, keys):  # with and without the known fields
        response = client.post("/predict", json=body)
        assert response.status_code == 422
        answer = response.json()
        assert answer["count"] == 50_000
        assert {item["type"] for item in answer["detail"]} == {"extra_forbidden"}
    batch = client.post("/predict/batch", json={"records": [record, keys]})
    assert batch.status_code == 422
    assert batch.json()["detail"][0]["loc"][:3] == ["body", "records", 1]


def test_a_few_unknown_keys_are_named_with_the_other_problems(client, record):
    first = next(iter(record))
    body = {k: v for k, v in record.items() if k != first} | {"x" * 5_000: 1}
    answer = client.post("/predict", json=body).json()
    assert answer["count"] == 2
    named = [item["loc"] for item in answer["detail"]]
    assert ["body", first] in named
    assert ["body", "x" * (MAX_TEXT - 1) + "…"] in named


def test_a_batch_over_the_record_limit_is_refused_before_it_is_validated(model_dir, record):
    with make_client(model_dir, max_batch_records=5) as small:
        over = small.post("/predict/batch", json={"records": [{}] * 6})
        assert over.status_code == 413
        assert over.json()["detail"] == "records: more than 5 records, the limit is 5"
        # Braces inside text are no records: five records whose text holds many still pass.
        text = [name for name, value in record.items() if isinstance(value, str)]
        braced = record | {name: "{" * 50 for name in text}
        assert small.post("/predict/batch", json={"records": [braced] * 5}).status_code == 200


def test_each_invalid_record_of_a_batch_is_named(client, record):
    numeric = next(n for n, v in record.items() if isinstance(v, int | float))
    body = {"records": [record, record | {numeric: "twelve"}, 7, record], "other": 1}
    answer = client.post("/predict/batch", json=body).json()
    assert answer["count"] == 3
    assert [item["loc"] for item in answer["detail"]] == [
        ["body", "other"],
        ["body", "records", 1, numeric],
        ["body", "records", 2],
    ]


def test_json_errors_in_a_batch_name_the_place(client):
    headers = {"content-type": "application/json"}
    body = b'{"records": [{"a": NaN}]}'
    response = client.post("/predict/batch", content=body, headers=headers)
    assert response.status_code == 422
    assert "line 1 column" in response.json()["detail"][0]["msg"]


@pytest.fixture(scope="module")
def server(model_dir):
    """`python -m <package>.api.server` on a free port, with short timeouts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = os.environ | {
        "APP_MODEL_DIR": str(model_dir),
        "APP_RUNTIME": "sklearn",
        "APP_HEADER_TIMEOUT": "1",
        "APP_BODY_TIMEOUT": "1",
    }
    command = [sys.executable, "-m", f"{PACKAGE}.api.server", "--port", str(port)]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    process = subprocess.Popen(command, env=env, **quiet)
    try:
        for _ in range(300):
            try:
                if exchange(port, b"GET /health HTTP/1.1\r\n\r\n")[0].endswith("200 OK"):
                    break
            except OSError:  # not listening yet
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def exchange(port, data, wait=5.0, head=False):
    """Send `data` on a new connection; the status line answered (or the whole head), and
    the seconds it took."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(wait)
        started = time.monotonic()
        sock.sendall(data)
        answer = sock.recv(4096)
        lines = answer.split(b"\r\n\r\n")[0].decode().split("\r\n")
        return (lines if head else lines[0]), time.monotonic() - started


@pytest.mark.parametrize(
    ("what", "data", "status"),
    [
        ("a big header", b"GET /health HTTP/1.1\r\nX: " + b"a" * 100_000 + b"\r\n\r\n", "431"),
        ("an endless header", b"GET /health HTTP/1.1\r\nX: " + b"a" * 100_000, "431"),
        ("many headers", b"GET /health HTTP/1.1\r\n" + b"A: b\r\n" * 200 + b"\r\n", "431"),
        ("a long target", b"GET /health?" + b"a" * 10_000 + b" HTTP/1.1\r\n\r\n", "414"),
        ("a half-sent head", b"GET /health HTTP/1.1\r\nHost: x\r\n", "408"),
        ("a half-sent body", b"POST /predict HTTP/1.1\r\n" + JSON_50 + b"\r\n{", "408"),
        ("a fine request", b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", "200"),
    ],
)
def test_the_server_refuses_big_or_slow_request_heads(server, what, data, status):
    lines, seconds = exchange(server, data, head=True)
    assert lines[0].split(" ")[1] == status, what
    assert seconds < 3, what
    assert "x-frame-options: deny" in [line.lower() for line in lines], what


def test_a_connection_that_sends_nothing_is_closed(server):
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.settimeout(5)
        started = time.monotonic()
        assert sock.recv(500).startswith(b"HTTP/1.1 408")
        assert time.monotonic() - started < 3


def test_keep_alive_requests_are_served_one_after_another(server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
    try:
        for _ in range(3):  # one connection, each request's head well within the timeout
            connection.request("GET", "/health")
            assert connection.getresponse().read() == b'{"status":"ok"}'
            time.sleep(0.6)
    finally:
        connection.close()


def test_the_launcher_names_a_bad_setting_in_one_line():
    env = os.environ | {"APP_MAX_HEADERS": "many"}
    command = [sys.executable, "-m", f"{PACKAGE}.api.server"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: APP_MAX_HEADERS: Input should be a valid integer")
