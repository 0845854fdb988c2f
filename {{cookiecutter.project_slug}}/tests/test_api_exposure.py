"""What the service shows strangers, and how it fails: no training values in the public
OpenAPI document, security headers on every answer, /docs from the service's own files,
and a model that cannot be loaded leaving the service up and unready (/ready 503)."""

import json
import logging
import re
import shutil

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.api import create_app
from {{ cookiecutter.package_name }}.api.headers import SECURITY_HEADERS
from {{ cookiecutter.package_name }}.api.settings import Settings
from {{ cookiecutter.package_name }}.data.schema import ColumnSpec, Schema
from {{ cookiecutter.package_name }}.data.typical import rounded, typical_record
from {{ cookiecutter.package_name }}.files import sha256
from {{ cookiecutter.package_name }}.serving.artifacts import (
    MANIFEST_FILE,
    META_FILE,
    ONNX_FILE,
    SERVING_DIR,
)


def app_for(folder, **settings) -> TestClient:
    """The service on the model in `folder`, with these settings (enter it to start it)."""
    return TestClient(create_app(Settings(model_dir=folder, **settings)))


@pytest.fixture(scope="module")
def client(served_dir):
    with app_for(served_dir) as started:
        yield started


def record_schema(client):
    return client.get("/openapi.json").json()["components"]["schemas"]["Record"]


def test_typical_values_are_rounded_medians_and_common_levels():
    values = (1701.65, 49.2, -0.003456, 0.0, 99.6)
    assert [rounded(v) for v in values] == [1700, 49, -0.0035, 0, 100]
    frame = pd.DataFrame(
        {
            "flag": [0, 1] * 10,
            "amount": [float(i) + 0.37 for i in range(20)],
            "plan": ["basic"] * 12 + ["plus"] * 8,
            "name": [f"customer {i}" for i in range(20)],  # every level rare
            "when": pd.date_range("2024-01-10", periods=20, freq="D"),
        }
    )
    schema = Schema(
        target="y",
        problem_type="binary",
        columns={
            "flag": ColumnSpec(kind="numeric"),
            "amount": ColumnSpec(kind="numeric"),
            "plan": ColumnSpec(kind="categorical", categories=["basic", "plus"]),
            "name": ColumnSpec(kind="categorical"),
            "when": ColumnSpec(kind="datetime"),
        },
    )
    expected = {"flag": 0, "amount": 9.4, "plan": "basic", "name": None, "when": "2024-01-01"}
    assert typical_record(frame, schema) == expected


def strings(node):
    """Every text value in a JSON document (not the keys)."""
    if isinstance(node, dict):
        return [text for value in node.values() for text in strings(value)]
    if isinstance(node, list):
        return [text for value in node for text in strings(value)]
    return [node] if isinstance(node, str) else []


def equal(column, value):
    """Which cells of a table column hold `value` (numbers compared as numbers)."""
    if value is None:
        return column.isna()
    if pd.api.types.is_numeric_dtype(column):
        return column.astype(float) == float(value)
    return column.astype(str) == str(value)


def test_public_openapi_shows_no_training_values(client, predictor, splits):
    """The example is no training row; no range or level is documented but the example's."""
    record = record_schema(client)
    (example,) = record.pop("examples")
    table = splits[0]
    same = pd.concat([equal(table[name], example[name]) for name in example], axis=1)
    assert not same.all(axis=1).any(), "the example is a training row"
    texts = set(strings(record))
    for name, spec in predictor.schema.columns.items():
        field = record["properties"][name]
        assert "seen in training" not in field["description"].lower(), name
        assert "examples" not in field, name
        if spec.kind == "categorical":
            others = set(spec.categories or []) - set(map(str, example.values()))
            assert others.isdisjoint(texts), name


def test_public_schema_setting_documents_ranges_and_levels(served_dir, predictor):
    with app_for(served_dir, public_schema=True) as public:
        properties = record_schema(public)["properties"]
    for name, spec in predictor.schema.columns.items():
        if spec.kind == "numeric" and spec.min is not None:
            assert f"from {spec.min:g} to {spec.max:g}" in properties[name]["description"]
        if spec.kind == "categorical" and spec.categories:
            assert "levels seen in training" in properties[name]["description"]


def test_validation_is_the_same_whether_the_schema_is_public(served_dir, client, record):
    first = next(iter(record))
    bodies = [record, record | {first: {"a": 1}}, {k: v for k, v in record.items() if k != first}]
    same = {"X-Request-ID": "one-body"}  # the answers then hold the same request id
    with app_for(served_dir, public_schema=True) as public:
        for body in bodies:
            a = client.post("/predict", json=body, headers=same)
            b = public.post("/predict", json=body, headers=same)
            assert (a.status_code, a.json()) == (b.status_code, b.json())


def test_security_headers_on_every_answer(client, record):
    answers = [
        client.get("/"),
        client.get("/health"),
        client.get("/ready"),
        client.get("/docs"),
        client.get("/openapi.json"),
        client.get("/static/app.js"),
        client.get("/docs/assets/swagger-ui.css"),
        client.get("/no/such/page"),
        client.post("/predict", json=record),
        client.post("/predict", content="not json", headers={"content-type": "application/json"}),
        client.post("/predict", content="x", headers={"content-type": "text/plain"}),
    ]
    for response in answers:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (response.request.url, name)


def test_docs_page_loads_only_the_services_own_files(client):
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and not [s for s in sources if re.match(r"[a-z]+://|//", s)]
    for source in sources:
        if not source.startswith("data:"):
            assert client.get(f"/{source}").status_code == 200, source
    assert client.get("/redoc").status_code == 404


def broken_copy(served_dir, tmp_path):
    shutil.copytree(served_dir, tmp_path, dirs_exist_ok=True)
    return tmp_path


def rewrite_manifest(folder, **changes):
    path = folder / SERVING_DIR / MANIFEST_FILE
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(manifest | changes), encoding="utf-8")


def not_ready(folder, record, expected):
    """The service starts, answers /health, and /ready and /predict say why it is not ready."""
    with app_for(folder) as broken:
        assert broken.get("/health").status_code == 200
        ready = broken.get("/ready")
        assert ready.status_code == 503 and expected in ready.json()["detail"], ready.text
        answer = broken.post("/predict", json=record)
        assert answer.status_code == 503 and answer.json() == ready.json()


def test_a_file_that_is_no_graph_but_matches_its_checksum(served_dir, record, tmp_path):
    folder = broken_copy(served_dir, tmp_path)
    graph = folder / SERVING_DIR / ONNX_FILE
    graph.write_bytes(b"not an ONNX graph")
    rewrite_manifest(folder, sha256=sha256(graph))
    not_ready(folder, record, "not a graph ONNX Runtime can load")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not a valid ServingManifest"),
        ("[]", "not a valid ServingManifest"),
        (None, "format onnx needs file"),
        ({"file": "../model.joblib"}, "must be a file name"),
        ({"output": "nothing"}, "its manifest feeds"),
    ],
)
def test_an_invalid_manifest(served_dir, record, tmp_path, content, expected):
    folder = broken_copy(served_dir, tmp_path)
    path = folder / SERVING_DIR / MANIFEST_FILE
    if content is None:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps({k: v for k, v in manifest.items() if k != "file"}))
    elif isinstance(content, dict):
        rewrite_manifest(folder, **content)
    else:
        path.write_text(content, encoding="utf-8")
    not_ready(folder, record, expected)


@pytest.mark.parametrize(
    ("damage", "expected"), [("missing", "no trained model"), ("not json", "not a valid ModelMeta")]
)
def test_an_unreadable_model_json_still_starts_the_service(
    served_dir, record, tmp_path, damage, expected
):
    folder = broken_copy(served_dir, tmp_path)
    meta = folder / META_FILE
    if damage == "missing":
        meta.unlink()
    else:
        meta.write_text("{", encoding="utf-8")
    not_ready(folder, record, expected)
    with app_for(folder) as broken:
        assert broken.get("/").status_code == 200 and broken.get("/docs").status_code == 200


def test_an_unreadable_report_is_left_out_of_metadata(served_dir, tmp_path):
    metrics = tmp_path / "metrics.json"
    metrics.write_text('{"test": ', encoding="utf-8")
    with app_for(served_dir, metrics_file=metrics) as started:
        assert started.get("/ready").status_code == 200
        assert started.get("/metadata").json()["test_metrics"] is None


def test_start_up_warns_when_no_api_key_is_set(served_dir, caplog):
    with caplog.at_level(logging.WARNING):
        create_app(Settings(model_dir=served_dir))
    assert "APP_API_KEY is not set" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        create_app(Settings(model_dir=served_dir, api_key="s3cret"))
    assert "APP_API_KEY" not in caplog.text
