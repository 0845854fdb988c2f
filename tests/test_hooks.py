"""The hooks refuse every bad option with one line naming it, and leave nothing behind."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import baking
import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

# One worker runs this module: its tests share a module or session fixture (conftest.py).
pytestmark = pytest.mark.xdist_group("hooks")


def refused(tmp_path: Path, capfd: pytest.CaptureFixture[str], **context) -> str:
    """Bake with context, expect the pre-gen hook to refuse it; return its one error line."""
    out = tmp_path / "out"
    with pytest.raises(FailedHookException):
        baking.bake(out, context)
    assert not list(out.rglob("*"))  # cookiecutter removed the folder it had made
    errors = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert len(errors) == 1, errors
    assert errors[0].startswith("ERROR: ")
    return errors[0]


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"project_slug": "My Project"}, "project_slug 'My Project'"),
        ({"project_slug": "../escape"}, "project_slug '../escape'"),
        ({"project_slug": "churn-"}, "project_slug 'churn-'"),
        ({"package_name": "my-pkg"}, "package_name 'my-pkg' is not a valid Python identifier"),
        ({"package_name": "class"}, "package_name 'class' is a Python keyword"),
        ({"package_name": "Churn"}, "package_name 'Churn' must be lowercase"),
        ({"package_name": "kündigung"}, "package_name 'kündigung' must be lowercase ASCII"),
        ({"package_name": "pandas"}, "package_name 'pandas' would shadow"),
        ({"package_name": "json"}, "package_name 'json' would shadow"),
        ({"package_name": "test"}, "package_name 'test' would shadow"),
        ({"package_name": "mlflow"}, "package_name 'mlflow' would shadow"),
        ({"author_email": "you at example.com"}, "author_email 'you at example.com'"),
        ({"author_email": ""}, "author_email ''"),
        ({"random_seed": "-1"}, "random_seed '-1'"),
        ({"random_seed": "4.2"}, "random_seed '4.2'"),
        ({"random_seed": "forty-two"}, "random_seed 'forty-two'"),
        ({"random_seed": "007"}, "random_seed '007'"),
        ({"random_seed": str(2**32)}, f"random_seed '{2**32}'"),
        ({"project_name": "Churn\nPrediction", "project_slug": "churn"}, "project_name 'Churn"),
        (
            {"dataset": "telco_churn", "problem_type": "regression"},
            "problem_type 'regression' contradicts dataset 'telco_churn'",
        ),
        (
            {"dataset": "ames_housing", "problem_type": "binary"},
            "problem_type 'binary' contradicts dataset 'ames_housing'",
        ),
        ({"dataset": "custom", "target": "y"}, "data_source '' is empty"),
        ({"dataset": "custom", "data_source": "https://example.org/t.csv"}, "target '' is empty"),
        (
            {"dataset": "custom", "data_source": "ftp://example.org/t.csv", "target": "y"},
            "data_source 'ftp://example.org/t.csv' must be an http(s) URL",
        ),
        (
            {"dataset": "custom", "data_source": "/nowhere/churn.csv", "target": "y"},
            "data_source '/nowhere/churn.csv' is not an existing file",
        ),
        (
            {"dataset": "custom", "data_source": "/nowhere/churn.xlsx", "target": "y"},
            "data_source '/nowhere/churn.xlsx' must end in one of .csv, .csv.gz, .parquet, .pq",
        ),
    ],
)
def test_bad_option_is_refused_with_one_line(tmp_path, capfd, context, expected):
    assert expected in refused(tmp_path, capfd, **context)


def test_target_missing_from_csv_header_lists_the_columns(tmp_path, capfd, churn_csv):
    error = refused(tmp_path, capfd, dataset="custom", data_source=str(churn_csv), target="Churn")
    assert "target 'Churn' is not a column of" in error
    assert "'Monthly Charges ($)'" in error
    assert "'Kündigt?'" in error
    assert "\ufeff" not in error  # the byte-order mark is not part of the first name


@pytest.mark.parametrize("fixture", ["churn_csv_gz", "churn_parquet"])
def test_target_is_checked_in_gzipped_csv_and_parquet(tmp_path, capfd, fixture, request):
    source = request.getfixturevalue(fixture)
    error = refused(tmp_path, capfd, dataset="custom", data_source=str(source), target="y")
    assert "'Monthly Charges ($)'" in error


def test_unknown_choice_is_refused_before_anything_is_made(tmp_path):
    with pytest.raises(ValueError, match=r"GPL-3\.0"):
        baking.bake(tmp_path / "out", {"license": "GPL-3.0"})
    assert not (tmp_path / "out").exists()


def test_unknown_choice_in_a_replay_file_is_refused_by_the_hook(tmp_path, capfd):
    # cookiecutter checks choices given as extra context, but not those in a replay file.
    context = json.loads((baking.TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))
    values = {
        key: value[0] if isinstance(value, list) and not key.startswith("_") else value
        for key, value in context.items()
    }
    values |= {
        "project_slug": "churn",
        "package_name": "churn",
        "license": "GPL-3.0",
        "_template": str(baking.TEMPLATE_DIR),
    }
    replay = tmp_path / "replay.json"
    replay.write_text(json.dumps({"cookiecutter": values}), encoding="utf-8")
    config = tmp_path / "config.yaml"  # keeps cookiecutter's own replay copy out of ~
    config.write_text(f"replay_dir: {json.dumps(str(tmp_path / 'replays'))}\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(FailedHookException):
        cookiecutter(
            str(baking.TEMPLATE_DIR),
            replay=str(replay),
            output_dir=str(out),
            config_file=str(config),
        )
    errors = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert errors == [
        "ERROR: license 'GPL-3.0' is not one of MIT, Apache-2.0, BSD-3-Clause, Proprietary"
    ]
    assert not (out / "churn").exists()


@pytest.fixture(scope="module")
def cli_bake(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    """`cookiecutter --no-input <relative path to the template>`, run from another folder."""
    cwd = tmp_path_factory.mktemp("cli")
    config = baking.cookiecutter_config(tmp_path_factory.mktemp("cli-config"))
    template = os.path.relpath(baking.TEMPLATE_DIR, cwd)
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "--config-file", str(config)]
    done = subprocess.run(
        [*command, template], cwd=cwd, capture_output=True, text=True, check=False
    )
    return done, cwd / "customer-churn-prediction"


def test_a_relative_template_path_bakes(cli_bake):
    done, project = cli_bake
    assert done.returncode == 0, done.stderr
    assert (project / "pyproject.toml").is_file()
    assert (project / ".git").is_dir()


def test_a_bake_ends_with_the_next_steps(cli_bake):
    done, project = cli_bake
    assert f"cd {project.name}\n" in done.stdout
    assert "make install" in done.stdout
    assert "dvc repro" in done.stdout
    assert "python -m customer_churn_prediction.api.server" in done.stdout


def test_names_with_quotes_apostrophes_backslashes_and_unicode_bake(bake):
    context = {
        "project_name": 'Zoë\'s "Churn" Prognose',
        "author_name": "Łukasz O'Brien-Núñez \\ Team",
        "author_email": "lukasz.obrien@example.com",
        "description": "Predicts who leaves \u2014 won't you stay? {curly} 'quoted' \\ \"double\"",
    }
    project = bake(**context)
    assert project.name == "zoe-s-churn-prognose"
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["description"] == context["description"]
    assert meta["authors"] == [{"name": context["author_name"], "email": context["author_email"]}]
    assert context["author_name"] in (project / "LICENSE").read_text(encoding="utf-8")


def test_demo_dataset_ignores_data_source_and_target(bake, capfd):
    project = bake(dataset="ames_housing", data_source="/nowhere.csv", target="nothing")
    assert "ignored for dataset=ames_housing" in capfd.readouterr().err
    assert not (project / "data" / "source").exists()


def test_relative_data_source_is_resolved_against_the_output_dir(bake, tmp_path, churn_csv):
    # The bake fixture writes into tmp_path/out, so ../ is tmp_path.
    shutil.copyfile(churn_csv, tmp_path / "kunden.csv")
    project = bake(dataset="custom", data_source="../kunden.csv", target="Kündigt?")
    copied = project / "data" / "source" / "kunden.csv"
    assert copied.read_bytes() == churn_csv.read_bytes()


def test_url_data_source_is_accepted_without_download(bake):
    url = "https://example.org/exports/churn.csv"
    project = bake(dataset="custom", data_source=url, target="Churn", problem_type="binary")
    assert not (project / "data" / "source").exists()


def test_initial_commit_uses_the_author_when_git_has_no_identity(bake, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ):
        monkeypatch.delenv(name, raising=False)
    project = bake(author_name="Ada O'Hara", author_email="ada@example.com")
    author = subprocess.run(
        ["git", "log", "-1", "--format=%an <%ae>"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert author == "Ada O'Hara <ada@example.com>"
