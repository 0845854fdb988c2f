"""Issue 12 on the session's trained Telco project: the prediction log of a real uvicorn server
(a graceful stop writes every row, kill -9 loses at most one flush interval), the `monitor`
command on the test split, a shifted copy and flipped outcomes (verdicts and exit codes),
its bad inputs (one line each, no report), and the retraining loop of the README.

The project is read, not changed: the logs, reports and MLflow runs go to temporary folders;
the retraining loop runs on a copy.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import baking
import httpx
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

SINGLE, BATCH, CSV = 300, 100, 50  # rows sent one by one, in one batch, in one CSV upload
EXIT = {"ok": 0, "drift": 3, "degraded": 4}


def records_of(project: Path, rows: int | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """The test split (with its target) and its rows as request bodies."""
    test = pd.read_parquet(project / "data" / "processed" / "test.parquet")
    test = test.head(rows) if rows else test
    features = test.drop(columns=[baking.params_target(project)])
    return test, json.loads(features.to_json(orient="records", date_format="iso"))


def log_rows(path: Path) -> pd.DataFrame:
    with sqlite3.connect(path) as conn:
        return pd.read_sql_query("SELECT * FROM predictions ORDER BY rowid", conn)


@pytest.fixture(scope="module")
def logged(trained_telco: Path, tmp_path_factory) -> dict[str, Any]:
    """A served project's log after SINGLE + BATCH + CSV test rows and a graceful stop. The
    flush interval is longer than the run: the rows reach the file at the stop, or never."""
    folder = tmp_path_factory.mktemp("logged")
    path = folder / "predictions.sqlite"
    env = baking.project_env(trained_telco)
    env |= {"APP_PREDICTION_LOG": str(path), "APP_LOG_FLUSH_SECONDS": "600"}
    test, records = records_of(trained_telco, SINGLE + BATCH + CSV)
    sent = []  # (request_id, row, index into test)
    package = baking.package_name(trained_telco)
    with baking.serve(trained_telco, package, env) as url, httpx.Client(base_url=url) as client:
        for i, record in enumerate(records[:SINGLE]):
            answer = client.post("/predict", json=record, timeout=30)
            assert answer.status_code == 200, answer.text
            sent.append((answer.json()["request_id"], 0, i))
        batch = client.post("/predict/batch", json={"records": records[SINGLE:-CSV]}, timeout=60)
        sent += [(batch.json()["request_id"], j, SINGLE + j) for j in range(BATCH)]
        table = test.drop(columns=[baking.params_target(trained_telco)]).tail(CSV)
        csv = client.post("/predict/csv", content=table.to_csv(index=False),
                          headers={"content-type": "text/csv"}, timeout=60)  # fmt: skip
        assert csv.status_code == 200, csv.text
        sent += [(csv.headers["x-request-id"], j, SINGLE + BATCH + j) for j in range(CSV)]
        assert not path.exists() or log_rows(path).empty  # nothing flushed before the stop
    keys = pd.DataFrame(sent, columns=["request_id", "row", "index"])
    return {"path": path, "keys": keys, "test": test, "folder": folder}


def test_a_graceful_stop_writes_every_row_with_its_request_id(logged):
    found = log_rows(logged["path"])
    assert len(found) == SINGLE + BATCH + CSV
    pairs = set(zip(found["request_id"], found["row"], strict=True))
    assert pairs == set(zip(logged["keys"]["request_id"], logged["keys"]["row"], strict=True))
    routes = found["route"].value_counts().to_dict()
    assert routes == {"predict": SINGLE, "batch": BATCH, "csv": CSV}
    sent = logged["test"].reset_index(drop=True)
    singles = found[found["route"] == "predict"]
    assert singles["input.tenure"].tolist() == sent["tenure"].head(SINGLE).astype(float).tolist()
    assert set(found["prediction"]) <= {"Yes", "No"}


def test_kill_9_during_a_load_loses_at_most_one_flush_interval(trained_telco, tmp_path):
    flush = 1.0
    path = tmp_path / "predictions.sqlite"
    env = baking.project_env(trained_telco)
    env |= {"APP_PREDICTION_LOG": str(path), "APP_LOG_FLUSH_SECONDS": str(flush)}
    _, records = records_of(trained_telco, 200)
    answered: list[tuple[str, float]] = []
    stop = threading.Event()

    def load(url: str) -> None:
        with httpx.Client(base_url=url, timeout=5) as client:
            i = 0
            while not stop.is_set():
                try:
                    answer = client.post("/predict", json=records[i % len(records)])
                except httpx.TransportError:
                    return  # the server is gone
                answered.append((answer.json()["request_id"], time.monotonic()))
                i += 1

    package = baking.package_name(trained_telco)
    with baking.serving(trained_telco, package, env) as (url, server):
        worker = threading.Thread(target=load, args=(url,))
        worker.start()
        time.sleep(4 * flush)
        server.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        server.wait(timeout=10)
        stop.set()
        worker.join(timeout=10)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    logged = set(log_rows(path)["request_id"])
    sent = {rid for rid, _ in answered}
    assert len(sent) > 100 and logged <= sent
    # Every answer older than one flush interval (and the flush's own half second) is kept.
    old = {rid for rid, at in answered if at < killed - flush - 0.5}
    assert old and old <= logged, f"lost {len(old - logged)} of {len(old)}"
    assert len(sent - logged) < len(sent)  # not all lost either way


def monitor(project: Path, out: Path, *args: str, mlflow: Path | None = None):
    """`python -m <package>.monitor` in the project, its report into out."""
    env = baking.project_env(project)
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{mlflow}" if mlflow else "sqlite:///unused.db"
    command = [sys.executable, "-m", f"{baking.package_name(project)}.monitor", "--out", str(out)]
    command += [*args] if mlflow else [*args, "--no-mlflow"]
    return subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def verdict_of(done: subprocess.CompletedProcess, out: Path) -> dict[str, Any]:
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert done.returncode == EXIT[summary["verdict"]], done.stderr[-3000:]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") >= 3 and "http" not in html.split("<body>")[1]
    return summary


def test_monitor_finds_no_drift_on_the_test_split(trained_telco, tmp_path):
    done = monitor(trained_telco, tmp_path / "out", "--current", "data/processed/test.parquet")
    summary = verdict_of(done, tmp_path / "out")
    assert summary["verdict"] == "ok", summary["features"][:3]
    assert summary["rows"] == len(pd.read_parquet(trained_telco / "data/processed/test.parquet"))
    assert not any(feature["crossed"] for feature in summary["features"])
    metrics = json.loads((trained_telco / "reports" / "metrics.json").read_text("utf-8"))
    now = summary["performance"]["metrics"]
    # The served ONNX graph against the evaluation's scikit-learn run: equal within parity.
    assert now["roc_auc"] == pytest.approx(metrics["test"]["roc_auc"], abs=1e-3)


def test_monitor_ranks_shifted_features_first_and_exits_3(trained_telco, tmp_path):
    test = pd.read_parquet(trained_telco / "data" / "processed" / "test.parquet")
    shifted = test.drop(columns=[baking.params_target(trained_telco)])
    shifted["tenure"] = shifted["tenure"] + 36
    shifted["monthly_charges"] = shifted["monthly_charges"] * 1.8
    shifted["contract"] = shifted["contract"].replace({"Month-to-month": "Monthly"})
    batch = tmp_path / "shifted.csv"
    shifted.to_csv(batch, index=False)
    done = monitor(trained_telco, tmp_path / "out", "--current", str(batch))
    summary = verdict_of(done, tmp_path / "out")
    assert summary["verdict"] == "drift" and done.returncode == 3
    first = [feature["name"] for feature in summary["features"][:3]]
    assert set(first) == {"tenure", "monthly_charges", "contract"}, summary["features"][:5]
    assert all(feature["crossed"] for feature in summary["features"][:3])
    contract = next(f for f in summary["features"] if f["name"] == "contract")
    assert contract["unseen"] == ["Monthly"] and contract["unseen_share"] > 0.4


def outcomes(logged: dict[str, Any], target: str, flip: float, folder: Path) -> Path:
    keys = logged["keys"]
    truth = logged["test"][target].to_numpy()[keys["index"]]
    rng = np.random.default_rng(12)
    flipped = rng.random(len(truth)) < flip
    truth = np.where(flipped, np.where(truth == "Yes", "No", "Yes"), truth)
    path = folder / f"outcomes-{flip}.csv"
    keys[["request_id", "row"]].assign(**{target: truth}).to_csv(path, index=False)
    return path


def test_monitor_joins_true_outcomes_to_the_log(trained_telco, logged, tmp_path):
    target = baking.params_target(trained_telco)
    given = outcomes(logged, target, 0.0, tmp_path)
    done = monitor(trained_telco, tmp_path / "out", "--log", str(logged["path"]),
                   "--outcomes", str(given))  # fmt: skip
    summary = verdict_of(done, tmp_path / "out")
    assert summary["verdict"] == "ok", (summary["performance"], summary["features"][:3])
    assert summary["rows"] == SINGLE + BATCH + CSV
    assert summary["performance"]["rows"] == SINGLE + BATCH + CSV


def test_monitor_says_degraded_on_flipped_outcomes_and_logs_to_mlflow(
    trained_telco, logged, tmp_path
):
    target = baking.params_target(trained_telco)
    flipped = outcomes(logged, target, 0.3, tmp_path)
    store = tmp_path / "mlflow.db"
    done = monitor(trained_telco, tmp_path / "out", "--log", str(logged["path"]),
                   "--outcomes", str(flipped), mlflow=store)  # fmt: skip
    summary = verdict_of(done, tmp_path / "out")
    assert summary["verdict"] == "degraded" and done.returncode == 4
    assert summary["performance"]["degraded"] is True
    client = MlflowClient(tracking_uri=f"sqlite:///{store}")
    (experiment,) = [e for e in client.search_experiments() if e.name != "Default"]
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.tags["verdict"] == "degraded"
    assert run.data.metrics["rows"] == SINGLE + BATCH + CSV
    logged_files = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "monitoring")}
    assert logged_files == {"summary.json", "report.html"}


def bad_inputs(project: Path, logged: dict[str, Any], folder: Path) -> list[tuple[list[str], str]]:
    """(monitor arguments, what the one error line must say) for each kind of bad input."""
    test = pd.read_parquet(project / "data" / "processed" / "test.parquet")
    missing = folder / "missing columns.csv"
    test.drop(columns=["tenure", "contract"]).to_csv(missing, index=False)
    latin = folder / "latin-1.csv"
    latin.write_bytes(test.head(200).to_csv(index=False).replace("No", "Nö").encode("latin-1"))
    strangers = folder / "unknown ids.csv"
    pd.DataFrame({"request_id": ["nobody", "nothing"], "churn": ["Yes", "No"]}).to_csv(strangers)
    log = str(logged["path"])
    return [
        (["--log", str(folder / "no log.sqlite")], "no prediction log here"),
        (["--log", log, "--since", "2001-01-01", "--until", "2001-01-02"], "holds no predictions"),
        (["--log", log, "--outcomes", str(strangers)], "none of its 2 request ids"),
        (["--current", str(missing)], "2 of the model's columns are missing: tenure, contract"),
        (["--current", str(latin)], "not UTF-8"),
    ]


def test_bad_inputs_get_one_clear_line_and_no_report(trained_telco, logged, tmp_path):
    for args, expected in bad_inputs(trained_telco, logged, tmp_path):
        out = tmp_path / "out"
        done = monitor(trained_telco, out, *args)
        errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
        assert done.returncode == 1, (args, done.stderr[-2000:])
        assert len(errors) == 1 and expected in errors[0], (args, done.stderr[-2000:])
        assert "Traceback" not in done.stderr
        assert not out.exists(), args


def readme_blocks(project: Path, section: str) -> list[str]:
    """The bash blocks of a section of the project's README, in order."""
    text = (project / "README.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [block.split("```", 1)[0] for block in body.split("```bash\n")[1:]]


def run_shell(project: Path, script: str, env: dict[str, str]) -> None:
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=project, env=env,
                          capture_output=True, text=True, timeout=1200, check=False)  # fmt: skip
    assert done.returncode == 0, (script, done.stdout[-2000:], done.stderr[-4000:])


def test_the_retraining_loop_of_the_readme(trained_telco, logged, tmp_path):
    """Outcomes in, labelled rows appended to the source, `dvc repro`, a restart serves the
    new model: the commands of the README's "Keeping the model healthy", run as written, on
    a copy of the project whose log holds the rows the `logged` server answered."""
    project = Path(shutil.copytree(trained_telco, tmp_path / "project", symlinks=True))
    shutil.rmtree(project / "logs", ignore_errors=True)
    (project / "logs").mkdir()
    shutil.copy(logged["path"], project / "logs" / "predictions.sqlite")
    target, package = baking.params_target(project), baking.package_name(project)
    outcomes(logged, target, 0.0, tmp_path).rename(project / "outcomes.csv")
    env = baking.project_env(project)
    before = json.loads((project / "models" / "model.json").read_text("utf-8"))["sha256"]
    manifest = project / "models" / "serving" / "manifest.json"
    old_version = json.loads(manifest.read_text("utf-8"))["sha256"][:12]
    collect, retrain = readme_blocks(project, "Keeping the model healthy")

    run_shell(project, collect, env)
    source = pd.read_csv(project / "data" / "source" / "table.csv")
    raw = pd.read_parquet(project / "data" / "raw" / "data.parquet")
    assert list(source.columns) == list(raw.columns)
    assert len(source) == len(raw) + SINGLE + BATCH + CSV
    baking.set_params(project, {"data.source": "data/source/table.csv"})
    run_shell(project, retrain, env)

    after = json.loads((project / "models" / "model.json").read_text("utf-8"))
    assert after["sha256"] != before
    registry = json.loads((project / "reports" / "registry.json").read_text("utf-8"))
    assert isinstance(registry["registered"], bool) and registry["reason"]
    served = json.loads(manifest.read_text("utf-8"))
    record = records_of(project, 1)[1][0]
    env["APP_PREDICTION_LOG"] = str(tmp_path / "after.sqlite")
    with baking.serve(project, package, env) as url:
        ready = httpx.get(f"{url}/ready", timeout=10).json()
        answer = baking.predict(url, record).json()
    assert ready["model_version"] == answer["model_version"] == served["sha256"][:12]
    assert ready["model_version"] != old_version
