"""The evaluation report of a trained demo project, checked the way a reader meets it.

The HTML page renders in headless Chromium (Debian's `chromium`, driven by playwright) with
every image loaded, no console error and no network request; the Markdown write-up prints
the numbers of reports/metrics.json; `dvc plots show`, `dvc exp run -S` and `dvc exp show`
work on the trained project.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import baking
import pytest

# | Metric name | `key` | test | low to high | baseline | CV |
METRIC_ROW = re.compile(
    r"^\| [^|]+ \| `(?P<key>[^`]+)` \| (?P<test>[^|]*) \| (?P<interval>[^|]*) \| "
    r"(?P<baseline>[^|]*) \|",
    flags=re.MULTILINE,
)


def printed_equal(text: str, value: float) -> bool:
    """True when `text` is `value` rounded to the digits it shows (1,234.5 or 0.8123)."""
    digits = text.strip().replace(",", "")
    decimals = len(digits.partition(".")[2])
    return abs(float(digits) - value) <= 0.5 * 10**-decimals + 1e-12


@pytest.mark.parametrize("fixture", ["trained_telco", "trained_ames"])
def test_markdown_write_up_prints_the_numbers_of_metrics_json(fixture, request):
    project = request.getfixturevalue(fixture)
    reports = project / "reports"
    metrics = json.loads((reports / "metrics.json").read_text(encoding="utf-8"))
    readme = (reports / "README.md").read_text(encoding="utf-8")
    rows = {match["key"]: match for match in METRIC_ROW.finditer(readme)}

    assert set(rows) == set(metrics["test"])
    for key, value in metrics["test"].items():
        assert printed_equal(rows[key]["test"], value), (key, rows[key]["test"], value)
        if key in metrics["baseline"]:
            assert printed_equal(rows[key]["baseline"], metrics["baseline"][key]), key
        if key in metrics["intervals"]:
            low, high = rows[key]["interval"].split(" to ")
            assert printed_equal(low, metrics["intervals"][key]["low"]), key
            assert printed_equal(high, metrics["intervals"][key]["high"]), key
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme):
        assert (reports / image).is_file(), image
    assert metrics["champion"] in readme.split("\n\n")[1]  # the headline sentence names it


def test_model_card_is_filled_from_the_run(trained_telco):
    card = (trained_telco / "reports" / "model_card.md").read_text(encoding="utf-8")
    meta = json.loads((trained_telco / "models" / "model.json").read_text(encoding="utf-8"))
    for heading in ("Model details", "Intended use", "Training data", "Evaluation data"):
        assert f"## {heading}" in card
    assert "## Caveats and limitations" in card and "## Metrics" in card
    assert meta["mlflow"]["run_id"] in card and meta["champion"] in card
    assert "{{" not in card and "TODO" not in card


def test_html_report_renders_in_chromium_with_every_image(trained_telco, tmp_path):
    report = trained_telco / "reports" / "report.html"
    figures = sorted((trained_telco / "reports" / "figures").glob("*.png"))
    problems: list[str] = []
    outside: list[str] = []
    with baking.chromium(viewport={"width": 1100, "height": 900}) as browser:
        page = browser.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "request",
            lambda r: None if r.url.startswith(("data:", "file:")) else outside.append(r.url),
        )
        page.goto(report.as_uri(), wait_until="load")
        images = page.evaluate(
            "Array.from(document.images, i => [i.alt, i.complete, i.naturalWidth])"
        )
        page.screenshot(path=tmp_path / "report.png", full_page=True)

    assert problems == []
    assert outside == []  # self-contained: nothing is fetched
    assert len(images) == len(figures) > 5
    broken = [alt for alt, complete, width in images if not complete or width == 0]
    assert broken == []


def repoint_mlflow(store: Path, old: Path, new: Path) -> None:
    """MLflow's SQLite store keeps absolute artifact paths; move them into the copy."""
    with sqlite3.connect(store) as db:
        tables = [row[0] for row in db.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            for column in db.execute(f'pragma table_info("{table}")').fetchall():
                if column[2].upper().startswith(("VARCHAR", "TEXT")):
                    db.execute(
                        f'update "{table}" set "{column[1]}" = replace("{column[1]}", ?, ?)',
                        (str(old), str(new)),
                    )


@pytest.fixture(scope="module")
def telco_copy(trained_telco, tmp_path_factory) -> Path:
    """A copy of the trained Telco project, safe to run DVC experiments in."""
    copy = tmp_path_factory.mktemp("telco-experiments") / trained_telco.name
    shutil.copytree(trained_telco, copy, symlinks=True)
    repoint_mlflow(copy / "mlflow.db", trained_telco, copy)
    env = baking.project_env(copy)
    head = subprocess.run(["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=copy, check=False)
    if head.returncode != 0:  # `dvc exp run` starts from a commit
        baking.run(["git", "add", "-A"], copy, env)
        identity = ["-c", "user.name=Template Tests", "-c", "user.email=tests@example.com"]
        baking.run(["git", *identity, "commit", "-qm", "Trained"], copy, env)
    return copy


def test_dvc_plots_show_renders_every_declared_plot(telco_copy, tmp_path):
    env = baking.project_env(telco_copy)
    out = baking.run(["dvc", "plots", "show", "--json", "-o", str(tmp_path)], telco_copy, env)
    shown = json.loads(out.stdout)
    assert "errors" not in shown, shown.get("errors")
    plots = shown["data"]
    assert {"ROC curve", "Confusion matrix", "Learning curve", "Permutation importance"} <= set(
        plots
    )
    assert any(name.endswith("reports/figures/roc.png") for name in plots)


def test_dvc_exp_run_with_a_changed_param_appears_in_exp_show(telco_copy):
    env = baking.project_env(telco_copy)
    baking.run(["dvc", "exp", "run", "-S", "evaluate.top_n=8"], telco_copy, env)
    table = baking.run(["dvc", "exp", "show", "--csv"], telco_copy, env).stdout
    rows = list(csv.DictReader(io.StringIO(table)))
    experiments = [row for row in rows if row.get("evaluate.top_n") == "8"]
    assert experiments, table[:2000]
    metrics = json.loads((telco_copy / "reports" / "metrics.json").read_text(encoding="utf-8"))
    shown = float(experiments[0]["test.roc_auc"])
    assert shown == pytest.approx(metrics["test"]["roc_auc"], abs=1e-6)
