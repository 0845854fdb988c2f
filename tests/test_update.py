"""Template updates reach baked projects: `cruft update` from the record a first bake leaves.

A copy of this template is made a git repository; a project is baked from it with a table
given by a relative path (as a user types it), its `ingest` stage writes schema.yaml, and the
user's edits to params.yaml and schema.yaml are committed. The template then changes in three
ways: a line of params.yaml the user did not touch, a default in the code, a new file. `cruft
update` must carry all three in without a conflict, keep the user's edits, and leave alone
what only a first bake does (git init, dvc init, the initial commit, the data copy).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import baking
import pytest
import yaml

# One worker runs this module: its tests share a module fixture.
pytestmark = pytest.mark.xdist_group("update")

PACKAGE = "customer_churn_prediction"
SETTINGS = f"src/{PACKAGE}/api/settings.py"
PARAMS_COMMENT = "# warn: log columns that alone predict the target"
USER_SCHEMA_NOTE = "# Checked by hand: the IDs stay out.\n"
IDENTITY = ["-c", "user.name=Template Test", "-c", "user.email=test@example.com"]


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *IDENTITY, *args], cwd=folder, capture_output=True, text=True, check=True
    )
    return done.stdout


def template_copy(folder: Path) -> Path:
    """This template's files as they are now (committed or not), as a git repository."""
    listed = git(
        baking.TEMPLATE_DIR, "ls-files", "-z", "--cached", "--others", "--exclude-standard"
    )
    for name in filter(None, listed.split("\0")):
        source = baking.TEMPLATE_DIR / name
        if source.is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "the template as released")
    return folder


def change_the_template(template: Path) -> None:
    """Three changes a template release makes, committed."""
    slug = template / "{{cookiecutter.project_slug}}"
    params = slug / "params.yaml"
    text = params.read_text(encoding="utf-8")
    assert PARAMS_COMMENT in text
    params.write_text(text.replace(PARAMS_COMMENT, PARAMS_COMMENT + " (new wording)"), "utf-8")
    settings = slug / "src" / "{{cookiecutter.package_name}}" / "api" / "settings.py"
    code = settings.read_text(encoding="utf-8")
    assert "max_batch_records: int = Field(10_000, ge=1)" in code
    settings.write_text(code.replace("Field(10_000, ge=1)", "Field(20_000, ge=1)"), "utf-8")
    (slug / "CHANGES.md").write_text("# {{ cookiecutter.project_name }}: changes\n", "utf-8")
    git(template, "add", "-A")
    git(template, "commit", "-q", "-m", "a template release")


def cruft(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cruft", *args]
    return baking.run(command, project, baking.project_env(project), timeout=300, check=False)


@dataclass
class Update:
    project: Path
    template: Path
    before: dict[str, bytes]  # files as they were just before the update
    record: dict  # .cruft.json as the first bake wrote it
    output: str  # what `cruft update` said


@pytest.fixture(scope="module")
def update(tmp_path_factory: pytest.TempPathFactory, churn_csv: Path) -> Update:
    folder = tmp_path_factory.mktemp("update")
    template = template_copy(folder / "template")
    (folder / "tables").mkdir()
    shutil.copyfile(churn_csv, folder / "tables" / "kunden.csv")
    context = {"dataset": "custom", "data_source": "../tables/kunden.csv", "target": "Kündigt?"}
    project = baking.bake(folder / "out", context, template=template)
    record = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))

    env = baking.project_env(project)
    baking.run(["dvc", "repro", "ingest"], project, env)  # writes schema.yaml
    baking.set_params(project, {"split.test_size": 0.3})
    schema = project / "schema.yaml"
    schema.write_text(USER_SCHEMA_NOTE + schema.read_text(encoding="utf-8"), encoding="utf-8")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "my settings and my data contract")

    change_the_template(template)
    watched = [".dvc/config", "data/source/kunden.csv", "params.yaml", "schema.yaml", SETTINGS]
    before = {name: (project / name).read_bytes() for name in watched}
    done = cruft(project, "update", "--skip-apply-ask")
    assert done.returncode == 0, done.stdout + done.stderr
    return Update(project, template, before, record, done.stdout + done.stderr)


def test_first_bake_records_template_commit_and_answers(update):
    record = update.record
    assert record["template"] == str(update.template)
    first = git(update.template, "rev-list", "--max-parents=0", "HEAD").strip()
    assert record["commit"] == first
    answers = record["context"]["cookiecutter"]
    assert answers["data_source"] == "../tables/kunden.csv"  # as typed
    assert answers["target"] == "Kündigt?" and answers["dataset"] == "custom"


def test_update_brings_every_template_change_without_conflicts(update):
    project = update.project
    assert "conflict" not in update.output.lower() and ".rej" not in update.output
    changed = {line[3:] for line in git(project, "status", "--porcelain").splitlines()}
    assert changed == {".cruft.json", "CHANGES.md", "params.yaml", SETTINGS}
    assert "Field(20_000, ge=1)" in (project / SETTINGS).read_text(encoding="utf-8")
    new_file = (project / "CHANGES.md").read_text(encoding="utf-8")
    assert new_file == "# Customer Churn Prediction: changes\n"  # rendered with the answers
    for name in git(project, "ls-files").splitlines():
        path = project / name
        if path.is_file() and path.suffix in (".py", ".yaml", ".md", ".json", ".toml"):
            assert "<<<<<<<" not in path.read_text(encoding="utf-8"), name
    assert not list(project.rglob("*.rej"))
    latest = git(update.template, "rev-parse", "HEAD").strip()
    assert json.loads((project / ".cruft.json").read_text(encoding="utf-8"))["commit"] == latest
    assert cruft(project, "check").returncode == 0  # up to date now


def test_user_edits_to_params_and_schema_are_kept(update):
    project = update.project
    params_text = (project / "params.yaml").read_text(encoding="utf-8")
    params = yaml.safe_load(params_text)
    assert params["split"]["test_size"] == 0.3  # the user's
    assert PARAMS_COMMENT + " (new wording)" in params_text  # the template's
    assert (
        params["data"]["source"] == "data/source/kunden.csv"
    )  # the relative source, resolved once
    assert (project / "schema.yaml").read_bytes() == update.before["schema.yaml"]
    assert (project / "schema.yaml").read_text(encoding="utf-8").startswith(USER_SCHEMA_NOTE)


def test_update_does_not_run_the_first_bake_again(update):
    project = update.project
    assert len(git(project, "log", "--format=%H").split()) == 2  # the bake's and the user's
    for name in (".dvc/config", "data/source/kunden.csv"):
        assert (project / name).read_bytes() == update.before[name], name
    assert not list(project.glob("*/.git")) and not (project / PACKAGE).exists()
    assert "Next steps" not in update.output  # the first bake's closing message


def test_answers_file_presets_every_answer(tmp_path):
    """`cookiecutter --config-file answers.example.yaml --no-input` asks nothing and bakes
    the file's answers."""
    config = tmp_path / "answers.yaml"
    example = (baking.TEMPLATE_DIR / "answers.example.yaml").read_text(encoding="utf-8")
    answers = yaml.safe_load(example)["default_context"]
    example = example.replace('"Your Name"', '"Ada Lovelace"')
    place = json.dumps(str(tmp_path / "cookiecutter"))  # replay and clones stay here
    config.write_text(example + f"cookiecutters_dir: {place}\nreplay_dir: {place}\n", "utf-8")
    command = [str(baking.BIN_DIR / "cookiecutter"), "--no-input", "--config-file", str(config)]
    command += ["-o", str(tmp_path / "out"), str(baking.TEMPLATE_DIR)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    (project,) = (tmp_path / "out").iterdir()
    recorded = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    baked = recorded["context"]["cookiecutter"]
    assert baked["author_name"] == "Ada Lovelace"
    for key, value in answers.items():
        if key != "author_name":
            assert baked[key] == value, key
    assert 'name = "Ada Lovelace"' in (project / "pyproject.toml").read_text(encoding="utf-8")


def test_a_template_outside_git_bakes_with_a_note_instead_of_a_record(tmp_path, capfd):
    """A template copied without its history (a downloaded archive, say) has no commit to
    record: the project is made all the same, and a note says how to link it later."""
    template = tmp_path / "template"
    shutil.copytree(
        template_copy(tmp_path / "git"), template, ignore=shutil.ignore_patterns(".git")
    )
    project = baking.bake(tmp_path / "out", {}, template=template)
    assert not (project / ".cruft.json").exists()
    assert "cruft link" in capfd.readouterr().err
    assert git(project, "status", "--porcelain") == ""  # the initial commit holds everything
