"""The console command lists every task and hands each to the right tool, with its arguments."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }} import cli

PACKAGE = "{{ cookiecutter.package_name }}"
MLFLOW_UI = ["-m", "mlflow", "ui", "--backend-store-uri", cli.TRACKING_URI]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", f"{PACKAGE}.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_help_lists_every_task():
    shown = run_cli("--help")
    assert shown.returncode == 0, shown.stderr
    for task in cli.TASKS:
        assert f"\n    {task} " in shown.stdout or f"\n    {task}\n" in shown.stdout, task


def test_a_stage_runs_its_module_which_names_the_missing_arguments():
    done = run_cli("ingest")  # the stage that imports least
    assert done.returncode == 2
    assert "the following arguments are required: --out, --schema" in done.stderr


def test_predict_takes_the_batch_command_s_own_arguments():
    assert cli.commands("predict", ["in.csv", "out.parquet", "--model-dir", "m"]) == [
        [sys.executable, "-m", f"{PACKAGE}.predict", "in.csv", "out.parquet", "--model-dir", "m"]
    ]


@pytest.mark.parametrize(
    ("task", "args", "tail"),
    [
        ("repro", ["--dry"], ["-m", "dvc", "repro", "--dry"]),
        ("test", ["-k", "api"], ["-m", "pytest", "-k", "api"]),
        ("mlflow-ui", ["--port", "5001"], [*MLFLOW_UI, "--port", "5001"]),
        ("bench-serve", ["--quick"], ["scripts/bench_serve.py", "--quick"]),
    ],
)
def test_other_tools_get_the_arguments_that_follow_the_task(task, args, tail, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    last = cli.commands(task, args)[-1]
    assert last[0] == sys.executable
    assert [part.replace("\\", "/") for part in last[-len(tail) :]] == tail


def test_push_and_pull_check_the_remote_then_hand_dvc_their_arguments():
    assert cli.commands("push", ["-j", "4"]) == [
        [sys.executable, "-m", f"{PACKAGE}.remote", "push", "-j", "4"]
    ]
    assert cli.commands("pull", []) == [[sys.executable, "-m", f"{PACKAGE}.remote", "pull"]]


def test_tune_makes_the_split_then_starts_the_workers():
    split, tune = cli.commands("tune", ["--workers", "4"])
    assert split[-3:] == ["dvc", "repro", "split"]
    assert tune == [sys.executable, "-m", f"{PACKAGE}.tune", "--workers", "4"]


def test_score_spark_runs_its_module_with_its_arguments():
    args = ["--input", "rows", "--output", "scored", "--master", "local[2]"]
    assert cli.commands("score-spark", args) == [
        [sys.executable, "-m", f"{PACKAGE}.score_spark", *args]
    ]


def test_mlflow_ui_browses_the_store_mlflow_tracking_uri_names(monkeypatch):
    database = "postgresql+psycopg2://mlflow@db.example:5432/mlflow"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", database)
    assert cli.commands("mlflow-ui", [])[-1][-2:] == ["--backend-store-uri", database]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
    with pytest.raises(SystemExit, match=r"open http://mlflow\.example:5000 in a browser"):
        cli.commands("mlflow-ui", [])


def test_monitor_runs_its_module_with_its_arguments():
    assert cli.commands("monitor", ["--current", "new.csv"]) == [
        [sys.executable, "-m", f"{PACKAGE}.monitor", "--current", "new.csv"]
    ]


def test_lint_runs_ruff_and_deptry():
    tools = [command[2:4] for command in cli.commands("lint", [])]
    assert tools == [["ruff", "check"], ["ruff", "format"], ["deptry", "."]]


def test_serve_runs_the_launcher_with_uvicorn_s_options():
    assert cli.commands("serve", ["--workers", "2"]) == [
        [sys.executable, "-m", f"{PACKAGE}.api.server", "--workers", "2"]
    ]


def test_lint_refuses_an_option_it_does_not_know():
    done = run_cli("lint", "--fix")
    assert done.returncode == 2
    assert "lint: unrecognized arguments: --fix" in done.stderr


def test_nothing_in_the_package_imports_the_cli():
    """The command sits on top: it dispatches to the stages, never the other way round."""
    for module in Path(cli.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or node.module == PACKAGE):
                names = [node.module or "", *(alias.name for alias in node.names)]
                assert "cli" not in [name.split(".")[-1] for name in names], module
            elif isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [alias.name for alias in node.names]
                assert not any(name.startswith(f"{PACKAGE}.cli") for name in names), module
