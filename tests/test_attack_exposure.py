"""Issue 17, attacks 6, 8 and 9, against the trained Telco project served by a real uvicorn:
what the service tells strangers (training values in /openapi.json, security headers, /docs
without third-party scripts) and how it fails (a model that cannot be loaded leaves the
process up with /ready 503 and one message; a server without an API key says so).

One server with APP_API_KEY set (as attacked) serves the read-only checks; each fault gets a
server of its own on a damaged copy of the model folder. Loopback only, every request bounded.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import baking
import httpx
import pandas as pd
import pytest

KEY = "attack-key"
HEADERS = {
    "content-security-policy": "frame-ancestors 'none'",  # a part the page must keep
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
NO_KEY_WARNING = "APP_API_KEY is not set"


@contextmanager
def server(project: Path, env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen, IO]]:
    """(base URL, process, log) of the service as `make serve` starts it, once /health is 200."""
    package, env = baking.package_name(project), baking.project_env(project) | env
    with (
        tempfile.TemporaryFile(mode="w+") as log,
        baking.serving(project, package, env, log=log) as (url, process),
    ):
        yield url, process, log


def log_text(log: IO) -> str:
    log.flush()
    log.seek(0)
    return log.read()


@pytest.fixture(scope="module")
def served(trained_telco: Path) -> Iterator[tuple[str, subprocess.Popen, IO]]:
    with server(trained_telco, {"APP_API_KEY": KEY}) as running:
        yield running


def strings(node: Any) -> list[str]:
    """Every text value in a JSON document (not the keys)."""
    if isinstance(node, dict):
        return [text for value in node.values() for text in strings(value)]
    if isinstance(node, list):
        return [text for value in node for text in strings(value)]
    return [node] if isinstance(node, str) else []


def equal(column: pd.Series, value: Any) -> pd.Series:
    """Which cells of a table column hold `value` (numbers compared as numbers)."""
    if value is None:
        return column.isna()
    if pd.api.types.is_numeric_dtype(column):
        return column.astype(float) == float(value)
    return column.astype(str) == str(value)


def test_openapi_holds_no_training_value(served, trained_telco):
    """The example is no row of the table; no exact minimum, maximum or level is published
    but the example's own typical values (a rounded median, the most common level)."""
    url, _, _ = served
    answer = httpx.get(f"{url}/openapi.json", timeout=10)  # no key: anyone may read it
    assert answer.status_code == 200 and len(answer.content) < 100_000
    document = answer.json()
    text = answer.text
    (example,) = document["components"]["schemas"]["Record"]["examples"]
    table = pd.read_parquet(trained_telco / "data" / "interim" / "validated.parquet")
    features = list(example)
    assert set(features) <= set(table.columns)
    same = pd.concat([equal(table[name], example[name]) for name in features], axis=1)
    assert not same.all(axis=1).any(), "the example is a row of the training table"
    texts = set(strings(document))
    for name in features:
        column = table[name]
        if pd.api.types.is_numeric_dtype(column):
            for value in (column.min(), column.max()):
                if abs(value) > 1:  # 0 and 1 are in any document
                    pattern = rf"(?<![\d.]){re.escape(f'{value:g}')}(?![\d])"
                    assert not re.search(pattern, text), f"{name}: {value:g} published"
        else:
            others = set(column.dropna().astype(str)) - {str(v) for v in example.values()}
            assert others.isdisjoint(texts), f"{name}: levels published"
            described = [level for level in others if len(level) > 3 and level in text]
            assert described == [], f"{name}: levels published"


def test_security_headers_on_every_route(served, trained_telco):
    url, _, _ = served
    record = baking.first_test_record(trained_telco, baking.params_target(trained_telco))
    key = {"X-API-Key": KEY}
    csv = key | {"content-type": "text/csv"}
    with httpx.Client(base_url=url, timeout=30) as client:
        answers = [
            client.get("/"),
            client.get("/health"),
            client.get("/ready"),
            client.get("/metadata"),  # 401
            client.get("/metadata", headers=key),
            client.get("/docs"),
            client.get("/docs/assets/swagger-ui-bundle.js"),
            client.get("/openapi.json"),
            client.get("/static/app.js"),
            client.get("/static/style.css"),
            client.get("/no/such/page"),  # 404
            client.get("/predict"),  # 405
            client.post("/predict", json=record),  # 401
            client.post("/predict", json=record, headers=key),
            client.post("/predict", json={}, headers=key),  # 422
            client.post("/predict", content="x", headers=key),  # 415
            client.post("/predict/batch", json={"records": [record]}, headers=key),
            client.post("/predict/csv", content="a\n1\n", headers=csv),  # 422
        ]
    for answer in answers:
        where = f"{answer.request.method} {answer.request.url.path} ({answer.status_code})"
        for name, value in HEADERS.items():
            assert value in answer.headers.get(name, ""), f"{where}: {name}"
    statuses = {answer.status_code for answer in answers}
    assert {200, 401, 404, 405, 415, 422} <= statuses


def browser_errors(page: Any) -> list[str]:
    """Console errors (a Content-Security-Policy violation is one) and script errors."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    refused = "the server responded with a status of 4"  # a 401 the page asked for

    def console(message: Any) -> None:
        if message.type == "error" and refused not in message.text:
            errors.append(message.text)

    page.on("console", console)
    return errors


def test_docs_load_no_third_party_url(served):
    """Swagger UI renders from the service's own files: every request goes to the service."""
    url, _, _ = served
    with baking.chromium() as browser:
        page = browser.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        errors = browser_errors(page)
        page.goto(f"{url}/docs", wait_until="networkidle")
        page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
        operations = len(page.query_selector_all(".swagger-ui .opblock"))
    assert operations >= 3  # /predict, /predict/batch, /predict/csv, ...
    outside = [u for u in requested if not u.startswith((f"{url}/", "data:"))]
    assert outside == [] and f"{url}/openapi.json" in requested
    assert errors == []


def test_web_page_reads_the_schema_with_the_key_under_the_policy(served):
    url, _, _ = served
    with baking.chromium() as browser:
        page = browser.new_page()
        errors = browser_errors(page)
        page.goto(f"{url}/", wait_until="networkidle")
        page.wait_for_selector("#key-box:not([hidden])")
        page.fill("#api-key", KEY)
        page.click("#use-key")
        page.wait_for_selector("#fields input[data-column='contract']")
        assert page.input_value("input[data-column='contract']") != ""  # the typical example
    assert errors == []


def damage_graph(models: Path) -> str:
    """model.onnx replaced by bytes that are no graph, its checksum recorded to match."""
    graph = models / "serving" / "model.onnx"
    graph.write_bytes(b"\x08\x07 not an ONNX graph")
    manifest_path = models / "serving" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["sha256"] = hashlib.sha256(graph.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    return "not a graph ONNX Runtime can load"


def damage_manifest(models: Path) -> str:
    path = models / "serving" / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["file"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return "not a valid ServingManifest"


def damage_meta(models: Path) -> str:
    (models / "model.json").write_text('{"project": ', encoding="utf-8")
    return "not a valid ModelMeta"


@pytest.mark.parametrize("damage", [damage_graph, damage_manifest, damage_meta])
def test_a_model_that_cannot_load_leaves_the_process_up_and_unready(
    trained_telco, tmp_path, damage
):
    models = tmp_path / "models"
    shutil.copytree(trained_telco / "models", models)
    expected = damage(models)
    with server(trained_telco, {"APP_MODEL_DIR": str(models)}) as (url, process, log):
        with httpx.Client(base_url=url, timeout=10) as client:
            started = time.perf_counter()
            assert client.get("/health").status_code == 200
            assert time.perf_counter() - started < 1.0
            ready = client.get("/ready")
            assert ready.status_code == 503, ready.text
            detail = ready.json()["detail"]
            assert expected in detail and "\n" not in detail
            assert client.post("/predict", json={}).status_code == 503
        assert process.poll() is None
        text = log_text(log)
    assert text.count("not ready: ") == 1 and "Traceback" not in text, text
    assert NO_KEY_WARNING in text  # served without a key


def test_no_key_warning_only_without_a_key(served):
    _, _, log = served
    assert NO_KEY_WARNING not in log_text(log)
