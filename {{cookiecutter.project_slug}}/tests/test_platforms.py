"""The cloud platforms' contracts: SageMaker's and Vertex AI's routes on the fixture model, and
how the launcher tells which platform started the container (no mocks: the real app)."""

import json

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.api import create_app, platforms
from {{ cookiecutter.package_name }}.api.healthcheck import ports
from {{ cookiecutter.package_name }}.api.settings import Settings

HEALTH = "/v1/endpoints/1/deployedModels/2"
PREDICT = "/v1/endpoints/1/deployedModels/2:predict"
VERTEX = {"AIP_HTTP_PORT": "7080", "AIP_HEALTH_ROUTE": HEALTH, "AIP_PREDICT_ROUTE": PREDICT}


def platform_client(folder, platform, **settings):
    settings = Settings(
        model_dir=folder, metrics_file=folder / "none", platform=platform, **settings
    )
    # One request id for every request: whole answers compare (they hold it).
    headers = {"X-Request-ID": "platform-test"}
    return TestClient(create_app(settings), raise_server_exceptions=False, headers=headers)


@pytest.fixture(scope="module")
def records(splits, predictor) -> list[dict]:
    rows = splits[1].drop(columns=[predictor.meta.target]).head(12)
    return json.loads(rows.to_json(orient="records"))


@pytest.fixture(scope="module")
def own(served_dir, records):
    """The service's own answers to the records: /predict/batch and /predict/csv."""
    with platform_client(served_dir, "none") as client:
        batch = client.post("/predict/batch", json={"records": records})
        table = csv_table(records)
        csv = client.post("/predict/csv", content=table, headers={"content-type": "text/csv"})
        assert client.get("/ping").status_code == 404  # no platform: no platform routes
    return batch.json(), csv.text


def csv_table(records: list[dict]) -> str:
    return pd.DataFrame(records).to_csv(index=False)


def test_sagemaker_answers_as_the_service_does(served_dir, records, own):
    with platform_client(served_dir, "sagemaker") as client:
        ping = client.get("/ping")
        assert ping.status_code == 200 and ping.json()["status"] == "ready"
        answer = client.post("/invocations", json={"records": records})
        assert answer.status_code == 200, answer.text
        assert answer.json() == own[0]
        table = client.post(
            "/invocations", content=csv_table(records), headers={"content-type": "text/csv"}
        )
        assert table.status_code == 200 and table.text == own[1]


def test_sagemaker_refuses_bad_requests_with_a_4xx(served_dir, records):
    with platform_client(served_dir, "sagemaker") as client:
        unknown = client.post("/invocations", json={"records": [records[0] | {"surprise": 1}]})
        assert unknown.status_code == 422
        assert ["body", "records", 0, "surprise"] in [p["loc"] for p in unknown.json()["detail"]]
        xml = client.post("/invocations", content="<a/>", headers={"content-type": "text/xml"})
        assert xml.status_code == 415 and "application/json" in xml.json()["detail"]


def test_vertex_takes_instances_and_answers_predictions(served_dir, records, own, monkeypatch):
    for name, value in VERTEX.items():
        monkeypatch.setenv(name, value)
    with platform_client(served_dir, "vertex") as client:
        assert client.get(HEALTH).status_code == 200
        answer = client.post(PREDICT, json={"instances": records, "parameters": {}})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"predictions": own[0]["predictions"]}
        assert answer.headers["x-model-version"] == own[0]["model_version"]
        bad = client.post(PREDICT, json={"instances": [records[0] | {"surprise": 1}]})
        assert bad.status_code == 422
        assert ["body", "instances", 0, "surprise"] in [p["loc"] for p in bad.json()["detail"]]
        assert client.post(PREDICT, json={"records": records}).status_code == 422


def test_platform_routes_keep_the_api_key(served_dir, records):
    with platform_client(served_dir, "sagemaker", api_key="s3cret") as client:
        assert client.post("/invocations", json={"records": records}).status_code == 401
        assert client.get("/ping").status_code == 200


def test_launcher_tells_the_platform_from_how_it_was_started(tmp_path):
    assert platforms.launch(["--workers", "2"], {}) == platforms.Launch("none", ["--workers", "2"])
    sagemaker = platforms.launch(["serve"], {})
    assert sagemaker.platform == "sagemaker" and sagemaker.env["APP_PLATFORM"] == "sagemaker"
    assert sagemaker.args[-2:] == ["--port", "8080"]
    vertex = platforms.launch([], dict(VERTEX))
    assert vertex.platform == "vertex" and vertex.args[-2:] == ["--port", "7080"]
    with pytest.raises(platforms.PlatformError, match="AIP_PREDICT_ROUTE"):
        platforms.launch([], {"AIP_HTTP_PORT": "7080", "AIP_HEALTH_ROUTE": HEALTH})
    with pytest.raises(platforms.PlatformError, match="AIP_HTTP_PORT"):
        platforms.launch([], VERTEX | {"AIP_HTTP_PORT": "http"})


def test_healthcheck_tries_the_port_of_every_start():
    assert ports({}) == ["8000", "8080"]
    assert ports({"AIP_HTTP_PORT": "7080", "UVICORN_PORT": "8000"}) == ["7080", "8000", "8080"]
