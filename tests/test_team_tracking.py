"""A team's tracking server, switched on by the environment alone: a baked project's
`dvc repro` logs its runs, model and documents to `mlflow server` on PostgreSQL with S3
artifacts (moto) and registers the champion there; the champion read back through the
registry alias answers as the project's service does. A store that does not answer (no
server, a wrong database password, no bucket) stops the stage within seconds with one line
naming MLFLOW_TRACKING_URI, and leaves no version behind.

Real PostgreSQL, moto and MLflow server processes on loopback (scripts/services.py); the
MLflow server starts once for the module.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import baking
import boto3
import pytest
import services
import yaml
from mlflow import MlflowClient
from test_mlflow_model import api_answers, assert_same, held_out_records, registered_name

pytestmark = pytest.mark.xdist_group("team")

BUCKET = "team-mlflow"
QUICK = 90  # seconds: MLflow's own retries of a missing server or database take minutes


def client_env(project: Path, url: str) -> dict[str, str]:
    """A team member's environment: the server's URL and nothing else (no AWS keys: the
    server alone talks to the bucket)."""
    env = baking.project_env(project)
    for name in list(env):
        if name.startswith("AWS_") or name == "MLFLOW_S3_ENDPOINT_URL":
            del env[name]
    return env | {"MLFLOW_TRACKING_URI": url}


def s3_client(s3: services.S3):
    keys = s3.env()
    return boto3.client(
        "s3", endpoint_url=s3.endpoint, region_name=keys["AWS_DEFAULT_REGION"],
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
    )  # fmt: skip


@pytest.fixture(scope="module")
def team_server(postgres_server, s3_server) -> Iterator[str]:
    s3_server.create_bucket(BUCKET)
    backend = postgres_server.create_database("team_mlflow")
    with services.mlflow_server(backend, f"s3://{BUCKET}/artifacts", s3_server.env()) as url:
        yield url


@pytest.fixture(scope="module")
def team_project(team_server, tmp_path_factory) -> Path:
    """The Telco demo baked and trained (fast setting) against the team's server."""
    project = baking.bake(tmp_path_factory.mktemp("team"), {"dataset": "telco_churn"})
    baking.set_params(project, {"train.fast": True})
    baking.run(["dvc", "repro"], project, client_env(project, team_server), timeout=1800)
    return project


def register_stage(project: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    """The register stage's command from dvc.yaml, run as DVC runs it; its wall time. A
    failing run leaves reports/registry.json as it was."""
    stage = yaml.safe_load((project / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    outcome = (project / "reports" / "registry.json").read_bytes()
    started = time.monotonic()
    done = baking.run(stage["register"]["cmd"].split(), project, env, timeout=600, check=False)
    seconds = time.monotonic() - started
    assert (project / "reports" / "registry.json").read_bytes() == outcome
    return done, seconds


def versions(url: str, project: Path) -> list[str]:
    """The versions of the project's registered model on the server."""
    name = registered_name(project)
    found = MlflowClient(tracking_uri=url).search_model_versions(f"name = '{name}'")
    return sorted(version.version for version in found)


def assert_one_line(done: subprocess.CompletedProcess, seconds: float, *words: str) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0] == done.stderr.strip().splitlines()[-1], done.stderr
    assert errors[0].startswith("error: MLFLOW_TRACKING_URI="), errors
    for word in words:
        assert word in errors[0], errors
    assert seconds < QUICK, f"{seconds:.0f} s: {errors[0]}"
    return errors[0]


def test_dvc_repro_tracks_and_registers_on_the_team_server(team_project, team_server, s3_server,
                                                           tmp_path):  # fmt: skip
    project, name = team_project, registered_name(team_project)
    assert not (project / "mlflow.db").exists() and not (project / "mlruns").exists()
    registry = json.loads((project / "reports" / "registry.json").read_text(encoding="utf-8"))
    assert registry["registered"] and registry["runtime"] == "onnx", registry

    client = MlflowClient(tracking_uri=team_server)
    version = client.get_model_version_by_alias(name, "champion")
    assert version.source == registry["model_uri"]
    tests = json.loads((project / "reports" / "metrics.json").read_text(encoding="utf-8"))["test"]
    for metric, value in tests.items():
        assert float(version.tags[f"test_{metric}"]) == pytest.approx(value)
    logged = {metric.key: metric.value for metric in client.get_logged_model(
        registry["model_id"]).metrics}  # fmt: skip
    assert {f"test_{metric}" for metric in tests} <= set(logged)
    meta = json.loads((project / "models" / "model.json").read_text(encoding="utf-8"))
    documents = {Path(item.path).name for item in client.list_artifacts(
        meta["mlflow"]["run_id"], "evaluation")}  # fmt: skip
    assert {"report.html", "model_card.md"} <= documents
    stored = s3_client(s3_server).list_objects_v2(Bucket=BUCKET, Prefix="artifacts/")
    assert any(item["Key"].endswith("model.onnx") for item in stored.get("Contents", []))

    # The champion, read back through the alias outside the project, answers as its service.
    records = held_out_records(project)
    api = api_answers(project, records)
    (tmp_path / "records.json").write_text(json.dumps(records), encoding="utf-8")
    script = (
        "import json, sys, mlflow, pandas as pd\n"
        "model = mlflow.pyfunc.load_model(sys.argv[1])\n"
        "rows = pd.DataFrame.from_records(json.load(open(sys.argv[2])))\n"
        "print(json.dumps(model.predict(rows).to_dict('records')))\n"
    )
    env = client_env(project, team_server)
    env.pop("PYTHONPATH", None)  # the model brings its own code
    command = [sys.executable, "-c", script, f"models:/{name}@champion", "records.json"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert_same(json.loads(done.stdout.strip().splitlines()[-1]), api)


def test_an_unreachable_server_is_one_line_and_registers_nothing(team_project, team_server):
    before = versions(team_server, team_project)
    url = f"http://127.0.0.1:{baking.free_port()}"
    done, seconds = register_stage(team_project, client_env(team_project, url))
    assert_one_line(done, seconds, url, "no MLflow tracking server answers")
    assert versions(team_server, team_project) == before


def test_a_wrong_database_password_is_one_line_without_the_password(team_project, team_server):
    before = versions(team_server, team_project)
    with services.postgres(password="right-password") as database:
        database.create_database("mlflow")
        wrong = dataclasses.replace(database, password="wrong-password").url("mlflow")
        done, seconds = register_stage(team_project, client_env(team_project, wrong))
    line = assert_one_line(done, seconds, "password authentication failed", ":***@")
    assert "wrong-password" not in done.stderr + done.stdout, line
    assert versions(team_server, team_project) == before


def test_a_missing_bucket_is_one_line_and_registers_nothing(team_project, team_server, s3_server):
    before = versions(team_server, team_project)
    s3 = s3_client(s3_server)
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=BUCKET)
    try:
        done, seconds = register_stage(team_project, client_env(team_project, team_server))
    finally:
        s3_server.create_bucket(BUCKET)
    assert_one_line(done, seconds, team_server, "artifact store", "bucket")
    assert versions(team_server, team_project) == before


def test_the_compose_file_runs_the_server_the_tests_start(baked):
    """deploy/team/compose.yaml: PostgreSQL 15, moto's S3 server, and `mlflow server` with
    the flags services.mlflow_server passes (plus the names it is reached by)."""
    project = baked(dataset="telco_churn", include_docker="yes")
    stack = yaml.safe_load((project / "deploy" / "team" / "compose.yaml").read_text("utf-8"))
    assert stack["services"]["postgres"]["image"] == "postgres:15"
    assert "moto_server -H 0.0.0.0" in stack["services"]["s3"]["command"]
    command = stack["services"]["mlflow"]["command"]
    server = command[command.index("exec mlflow server") :]
    for flag in ("--backend-store-uri postgresql+psycopg2://", "--artifacts-destination s3://",
                 "--serve-artifacts", "--workers 1", "--allowed-hosts 'mlflow,"):  # fmt: skip
        assert flag in server, flag
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "docker compose -f deploy/team/compose.yaml up -d" in readme
