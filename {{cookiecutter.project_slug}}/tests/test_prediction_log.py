"""The prediction log: rows handed over reach the SQLite file in batches, a stop writes what is
pending, retention and the row limit hold, and the service logs every route with its request id."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.api import create_app
from {{ cookiecutter.package_name }}.api.settings import Settings
from {{ cookiecutter.package_name }}.monitoring import store
from {{ cookiecutter.package_name }}.monitoring.writer import LogSettings, PredictionLog, table_rows


def rows_in(path) -> pd.DataFrame:
    with sqlite3.connect(path) as conn:
        return pd.read_sql_query(f"SELECT * FROM {store.TABLE} ORDER BY rowid", conn)


def answer(label: str, p: float) -> dict:
    return {"prediction": label, "probabilities": {"no": 1 - p, "yes": p}, "warnings": []}


def test_rows_are_written_in_batches_and_on_close(tmp_path):
    settings = LogSettings(prediction_log=tmp_path / "log.sqlite", log_flush_seconds=60)
    log = PredictionLog(settings, ["amount", "plan"], ["no", "yes"])
    log.add("predict", "r1", "v1", [(1.5, "basic")], [answer("no", 0.2)])
    log.add("batch", "r2", "v1", [(2.0, None), (3.0, True)], [answer("yes", 0.9)] * 2)
    assert rows_in(settings.prediction_log).empty  # nothing before the first flush
    log.close()
    found = rows_in(settings.prediction_log)
    assert found["request_id"].tolist() == ["r1", "r2", "r2"]
    assert found["row"].tolist() == [0, 0, 1]
    assert found["input.amount"].tolist() == [1.5, 2.0, 3.0]
    assert found["input.plan"].fillna("-").tolist() == ["basic", "-", "True"]  # True as text
    assert found["probability.yes"].tolist() == pytest.approx([0.2, 0.9, 0.9])
    assert found["time"].is_monotonic_increasing


def test_the_writer_flushes_every_interval(tmp_path):
    settings = LogSettings(prediction_log=tmp_path / "log.sqlite", log_flush_seconds=0.05)
    log = PredictionLog(settings, ["amount"], None)
    log.add("predict", "r1", "v1", [(1.0,)], [{"prediction": 2.5}])
    deadline = time.monotonic() + 5
    while rows_in(settings.prediction_log).empty and time.monotonic() < deadline:
        time.sleep(0.02)
    assert rows_in(settings.prediction_log)["prediction"].tolist() == [2.5]
    log.close()


def test_rows_beyond_the_pending_limit_are_dropped_and_counted(tmp_path):
    settings = LogSettings(
        prediction_log=tmp_path / "log.sqlite", log_flush_seconds=60, log_max_pending=100
    )
    log = PredictionLog(settings, ["amount"], None)
    log.add("batch", "r1", "v1", [(1.0,)] * 80, [{"prediction": 1.0}] * 80)
    log.add("batch", "r2", "v1", [(1.0,)] * 30, [{"prediction": 1.0}] * 30)
    assert log.dropped == 30
    log.close()
    assert len(rows_in(settings.prediction_log)) == 80


def test_retention_and_the_row_limit_delete_the_oldest(tmp_path):
    path = tmp_path / "log.sqlite"
    conn = store.connect(path)
    old = store.stamp(datetime.now(UTC) - timedelta(days=40))
    new = store.stamp(datetime.now(UTC))
    rows = [(f"r{i}", 0, old if i < 5 else new, "predict", "v", 1.0, None) for i in range(20)]
    store.insert(conn, store.FIXED, rows)
    assert store.prune(conn, retention_days=30, max_rows=10) == 10
    kept = [row[0] for row in conn.execute(f"SELECT request_id FROM {store.TABLE}")]
    assert kept == [f"r{i}" for i in range(10, 20)]


def test_a_new_model_adds_its_columns(tmp_path):
    settings = LogSettings(prediction_log=tmp_path / "log.sqlite", log_flush_seconds=60)
    PredictionLog(settings, ["a"], None).close()
    second = PredictionLog(settings, ["a", "b"], None)
    second.add("predict", "r1", "v2", [(1.0, 2.0)], [{"prediction": 0.5}])
    second.close()
    assert rows_in(settings.prediction_log)["input.b"].tolist() == [2.0]


def test_table_rows_are_plain_values():
    frame = pd.DataFrame(
        {"n": [1, 2], "when": pd.to_datetime(["2024-05-31", None]), "t": ["x", None]}
    )
    rows = table_rows(frame, ["n", "when", "t", "absent"])
    assert rows == [(1, "2024-05-31T00:00:00", "x", None), (2, None, None, None)]
    assert type(rows[0][0]) is int  # SQLite cannot store numpy scalars


@pytest.fixture(scope="module")
def logging_client(served_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("log") / "predictions.sqlite"
    settings = Settings(model_dir=served_dir, metrics_file=served_dir / "none", prediction_log=path)
    with TestClient(create_app(settings)) as client:
        yield client, path


def test_every_route_logs_its_rows_under_the_request_id(logging_client, splits, predictor):
    client, path = logging_client
    features = splits[1].drop(columns=[predictor.meta.target]).head(3)
    records = json.loads(features.to_json(orient="records"))
    one = client.post("/predict", json=records[0], headers={"X-Request-ID": "order-17"})
    batch = client.post("/predict/batch", json={"records": records})
    table = client.post(
        "/predict/csv", content=features.to_csv(index=False), headers={"content-type": "text/csv"}
    )
    assert one.json()["request_id"] == one.headers["x-request-id"] == "order-17"
    assert batch.json()["request_id"] == batch.headers["x-request-id"]
    assert table.status_code == 200 and table.headers["x-request-id"]
    client.app.state.prediction_log.flush()
    found = rows_in(path)
    routes = found.groupby("route")["row"].apply(list).to_dict()
    assert routes == {"predict": [0], "batch": [0, 1, 2], "csv": [0, 1, 2]}
    assert set(found["request_id"]) == {
        "order-17",
        batch.headers["x-request-id"],
        table.headers["x-request-id"],
    }
    assert (found["model_version"] == one.json()["model_version"]).all()


def test_activity_counts_today_s_predictions_per_class(logging_client, splits, predictor):
    client, _ = logging_client
    records = json.loads(
        splits[1].drop(columns=[predictor.meta.target]).head(4).to_json(orient="records")
    )
    client.app.state.prediction_log.flush()
    before = client.get("/activity").json()["predictions"]
    assert client.post("/predict/batch", json={"records": records}).status_code == 200
    client.app.state.prediction_log.flush()
    activity = client.get("/activity").json()
    assert activity["log"] is True and activity["predictions"] == before + 4
    if predictor.classes is None:
        assert sum(activity["histogram"]["counts"]) == before + 4
    else:
        assert sum(activity["classes"].values()) == before + 4
        assert set(activity["classes"]) == set(predictor.class_names)
    assert "request_id" not in str(activity) and "input." not in str(activity)


def test_a_refused_request_logs_nothing(logging_client):
    client, path = logging_client
    client.app.state.prediction_log.flush()
    before = len(rows_in(path))
    assert client.post("/predict", json={"no such column": 1}).status_code == 422
    client.app.state.prediction_log.flush()
    assert len(rows_in(path)) == before


def test_the_log_can_be_switched_off(served_dir, tmp_path):
    path = tmp_path / "predictions.sqlite"
    settings = Settings(
        model_dir=served_dir, metrics_file=served_dir / "none", prediction_log=path,
        log_predictions=False,
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        assert client.app.state.prediction_log is None
    assert not path.exists()


def test_the_batch_command_logs_each_row_under_one_request_id(served_dir, splits, tmp_path):
    rows = splits[1].head(30)
    source, log = tmp_path / "in.csv", tmp_path / "predictions.sqlite"
    rows.to_csv(source, index=False)
    env = os.environ | {"APP_PREDICTION_LOG": str(log)}
    command = [sys.executable, "-m", "{{ cookiecutter.package_name }}.predict", str(source),
               str(tmp_path / "out.csv"), "--model-dir", str(served_dir)]  # fmt: skip
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    found = rows_in(log)
    assert found["route"].unique().tolist() == ["command"]
    assert found["request_id"].nunique() == 1 and found["row"].tolist() == list(range(30))
    subprocess.run([*command, "--no-log"], env=env, check=True, capture_output=True, timeout=300)
    assert len(rows_in(log)) == 30
