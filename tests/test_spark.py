"""The baked project's `score-spark` on Spark in local mode, as spark-submit runs it on a cluster.

One Spark application for the module (starting one costs about 30 s): `spark-submit
--master local[2] --py-files <package>.zip` runs a small driver script (RUNNER, below) that
scores every case through the project's `scoring.spark` in one session, then runs the
project's own spark-submit launcher (scripts/score_spark_main.py) on the test split. The
package comes from the zip alone, as on a cluster (no src/ on the path). The tests then read
what was written: predictions equal to the API's (the served model, /predict/batch) on the
test split, joined on a key column whatever order Spark wrote the rows in; a hive-partitioned
input written partitioned the same way; bad inputs refused with one line and nothing written.

Skipped, with the reason, where Java or PySpark (the baked project's `spark` extra) is missing.
"""

from __future__ import annotations

import json
import shutil
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import baking
import httpx
import numpy as np
import pandas as pd
import pytest

pytestmark = [
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java 17 or 21: no java"),
    pytest.mark.skipif(
        find_spec("pyspark") is None, reason="pyspark (the baked project's spark extra) is missing"
    ),
]

KEY = "row_key"
TARGET = "churn"
# The driver: spark-submit's main file. It scores each planned case in the one session, then
# hands over to the project's launcher, which takes the same session and stops it.
RUNNER = """
import importlib, json, runpy, sys, time
from pathlib import Path

package, model_dir, plan, launcher, *launcher_args = sys.argv[1:]
scoring = importlib.import_module(package + ".scoring.spark")
errors = importlib.import_module(package + ".errors")
results = {"package_file": scoring.__file__}
started = time.perf_counter()
session = scoring.session(None, None)
results["start_seconds"] = time.perf_counter() - started
for case in json.loads(Path(plan).read_text()):
    began = time.perf_counter()
    try:
        rows = scoring.score(session, case["input"], case["output"], Path(model_dir), None)
        results[case["name"]] = {"rows": rows}
    except errors.StageError as exc:
        results[case["name"]] = {"error": str(exc)}
    results[case["name"]]["seconds"] = time.perf_counter() - began
Path(plan).with_suffix(".results.json").write_text(json.dumps(results))
sys.argv = [launcher, *launcher_args]
runpy.run_path(launcher, run_name="__main__")
"""


def split_rows(project: Path) -> pd.DataFrame:
    frame = pd.read_parquet(project / "data" / "processed" / "test.parquet")
    return frame.drop(columns=[TARGET])


def write_inputs(project: Path, folder: Path) -> list[dict[str, str]]:
    """The cases' input datasets, and the plan the driver reads."""
    rows = split_rows(project).assign(**{KEY: lambda f: np.arange(len(f))})
    rows.to_parquet(folder / "test.parquet", index=False)
    parted = folder / "parted"
    for part in range(3):  # hive folders, as a data lake lays a table out
        (parted / f"part={part}").mkdir(parents=True)
        rows[rows[KEY] % 3 == part].to_parquet(parted / f"part={part}" / "rows.parquet")
    rows.drop(columns=["tenure"]).to_parquet(folder / "no-tenure.parquet", index=False)
    rows.assign(tenure=rows["tenure"].astype(str)).to_parquet(folder / "text-tenure.parquet")
    names = {"test": "test.parquet", "partitioned": "parted"}
    names |= {"missing": "no-tenure.parquet", "wrong_type": "text-tenure.parquet"}
    return [
        {"name": name, "input": str(folder / given), "output": str(folder / f"out-{name}")}
        for name, given in names.items()
    ]


@pytest.fixture(scope="module")
def spark_run(trained_telco: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The one Spark application's results, with its folder and output."""
    folder = tmp_path_factory.mktemp("spark")
    package = baking.package_name(trained_telco)
    zipped = shutil.make_archive(
        str(folder / package), "zip", root_dir=trained_telco / "src", base_dir=package
    )
    plan = folder / "plan.json"
    plan.write_text(json.dumps(write_inputs(trained_telco, folder)), encoding="utf-8")
    runner = folder / "runner.py"
    runner.write_text(RUNNER, encoding="utf-8")
    launcher = trained_telco / "scripts" / "score_spark_main.py"
    launched = ["--input", str(folder / "test.parquet"), "--output", str(folder / "out-cli")]
    command = [
        str(baking.BIN_DIR / "spark-submit"), "--master", "local[2]", "--driver-memory", "512m",
        "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
        "--conf", "spark.ui.enabled=false", "--py-files", zipped, str(runner),
        package, str(trained_telco / "models"), str(plan), str(launcher), *launched,
        "--model-dir", str(trained_telco / "models"),
    ]  # fmt: skip
    env = baking.project_env(trained_telco)
    env.pop("PYTHONPATH")  # the package comes from the zip, as on a cluster
    env |= {"PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    env |= {"SPARK_LOCAL_IP": "127.0.0.1"}
    done = baking.run(command, trained_telco, env, timeout=900)
    results = json.loads(plan.with_suffix(".results.json").read_text(encoding="utf-8"))
    return {"folder": folder, "results": results, "log": done.stdout + done.stderr}


def api_answers(project: Path) -> list[dict[str, Any]]:
    """The served model's answers (/predict/batch) to the test split's records, in order."""
    frame = split_rows(project)
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    env = baking.project_env(project)
    answers: list[dict[str, Any]] = []
    with baking.serve(project, baking.package_name(project), env) as url:
        for start in range(0, len(records), 500):
            body = {"records": records[start : start + 500]}
            response = httpx.post(f"{url}/predict/batch", json=body, timeout=120)
            assert response.status_code == 200, response.text
            answers += response.json()["predictions"]
    return answers


def scored(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder).sort_values(KEY).reset_index(drop=True)


def test_the_package_ran_from_the_zip_on_spark(spark_run):
    results = spark_run["results"]
    assert ".zip" in results["package_file"], results["package_file"]
    assert results["start_seconds"] > 0
    assert "rows scored on Spark" in spark_run["log"]


def test_predictions_equal_the_api_s_on_the_test_split(spark_run, trained_telco):
    results, folder = spark_run["results"], spark_run["folder"]
    expected = api_answers(trained_telco)
    assert results["test"]["rows"] == len(expected)
    for output in ("out-test", "out-cli"):  # the driver's call, and the launcher's
        got = scored(folder / output)
        assert got[KEY].tolist() == list(range(len(expected)))  # each row once, by its key
        assert got["prediction"].tolist() == [a["prediction"] for a in expected]
        for label in expected[0]["probabilities"]:
            want = np.array([a["probabilities"][label] for a in expected])
            assert np.abs(got[f"probability_{label}"].to_numpy() - want).max() <= 1e-6


def test_a_partitioned_input_is_written_partitioned(spark_run):
    results, folder = spark_run["results"], spark_run["folder"]
    out = folder / "out-partitioned"
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["part=0", "part=1", "part=2"]
    parted, whole = scored(out), scored(folder / "out-test")
    assert results["partitioned"]["rows"] == len(whole)
    assert parted["part"].astype(int).tolist() == (whole[KEY] % 3).tolist()
    columns = [c for c in whole.columns if c.startswith(("prediction", "probability_"))]
    pd.testing.assert_frame_equal(parted[columns], whole[columns])


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "no-tenure.parquet: columns missing from the input: tenure"),
        ("wrong_type", "text-tenure.parquet: column 'tenure' is string, the model reads a number"),
    ],
)
def test_a_bad_input_is_one_line_and_nothing_is_written(spark_run, case, message):
    results, folder = spark_run["results"], spark_run["folder"]
    error = results[case]["error"]
    assert error.startswith(str(folder)) and error.endswith(message) and "\n" not in error
    assert not any(p.name.startswith(f"out-{case}") for p in folder.iterdir())
