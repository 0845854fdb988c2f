"""The prediction service, on a model trained by the fixtures (no mocks)."""

import json

import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.api import create_app
from {{ cookiecutter.package_name }}.api.settings import Settings


@pytest.fixture(scope="module")
def client(model_dir, tmp_path_factory):
    settings = Settings(model_dir=model_dir, metrics_file=tmp_path_factory.mktemp("r") / "none")
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def test_health_and_metadata(client, predictor):
    assert client.get("/health").status_code == 200
    meta = client.get("/metadata").json()
    assert meta["model"] == predictor.meta["champion"]
    assert meta["schema"]["target"] == predictor.meta["target"]


def test_openapi_lists_every_column_by_its_own_name(client, predictor):
    properties = client.get("/openapi.json").json()["components"]["schemas"]["Record"]["properties"]
    assert set(predictor.schema.columns) <= set(properties)


def test_predict_one_record(client, record, predictor):
    response = client.post("/predict", json=record)
    assert response.status_code == 200, response.text
    body = response.json()
    if predictor.classes is not None:
        assert body["prediction"] in predictor.classes
        assert set(body["probabilities"]) == {str(c) for c in predictor.classes}


def test_predict_batch_answers_each_record(client, record):
    response = client.post("/predict/batch", json={"records": [record, record, record]})
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 3


def test_missing_and_unknown_keys_are_named(client, record):
    first = next(iter(record))
    body = {k: v for k, v in record.items() if k != first} | {"not a column": 1}
    response = client.post("/predict", json=body)
    assert response.status_code == 422
    named = {tuple(item["loc"]) for item in response.json()["detail"]}
    assert ("body", first) in named
    assert ("body", "not a column") in named


def test_unseen_category_is_accepted(client, record, predictor):
    categorical = [n for n, s in predictor.schema.columns.items() if s.kind == "categorical"]
    if not categorical:
        pytest.skip("no categorical column")
    response = client.post("/predict", json=record | {categorical[0]: "never seen before"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "payload",
    ["", "not json", "[1, 2]", '"a string"', "null", '{"records": 5}', '{"x": NaN}'],
)
def test_bad_bodies_are_4xx_never_5xx(client, payload):
    for path in ("/predict", "/predict/batch"):
        response = client.post(path, content=payload, headers={"content-type": "application/json"})
        assert 400 <= response.status_code < 500, (path, payload, response.text)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused_not_crashing(client, record, predictor, value):
    numeric = [n for n, s in predictor.schema.columns.items() if s.kind == "numeric"]
    if not numeric:
        pytest.skip("no numeric column")
    body = json.dumps(record | {numeric[0]: 0}, ensure_ascii=False)
    key = json.dumps(numeric[0], ensure_ascii=False)
    raw = body.replace(f"{key}: 0", f"{key}: {value}", 1)
    response = client.post("/predict", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", numeric[0]]
