"""The baked prediction service as a real server: hostile input, a fuzzer, and the Dockerfile.

Runs against the session's trained Telco project (read-only), served by uvicorn with the
template's Python. The Dockerfile is linted with hadolint and its exact command line is run
outside a container here, in seconds; tests/test_image.py builds and runs the image itself.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import baking
import httpx
import pytest

BATCH_LIMIT = 50  # APP_MAX_BATCH_RECORDS for the server under test: a small "huge batch"


@pytest.fixture(scope="module")
def served(trained_telco: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(base URL, a real test record) for the trained Telco project, served by uvicorn."""
    env = baking.project_env(trained_telco) | {"APP_MAX_BATCH_RECORDS": str(BATCH_LIMIT)}
    record = baking.first_test_record(trained_telco, baking.params_target(trained_telco))
    with baking.serve(trained_telco, baking.package_name(trained_telco), env) as url:
        yield url, record


def bad_requests(record: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], int]]:
    """(what, path, httpx request arguments, expected status) for every kind of bad input."""
    number, text = "tenure", "contract"  # a numeric and a categorical Telco column
    assert number in record and text in record
    body = json.dumps(record)
    json_type = {"content-type": "application/json"}

    def raw(content: str | bytes) -> dict[str, Any]:
        return {"content": content, "headers": json_type}

    def with_value(name: str, literal: str) -> dict[str, Any]:
        key = json.dumps(name)
        replaced = re.sub(rf"{re.escape(key)}: [^,}}]+", f"{key}: {literal}", body, count=1)
        return raw(replaced)

    without_number = {k: v for k, v in record.items() if k != number}
    return [
        ("string for a number", "/predict", with_value(number, '"twelve"'), 422),
        ("number and words for a number", "/predict", with_value(number, '"12 months"'), 422),
        ("boolean text for a number", "/predict", with_value(number, '"true"'), 422),
        ("text beyond float32", "/predict", with_value(number, '"1e39"'), 422),
        ("number for a category", "/predict", with_value(text, "3"), 422),
        ("object for a category", "/predict", with_value(text, '{"a": 1}'), 422),
        ("NaN", "/predict", with_value(number, "NaN"), 422),
        ("Infinity", "/predict", with_value(number, "-Infinity"), 422),
        ("beyond float64", "/predict", with_value(number, "1e999"), 422),
        ("beyond float32", "/predict", with_value(number, "1e300"), 422),
        ("missing field", "/predict", {"json": without_number}, 422),
        ("unknown field", "/predict", {"json": record | {"surprise": 1}}, 422),
        ("null body", "/predict", raw("null"), 422),
        ("null records", "/predict/batch", raw('{"records": null}'), 422),
        ("null record", "/predict/batch", raw('{"records": [null]}'), 422),
        ("empty body", "/predict", raw(""), 422),
        ("not JSON", "/predict", raw("tenure=12"), 422),
        ("truncated JSON", "/predict", raw(body[:-5]), 422),
        ("JSON array", "/predict", raw("[1, 2, 3]"), 422),
        ("JSON string", "/predict", raw('"tenure"'), 422),
        ("deeply nested", "/predict", raw("[" * 100_000 + "]" * 100_000), 422),
        ("invalid UTF-8", "/predict", raw(b'{"contract": "\xff\xfe"}'), 422),
        ("form content type", "/predict", {"data": {"tenure": "12"}}, 415),
        ("no content type", "/predict", {"content": body}, 415),
        ("JSON sent to the CSV endpoint", "/predict/csv", {"json": record}, 415),
        ("CSV without the columns", "/predict/csv", {"content": "a,b\n1,2\n",
                                                     "headers": {"content-type": "text/csv"}}, 422),
        ("huge batch", "/predict/batch", {"json": {"records": [record] * (BATCH_LIMIT + 1)}}, 413),
        ("oversized body", "/predict", raw(b" " * (1 << 20) + body.encode()), 413),
        ("oversized body, chunked", "/predict",
         {"content": iter([b" " * (1 << 19)] * 3), "headers": json_type}, 413),
    ]  # fmt: skip


def test_bad_input_gets_a_clear_4xx_and_the_server_stays_up(served):
    url, record = served
    unexpected = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for what, path, request, expected in bad_requests(record):
            response = client.post(path, **request)
            if response.status_code != expected:
                unexpected.append(f"{what}: {response.status_code} {response.text[:200]}")
            elif expected == 422 and path != "/predict/csv":
                assert response.json()["detail"][0]["loc"][0] == "body", what
            assert client.get("/health").status_code == 200, f"server down after {what}"
        assert client.post("/predict", json=record).status_code == 200
    assert unexpected == []


def test_numbers_are_taken_as_exported_tables_write_them(served):
    """A number column takes what training's cleaning reads: booleans and numeric text too."""
    url, record = served
    plain = record | {"tenure": 12, "senior_citizen": 1}
    alike = [
        record | {"tenure": "12", "senior_citizen": True},
        record | {"tenure": " 12.0 ", "senior_citizen": 1.0},
    ]
    same_id = {"X-Request-ID": "one-record"}  # the answers then hold the same request id
    with httpx.Client(base_url=url, timeout=30, headers=same_id) as client:
        expected = client.post("/predict", json=plain).json()
        for body in alike:
            response = client.post("/predict", json=body)
            assert response.status_code == 200, response.text
            assert response.json() == expected


def test_422_names_the_bad_fields(served):
    url, record = served
    body = {k: v for k, v in record.items() if k != "tenure"} | {"surprise": 1, "contract": 3}
    response = httpx.post(f"{url}/predict", json=body, timeout=30)
    assert response.status_code == 422
    named = {tuple(error["loc"]) for error in response.json()["detail"]}
    assert {("body", "tenure"), ("body", "surprise"), ("body", "contract")} <= named


def test_schemathesis_finds_no_server_error(served, tmp_path):
    """Fuzz every operation in /openapi.json: no 5xx, and answers match the documented schema."""
    url, _ = served
    checks = "not_a_server_error,status_code_conformance,content_type_conformance,"
    checks += "response_schema_conformance,negative_data_rejection"
    command = [
        str(baking.BIN_DIR / "schemathesis"),
        "run",
        f"{url}/openapi.json",
        f"--checks={checks}",
        "--max-examples=40",
        "--seed=7",
        "--generation-database=none",
        "--no-color",
        f"--report-dir={tmp_path}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    summary = done.stdout[-3000:]
    assert done.returncode == 0, summary
    assert re.search(r"\d+ generated", summary), summary


def dockerfile_instructions(project: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each Dockerfile instruction, continuation lines joined."""
    text = (project / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_passes_hadolint(trained_telco):
    command = [str(baking.BIN_DIR / "hadolint"), "--no-color", "Dockerfile"]
    done = subprocess.run(command, cwd=trained_telco, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_is_multi_stage_slim_non_root_with_a_healthcheck(trained_telco):
    instructions = dockerfile_instructions(trained_telco)
    (base,) = [args for name, args in instructions if name == "ARG" and args.startswith("BASE=")]
    assert base.endswith("-slim")  # the default; the image test builds on a local Debian one
    stages = [args for name, args in instructions if name == "FROM"]
    assert len(stages) >= 2 and all(stage.startswith("${BASE}") for stage in stages)
    users = [args for name, args in instructions if name == "USER"]
    assert users and users[-1] not in ("root", "0")
    package = baking.package_name(trained_telco)
    checks = [args for name, args in instructions if name == "HEALTHCHECK"]
    assert checks and f"{package}.api.healthcheck" in checks[0]
    ignored = (trained_telco / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "*" in ignored  # everything is left out unless listed


def test_dockerfile_command_serves_the_model_outside_a_container(trained_telco):
    """Run the image's CMD exactly, with its ENV, from the project folder (the image's /app)."""
    instructions = dockerfile_instructions(trained_telco)
    entrypoint = json.loads([args for name, args in instructions if name == "ENTRYPOINT"][-1])
    command = entrypoint + json.loads([args for name, args in instructions if name == "CMD"][-1])
    image_env = {}
    for name, args in instructions:
        if name == "ENV" and "=" in args:
            image_env |= dict(pair.split("=", 1) for pair in shlex.split(args))
    assert command[:3] == ["python", "-m", f"{baking.package_name(trained_telco)}.api.server"]
    assert image_env.get("UVICORN_PORT") == "8000"
    port = baking.free_port()
    env = baking.project_env(trained_telco)
    env |= {k: v for k, v in image_env.items() if k.startswith(("UVICORN_", "APP_", "PYTHON"))}
    env |= {"UVICORN_HOST": "127.0.0.1", "UVICORN_PORT": str(port)}  # only the bind address
    record = baking.first_test_record(trained_telco, baking.params_target(trained_telco))
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile(mode="w+") as log:
        server = subprocess.Popen(command, cwd=trained_telco, env=env, stdout=log, stderr=log)
        try:
            baking.wait_for_health(url, server, log, timeout=60)
            ready = httpx.get(f"{url}/ready", timeout=10).json()
            assert ready["runtime"] == "onnx"
            answer = baking.predict(url, record)
            assert answer.status_code == 200, answer.text
            assert answer.headers["x-model-version"] == ready["model_version"]
        finally:
            server.terminate()
            server.wait(timeout=10)


def test_served_process_leaves_mlflow_and_the_training_stack_out(trained_telco):
    """The served process holds only the serving dependencies (checked in the running app)."""
    code = (
        "import sys, importlib\n"
        f"api = importlib.import_module('{baking.package_name(trained_telco)}.api')\n"
        "from fastapi.testclient import TestClient\n"
        "with TestClient(api.app) as client:\n"
        "    assert client.get('/ready').status_code == 200\n"
        "heavy = ('mlflow', 'sklearn', 'lightgbm', 'xgboost', 'skl2onnx', 'onnx', 'joblib')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    done = baking.run(["python", "-c", code], trained_telco, baking.project_env(trained_telco))
    assert done.stdout.strip() == "[]"
