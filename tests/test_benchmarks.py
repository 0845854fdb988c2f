"""The generated project's benchmark scripts run end to end on the trained Telco project.

They are run with short settings: these tests check that `make bench-train` and
`make bench-serve` work on the project as generated and write their reports, not the numbers
they print (speed is judged from those numbers, on a quiet machine, not by timed tests).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import baking


def test_bench_train_scores_ours_and_flaml_on_the_test_split(trained_telco, tmp_path):
    # A copy: the script writes reports/train_benchmark.* into the project.
    project = Path(shutil.copytree(trained_telco, tmp_path / "telco", symlinks=True))
    env = baking.project_env(project)
    baking.run([sys.executable, "scripts/bench_train.py"], project, env, timeout=900)

    result = json.loads((project / "reports" / "train_benchmark.json").read_text("utf-8"))
    ours, flaml = result["rows"]
    assert ours["model"].startswith("ours (") and flaml["model"].startswith("FLAML (")
    assert flaml["budget"] == ours["seconds"] > 0
    for row in (ours, flaml):
        score = row["scores"][result["primary_metric"]]
        assert 0.5 < score < 1.0, row  # ROC AUC on Telco churn: better than chance, not perfect
    assert "| ours (" in (project / "reports" / "train_benchmark.md").read_text("utf-8")


def test_bench_serve_quick_measures_every_part(trained_telco, tmp_path):
    out = tmp_path / "serving_benchmark.md"
    command = [sys.executable, "scripts/bench_serve.py", "--quick", "--out", str(out)]
    done = baking.run(command, trained_telco, baking.project_env(trained_telco), timeout=900)

    text = out.read_text("utf-8")
    assert "batch command, 100,000 rows" in text, done.stdout
    # Each of the five goals has its verdict, and every measured figure is a number.
    goals = [line for line in text.splitlines() if line.endswith(("| True |", "| False |"))]
    assert len(goals) == 5, text
    assert not re.search(r"\bnan\b", text, re.IGNORECASE), text
