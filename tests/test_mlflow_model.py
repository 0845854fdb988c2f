"""The registered champion is the model the project serves: `mlflow models serve` of
`models:/<name>@champion` and `mlflow.pyfunc.load_model(...).predict` on the rows of a CSV
file answer the held-out test split as the project's own service does (labels equal,
probabilities within 1e-6).

Reads the session's trained projects (their SQLite MLflow store and registry), changes
nothing in them; the MLflow commands run without the project's `src/` on the path, so the
logged model must carry everything it loads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import baking
import httpx
import pandas as pd
import pytest
import yaml

SERVE_TIMEOUT = 300  # mlflow models serve starts uvicorn through a shell; slow when loaded


def registered_name(project: Path) -> str:
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    return params["mlflow"]["registered_model"]


def mlflow_env(project: Path) -> dict[str, str]:
    """The template's tools first on PATH (`mlflow models serve` runs `uvicorn` by name), the
    project's store, and not the project's source: the model brings its own code."""
    env = baking.project_env(project)
    env.pop("PYTHONPATH", None)
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{project / 'mlflow.db'}"
    return env


def held_out_records(project: Path) -> list[dict[str, Any]]:
    """The held-out test split as API records: raw column names, null for missing."""
    frame = pd.read_parquet(project / "data" / "processed" / "test.parquet")
    frame = frame.drop(columns=[baking.params_target(project)])
    return json.loads(frame.to_json(orient="records", date_format="iso"))


def api_answers(project: Path, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    env = baking.project_env(project)
    with baking.serve(project, baking.package_name(project), env) as url:
        answer = httpx.post(f"{url}/predict/batch", json={"records": records}, timeout=120)
    assert answer.status_code == 200, answer.text[:2000]
    return answer.json()["predictions"]


@contextmanager
def mlflow_serving(project: Path, tmp_path: Path) -> Iterator[str]:
    port = baking.free_port()
    model = f"models:/{registered_name(project)}@champion"
    command = [str(baking.BIN_DIR / "mlflow"), "models", "serve", "-m", model]
    command += ["--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"]
    with open(tmp_path / "serve.log", "w+", encoding="utf-8") as log:
        server = subprocess.Popen(command, cwd=tmp_path, env=mlflow_env(project), stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + SERVE_TIMEOUT
            while time.monotonic() < deadline:
                assert server.poll() is None, Path(log.name).read_text(encoding="utf-8")[-3000:]
                try:
                    if httpx.get(f"{url}/ping", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.5)
            else:
                pytest.fail(f"mlflow models serve did not answer /ping in {SERVE_TIMEOUT} s")
            yield url
        finally:
            os.killpg(server.pid, 15)  # bash, then uvicorn and its worker
            server.wait(timeout=30)


def assert_same(answers: list[dict[str, Any]], api: list[dict[str, Any]]) -> None:
    """MLflow's rows (prediction, probability_<label>) against the API's answers."""
    assert len(answers) == len(api)
    worst = 0.0
    for got, want in zip(answers, api, strict=True):
        if isinstance(want["prediction"], float):
            assert got["prediction"] == pytest.approx(want["prediction"], rel=1e-6)
            continue
        assert got["prediction"] == want["prediction"]
        for label, p in want["probabilities"].items():
            worst = max(worst, abs(got[f"probability_{label}"] - p))
    assert worst <= 1e-6


@pytest.mark.parametrize("name", ["trained_telco", "trained_ames"])
def test_mlflow_serves_the_registered_champion_as_the_api_answers(name, request, tmp_path):
    project: Path = request.getfixturevalue(name)
    registry = json.loads((project / "reports" / "registry.json").read_text(encoding="utf-8"))
    assert registry["registered"] and registry["runtime"] == "onnx", registry
    records = held_out_records(project)
    api = api_answers(project, records)

    with mlflow_serving(project, tmp_path) as url:
        body = {"dataframe_records": records}
        answer = httpx.post(f"{url}/invocations", json=body, timeout=120)
    assert answer.status_code == 200, answer.text[:2000]
    assert_same(answer.json()["predictions"], api)

    # The same rows from a CSV file as an export writes whole numbers (pandas reads them back
    # as int64, which MLflow's typed columns refuse where double is declared).
    table = pd.DataFrame.from_records(records)
    for column in table.select_dtypes("number").columns:
        if table[column].notna().all() and (table[column] % 1 == 0).all():
            table[column] = table[column].astype("int64")
    table.to_csv(tmp_path / "test.csv", index=False)
    script = (
        "import json, sys, mlflow, pandas as pd\n"
        "model = mlflow.pyfunc.load_model(sys.argv[1])\n"
        "answers = model.predict(pd.read_csv(sys.argv[2]))\n"
        "print(json.dumps(answers.to_dict('records')))\n"
    )
    model = f"models:/{registered_name(project)}@champion"
    done = subprocess.run([sys.executable, "-c", script, model, str(tmp_path / "test.csv")],
                          cwd=tmp_path, env=mlflow_env(project), capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert_same(json.loads(done.stdout.strip().splitlines()[-1]), api)
