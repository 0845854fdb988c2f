"""The prediction service on the exported model trained by the fixtures (no mocks)."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.api import create_app
from {{ cookiecutter.package_name }}.api.settings import Settings
from {{ cookiecutter.package_name }}.onnx.parity import TOLERANCE
from {{ cookiecutter.package_name }}.serving.artifacts import ONNX_FILE, SERVING_DIR


def make_client(folder, **settings):
    settings = Settings(model_dir=folder, metrics_file=folder / "none", **settings)
    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(served_dir):
    with make_client(served_dir) as test_client:
        yield test_client


def post_raw(client, path, content, content_type="application/json"):
    return client.post(path, content=content, headers={"content-type": content_type})


def test_health_ready_and_metadata(client, predictor):
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready["runtime"] == "onnx"
    meta = client.get("/metadata").json()
    assert meta["model"] == predictor.meta.champion
    assert meta["model_version"] == ready["model_version"]
    assert meta["schema"]["target"] == predictor.meta.target
    assert max(meta["parity"].values()) <= TOLERANCE


def test_openapi_lists_every_column_by_its_own_name(client, predictor):
    spec = client.get("/openapi.json").json()
    properties = spec["components"]["schemas"]["Record"]["properties"]
    assert set(predictor.schema.columns) <= set(properties)
    body = spec["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/Record"}


def test_predict_one_record(client, record, predictor):
    response = client.post("/predict", json=record)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_version"] == response.headers["x-model-version"]
    assert isinstance(body["warnings"], list)
    if predictor.classes is not None:
        assert body["prediction"] in predictor.classes
        assert set(body["probabilities"]) == {str(c) for c in predictor.classes}
        assert sum(body["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)


def test_service_answers_like_the_trained_pipeline(client, record, predictor):
    body = client.post("/predict", json=record).json()
    (expected,) = predictor.predict_records([record])
    if predictor.classes is None:
        assert body["prediction"] == pytest.approx(expected["prediction"], rel=1e-5)
    else:
        for label, p in expected["probabilities"].items():
            assert body["probabilities"][label] == pytest.approx(p, abs=TOLERANCE)


def test_predict_batch_answers_each_record_in_order(client, splits, predictor):
    rows = splits[1].drop(columns=[predictor.meta.target]).head(20)
    records = json.loads(rows.to_json(orient="records"))
    response = client.post("/predict/batch", json={"records": records})
    assert response.status_code == 200, response.text
    answers = response.json()["predictions"]
    assert len(answers) == 20
    singles = [client.post("/predict", json=r).json()["prediction"] for r in records[:5]]
    batched = [a["prediction"] for a in answers[:5]]
    if predictor.classes is None:  # a matrix product rounds a little differently per batch size
        assert batched == pytest.approx(singles, rel=1e-6)
    else:
        assert batched == singles


def test_a_row_of_the_training_table_scores_with_its_target_and_ids(client, splits, predictor):
    row = splits[1].head(1)  # the split's own columns: the target, and dropped ones if any
    (record,) = json.loads(row.to_json(orient="records"))
    without = {k: v for k, v in record.items() if k != predictor.meta.target}
    answered, plain = client.post("/predict", json=record), client.post("/predict", json=without)
    assert answered.status_code == 200, answered.text
    assert answered.json()["prediction"] == plain.json()["prediction"]


def test_missing_and_unknown_keys_are_named(client, record):
    first = next(iter(record))
    body = {k: v for k, v in record.items() if k != first} | {"not a column": 1}
    response = client.post("/predict", json=body)
    assert response.status_code == 422
    named = {tuple(item["loc"]) for item in response.json()["detail"]}
    assert ("body", first) in named
    assert ("body", "not a column") in named


def test_unseen_category_is_scored_and_flagged(client, record, predictor):
    closed = [
        n for n, s in predictor.schema.columns.items() if s.kind == "categorical" and s.closed
    ]
    if not closed:
        pytest.skip("no categorical column with a complete list of levels")
    response = client.post("/predict", json=record | {closed[0]: "never seen before"})
    assert response.status_code == 200
    assert any(closed[0] in warning for warning in response.json()["warnings"])


def test_number_outside_the_training_range_is_flagged(client, record, predictor):
    numeric = [n for n, s in predictor.schema.columns.items() if s.kind == "numeric"]
    if not numeric:
        pytest.skip("no numeric column")
    spec = predictor.schema.columns[numeric[0]]
    response = client.post("/predict", json=record | {numeric[0]: spec.max + 1000})
    assert response.status_code == 200
    assert any("outside the training range" in w for w in response.json()["warnings"])


@pytest.mark.parametrize(
    "payload",
    ["", "not json", "[1, 2]", '"a string"', "null", '{"records": 5}', '{"x": NaN}', "[" * 5000],
)
def test_bad_bodies_are_4xx_never_5xx(client, payload):
    for path in ("/predict", "/predict/batch"):
        response = post_raw(client, path, payload)
        assert response.status_code == 422, (path, payload, response.text)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999", "1e300", '"many"'])
def test_bad_numbers_are_refused_not_crashing(client, record, predictor, value):
    numeric = [n for n, s in predictor.schema.columns.items() if s.kind == "numeric"]
    if not numeric:
        pytest.skip("no numeric column")
    body = json.dumps(record | {numeric[0]: 0}, ensure_ascii=False)
    key = json.dumps(numeric[0], ensure_ascii=False)
    raw = body.replace(f"{key}: 0", f"{key}: {value}", 1)
    response = post_raw(client, "/predict", raw)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", numeric[0]]


def test_wrong_content_type_is_415(client, record):
    response = post_raw(client, "/predict", json.dumps(record), "text/plain")
    assert response.status_code == 415
    assert post_raw(client, "/predict/csv", "a,b\n1,2", "application/json").status_code == 415


def test_limits_answer_413(served_dir, record):
    with make_client(served_dir, max_body_bytes=200, max_batch_records=2) as small:
        assert small.post("/predict", json=record | {"padding": "x" * 300}).status_code == 413
        many = small.post("/predict/batch", json={"records": [record] * 3})
        assert many.status_code == 413
        assert "limit is 2" in many.json()["detail"]


def test_csv_upload_comes_back_with_predictions(client, splits, predictor):
    table = splits[1].drop(columns=[predictor.meta.target]).head(30)
    response = post_raw(client, "/predict/csv", table.to_csv(index=False), "text/csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert len(lines) == 31 and "prediction" in lines[0] and lines[0].endswith(",warnings")
    missing = post_raw(client, "/predict/csv", "only,two\n1,2\n", "text/csv")
    assert missing.status_code == 422
    absent = [problem["loc"][-1] for problem in missing.json()["detail"]]
    assert absent and set(absent) <= set(predictor.schema.columns)


def test_api_key_is_required_once_configured(served_dir, record):
    with make_client(served_dir, api_key="s3cret") as locked:
        assert locked.post("/predict", json=record).status_code == 401
        wrong = locked.post("/predict", json=record, headers={"X-API-Key": "guess"})
        assert wrong.status_code == 401
        right = locked.post("/predict", json=record, headers={"X-API-Key": "s3cret"})
        assert right.status_code == 200
        assert locked.get("/metadata").status_code == 401
        assert locked.get("/activity").status_code == 401  # counts of the log: behind the key
        assert locked.get("/health").status_code == 200
        assert locked.get("/ready").status_code == 200


def test_changed_model_file_keeps_the_service_unready(served_dir, record, tmp_path):
    shutil.copytree(served_dir, tmp_path, dirs_exist_ok=True)
    onnx_file = tmp_path / SERVING_DIR / ONNX_FILE
    onnx_file.write_bytes(onnx_file.read_bytes()[:-1])
    with make_client(tmp_path) as broken:
        assert broken.get("/health").status_code == 200
        ready = broken.get("/ready")
        assert ready.status_code == 503 and "SHA-256" in ready.json()["detail"]
        assert broken.post("/predict", json=record).status_code == 503


def test_sklearn_runtime_gives_the_same_answers(served_dir, record, client):
    with make_client(served_dir, runtime="sklearn") as sk:
        assert sk.get("/ready").json()["runtime"] == "sklearn"
        a = sk.post("/predict", json=record).json()
    b = client.post("/predict", json=record).json()

    def values(answer):
        return list((answer.get("probabilities") or {"": answer["prediction"]}).values())

    assert np.allclose(values(a), values(b), rtol=1e-5, atol=TOLERANCE)


def test_web_page_and_its_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "<form" in page.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200


def test_serving_imports_neither_mlflow_nor_the_training_stack(served_dir):
    code = f"""
import importlib, sys
from fastapi.testclient import TestClient
api = importlib.import_module({create_app.__module__!r})
settings = importlib.import_module({Settings.__module__!r}).Settings(model_dir={str(served_dir)!r})
with TestClient(api.create_app(settings)) as client:
    assert client.get("/ready").json()["runtime"] == "onnx"
heavy = ("mlflow", "sklearn", "lightgbm", "xgboost", "joblib", "skl2onnx", "onnx", "dvc")
print(sorted(name for name in sys.modules if name.split(".")[0] in heavy))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
