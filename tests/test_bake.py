"""Every option combination bakes a complete, clean project that its own tools accept."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from itertools import product
from pathlib import Path

import baking
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# One worker runs this module: its tests share a module or session fixture (conftest.py).
pytestmark = pytest.mark.xdist_group("bakes")

# What the initial commit of every baked project holds (`git ls-files`), with {pkg}
# standing for package_name. Update it when the template gains or loses a file.
COMMON_FILES = [
    ".cruft.json",
    ".dvc/.gitignore",
    ".dvc/config",
    ".dvcignore",
    ".gitignore",
    ".pre-commit-config.yaml",
    "LICENSE",
    "Makefile",
    "README.md",
    "dvc.yaml",
    "params.yaml",
    "pyproject.toml",
    "scripts/autogluon-requirements.txt",
    "scripts/bench_peer.py",
    "scripts/bench_scale.py",
    "scripts/bench_serve.py",
    "scripts/bench_stream.py",
    "scripts/bench_train.py",
    "scripts/score_spark_main.py",
    "src/{pkg}/__init__.py",
    "src/{pkg}/api/__init__.py",
    "src/{pkg}/api/batches.py",
    "src/{pkg}/api/batching.py",
    "src/{pkg}/api/bodies.py",
    "src/{pkg}/api/csv_scoring.py",
    "src/{pkg}/api/csv_table.py",
    "src/{pkg}/api/deps.py",
    "src/{pkg}/api/docs.py",
    "src/{pkg}/api/fields.py",
    "src/{pkg}/api/headers.py",
    "src/{pkg}/api/healthcheck.py",
    "src/{pkg}/api/logged.py",
    "src/{pkg}/api/main.py",
    "src/{pkg}/api/platform_routes.py",
    "src/{pkg}/api/platforms.py",
    "src/{pkg}/api/problems.py",
    "src/{pkg}/api/protocol.py",
    "src/{pkg}/api/responses.py",
    "src/{pkg}/api/routes.py",
    "src/{pkg}/api/schemas.py",
    "src/{pkg}/api/scoring.py",
    "src/{pkg}/api/server.py",
    "src/{pkg}/api/settings.py",
    "src/{pkg}/api/static/app.js",
    "src/{pkg}/api/static/docs.html",
    "src/{pkg}/api/static/docs.js",
    "src/{pkg}/api/static/index.html",
    "src/{pkg}/api/static/style.css",
    "src/{pkg}/api/status.py",
    "src/{pkg}/api/workers.py",
    "src/{pkg}/cli.py",
    "src/{pkg}/config.py",
    "src/{pkg}/data/__init__.py",
    "src/{pkg}/data/batches.py",
    "src/{pkg}/data/cleaning.py",
    "src/{pkg}/data/contract.py",
    "src/{pkg}/data/features.py",
    "src/{pkg}/data/identifiers.py",
    "src/{pkg}/data/inference.py",
    "src/{pkg}/data/leakage.py",
    "src/{pkg}/data/profile.py",
    "src/{pkg}/data/schema.py",
    "src/{pkg}/data/sources.py",
    "src/{pkg}/data/splitting.py",
    "src/{pkg}/data/typical.py",
    "src/{pkg}/errors.py",
    "src/{pkg}/evaluate.py",
    "src/{pkg}/evaluation/__init__.py",
    "src/{pkg}/evaluation/analysis.py",
    "src/{pkg}/evaluation/bootstrap.py",
    "src/{pkg}/evaluation/budget.py",
    "src/{pkg}/evaluation/canvas.py",
    "src/{pkg}/evaluation/charts.py",
    "src/{pkg}/evaluation/classifier_figures.py",
    "src/{pkg}/evaluation/curves.py",
    "src/{pkg}/evaluation/diagnostics.py",
    "src/{pkg}/evaluation/direction.py",
    "src/{pkg}/evaluation/documents.py",
    "src/{pkg}/evaluation/error_charts.py",
    "src/{pkg}/evaluation/figures.py",
    "src/{pkg}/evaluation/importance.py",
    "src/{pkg}/evaluation/metrics.py",
    "src/{pkg}/evaluation/plot_tables.py",
    "src/{pkg}/evaluation/regression_figures.py",
    "src/{pkg}/evaluation/report_notes.py",
    "src/{pkg}/evaluation/report_text.py",
    "src/{pkg}/evaluation/templates/README.md.jinja",
    "src/{pkg}/evaluation/templates/model_card.md.jinja",
    "src/{pkg}/evaluation/templates/report.html.j2",
    "src/{pkg}/evaluation/wording.py",
    "src/{pkg}/export.py",
    "src/{pkg}/files.py",
    "src/{pkg}/ingest.py",
    "src/{pkg}/monitor.py",
    "src/{pkg}/monitoring/__init__.py",
    "src/{pkg}/monitoring/activity.py",
    "src/{pkg}/monitoring/check.py",
    "src/{pkg}/monitoring/current.py",
    "src/{pkg}/monitoring/drift.py",
    "src/{pkg}/monitoring/figures.py",
    "src/{pkg}/monitoring/outcomes.py",
    "src/{pkg}/monitoring/performance.py",
    "src/{pkg}/monitoring/report.py",
    "src/{pkg}/monitoring/store.py",
    "src/{pkg}/monitoring/templates/report.html.j2",
    "src/{pkg}/monitoring/verdict.py",
    "src/{pkg}/monitoring/writer.py",
    "src/{pkg}/onnx/__init__.py",
    "src/{pkg}/onnx/bins.py",
    "src/{pkg}/onnx/blend.py",
    "src/{pkg}/onnx/bundle.py",
    "src/{pkg}/onnx/convert.py",
    "src/{pkg}/onnx/converters.py",
    "src/{pkg}/onnx/encoders.py",
    "src/{pkg}/onnx/imputed_codes.py",
    "src/{pkg}/onnx/lift.py",
    "src/{pkg}/onnx/nodes.py",
    "src/{pkg}/onnx/parity.py",
    "src/{pkg}/onnx/trees.py",
    "src/{pkg}/onnx/words.py",
    "src/{pkg}/parallel.py",
    "src/{pkg}/predict.py",
    "src/{pkg}/register.py",
    "src/{pkg}/remote.py",
    "src/{pkg}/runner.py",
    "src/{pkg}/score_spark.py",
    "src/{pkg}/scoring/__init__.py",
    "src/{pkg}/scoring/spark.py",
    "src/{pkg}/scoring/stream.py",
    "src/{pkg}/serving/__init__.py",
    "src/{pkg}/serving/artifacts.py",
    "src/{pkg}/serving/batch.py",
    "src/{pkg}/serving/inputs.py",
    "src/{pkg}/serving/metadata.py",
    "src/{pkg}/serving/predictor.py",
    "src/{pkg}/serving/runtimes.py",
    "src/{pkg}/serving/temperature.py",
    "src/{pkg}/serving/text_codes.py",
    "src/{pkg}/split.py",
    "src/{pkg}/tracking/__init__.py",
    "src/{pkg}/tracking/champion.py",
    "src/{pkg}/tracking/registry.py",
    "src/{pkg}/tracking/monitoring_runs.py",
    "src/{pkg}/tracking/process.py",
    "src/{pkg}/tracking/pyfunc_model.py",
    "src/{pkg}/tracking/runs.py",
    "src/{pkg}/tracking/server.py",
    "src/{pkg}/train.py",
    "src/{pkg}/tune.py",
    "src/{pkg}/training/__init__.py",
    "src/{pkg}/training/bagging.py",
    "src/{pkg}/training/bins.py",
    "src/{pkg}/training/blend.py",
    "src/{pkg}/training/budget.py",
    "src/{pkg}/training/calibration.py",
    "src/{pkg}/training/crossval.py",
    "src/{pkg}/training/families.py",
    "src/{pkg}/training/folds.py",
    "src/{pkg}/training/gains.py",
    "src/{pkg}/training/growth.py",
    "src/{pkg}/training/leaderboard.py",
    "src/{pkg}/training/portfolio.py",
    "src/{pkg}/training/preparation.py",
    "src/{pkg}/training/preprocessing.py",
    "src/{pkg}/training/progress.py",
    "src/{pkg}/training/results.py",
    "src/{pkg}/training/sampling.py",
    "src/{pkg}/training/schedule.py",
    "src/{pkg}/training/search.py",
    "src/{pkg}/training/shared.py",
    "src/{pkg}/training/spaces.py",
    "src/{pkg}/training/storage.py",
    "src/{pkg}/training/studies.py",
    "src/{pkg}/training/task.py",
    "src/{pkg}/training/trainer.py",
    "src/{pkg}/training/voting.py",
    "src/{pkg}/training/words.py",
    "src/{pkg}/training/workers.py",
    "src/{pkg}/validate.py",
    "tests/conftest.py",
    "tests/test_api.py",
    "tests/test_api_exposure.py",
    "tests/test_api_limits.py",
    "tests/test_batching.py",
    "tests/test_bagging.py",
    "tests/test_blend.py",
    "tests/test_calibration.py",
    "tests/test_cli.py",
    "tests/test_config.py",
    "tests/test_csv.py",
    "tests/test_evaluate.py",
    "tests/test_export.py",
    "tests/test_model.py",
    "tests/test_monitoring.py",
    "tests/test_pipeline.py",
    "tests/test_platforms.py",
    "tests/test_plots.py",
    "tests/test_prediction_log.py",
    "tests/test_raw_records.py",
    "tests/test_register.py",
    "tests/test_schema.py",
    "tests/test_search.py",
    "tests/test_shared_search.py",
    "tests/test_stream.py",
    "tests/test_text.py",
    "tests/test_tracking.py",
    "tests/test_validate.py",
    "uv.lock",
]
GITHUB_FILES = [".github/workflows/ci.yml"]
# The image and the guides that deploy it, baked with include_docker=yes only.
DOCKER_FILES = [
    "Dockerfile",
    ".dockerignore",
    "deploy/azure-ml.md",
    "deploy/sagemaker.md",
    "deploy/team/compose.yaml",
    "deploy/vertex-ai.md",
]
COPY_WITHOUT_RENDER = json.loads(
    (baking.TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8")
)["_copy_without_render"]
PACKAGE = "customer_churn_prediction"  # the default package_name
MAKE_TARGETS = [
    "help",
    "install",
    "lint",
    "format",
    "test",
    "repro",
    "tune",
    "push",
    "pull",
    "serve",
    "monitor",
    "bench-serve",
    "bench-train",
    "bench-scale",
    "mlflow-ui",
    "clean",
]

DATASETS = ["telco_churn", "ames_housing", "custom"]
COMBOS = list(product(DATASETS, ["yes", "no"], ["yes", "no"]))


def combo_id(combo: tuple[str, str, str]) -> str:
    dataset, actions, docker = combo
    return f"{dataset}-actions_{actions}-docker_{docker}"


@pytest.fixture(params=COMBOS, ids=combo_id)
def combo(request, baked, churn_csv) -> tuple[dict[str, str], Path]:
    """(context, project) for one dataset x include_github_actions x include_docker."""
    dataset, actions, docker = request.param
    context = {
        "dataset": dataset,
        "include_github_actions": actions,
        "include_docker": docker,
    }
    if dataset == "custom":
        context |= {"data_source": str(churn_csv), "target": "Kündigt?"}
    return context, baked(**context)


def git(project: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=True)
    return done.stdout


def text_files(project: Path) -> dict[Path, str]:
    """Every UTF-8 text file of the baked tree outside .git."""
    found = {}
    for path in sorted(project.rglob("*")):
        if ".git" in path.relative_to(project).parts or not path.is_file():
            continue
        try:
            found[path] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary
    return found


def expected_files(context: dict[str, str], source: Path) -> set[str]:
    files = [name.format(pkg=PACKAGE) for name in COMMON_FILES]
    if context["include_github_actions"] == "yes":
        files += GITHUB_FILES
    if context["include_docker"] == "yes":
        files += DOCKER_FILES
    if context["dataset"] == "custom":
        files += ["data/source/.gitignore", f"data/source/{source.name}.dvc"]
    return set(files)


def test_commit_holds_exactly_the_expected_files(combo, churn_csv):
    context, project = combo
    committed = set(git(project, "ls-files").splitlines())
    expected = expected_files(context, churn_csv)
    extra, missing = sorted(committed - expected), sorted(expected - committed)
    assert not extra and not missing, f"not in the lists: {extra}; missing: {missing}"
    assert git(project, "status", "--porcelain") == ""  # nothing left out, nothing stray


def test_nothing_is_left_unrendered(combo):
    _, project = combo
    # GitHub Actions' own expressions are ${{ ... }}; any other {{ or {% is a Jinja leftover,
    # except in the files cookiecutter copies unrendered (the project's own templates).
    leftover = re.compile(r"(?<!\$)\{\{|\{%|\{#")
    for path, text in text_files(project).items():
        name = path.relative_to(project).as_posix()
        if any(fnmatch(name, pattern) for pattern in COPY_WITHOUT_RENDER):
            continue
        assert not leftover.search(text), f"unrendered Jinja in {name}"


def test_ruff_accepts_the_project(combo, baked_env):
    _, project = combo
    env = baked_env(project)
    # --no-cache: a .ruff_cache folder would change the session's shared baked tree.
    baking.run(["ruff", "check", "--no-cache", "."], project, env)
    baking.run(["ruff", "format", "--no-cache", "--check", "."], project, env)


def test_files_pass_the_pre_commit_hygiene_hooks(combo):
    """What trailing-whitespace, end-of-file-fixer, check-yaml and check-toml would reject."""
    _, project = combo
    committed = {project / name for name in git(project, "ls-files").splitlines()}
    for path, text in text_files(project).items():
        name = path.relative_to(project)
        if path not in committed or name.parts[0] == ".dvc":
            continue  # pre-commit sees committed files; DVC writes .dvc/ itself
        assert text == "" or (text.endswith("\n") and not text.endswith("\n\n")), name
        trailing = [i for i, line in enumerate(text.splitlines(), 1) if line != line.rstrip()]
        assert not trailing, f"{name}: trailing whitespace on lines {trailing}"
        if path.suffix in (".yaml", ".yml"):
            list(yaml.safe_load_all(text))
        if path.suffix == ".toml":
            tomllib.loads(text)


def test_workflow_is_valid_for_github_actions(combo):
    context, project = combo
    workflow = project / ".github" / "workflows" / "ci.yml"
    if context["include_github_actions"] == "no":
        assert not (project / ".github").exists()
        return
    command = [str(baking.BIN_DIR / "check-jsonschema"), "--builtin-schema"]
    env = baking.project_env(project)
    baking.run([*command, "vendor.github-workflows", str(workflow)], project, env)


def test_unwanted_files_are_removed(combo):
    context, project = combo
    for name in ("Dockerfile", ".dockerignore", "deploy"):
        assert (project / name).exists() == (context["include_docker"] == "yes")


def test_git_and_dvc_are_set_up(combo):
    _, project = combo
    assert git(project, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git(project, "log", "--format=%s").strip().startswith("Initial commit")
    assert (project / ".dvc" / "config").is_file()


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_dependency_is_installed_here_and_listed(dataset, baked, churn_csv):
    """Drift guard: the template venv (requirements-dev.in, pinned in requirements-dev.txt)
    runs every baked project."""
    extra = {"data_source": str(churn_csv), "target": "Kündigt?"} if dataset == "custom" else {}
    project = baked(dataset=dataset, **extra)
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(text) for text in meta["dependencies"]]
    for group in ("train", "dev", "team", "spark"):
        requirements += [Requirement(text) for text in meta["optional-dependencies"][group]]
    listed = {
        canonicalize_name(Requirement(line).name)
        for line in (baking.TEMPLATE_DIR / "requirements-dev.in").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in listed, f"{requirement} is missing from requirements-dev.in"
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue  # another platform's (xgboost on macOS)
        installed = importlib.metadata.version(requirement.name)
        assert requirement.specifier.contains(installed, prereleases=True), (
            f"{requirement.name} {installed} does not satisfy {requirement}"
        )


def test_deptry_finds_every_import_declared_and_every_dependency_used(combo, baked_env):
    _, project = combo
    baking.run([str(baking.BIN_DIR / "deptry"), "."], project, baked_env(project))


def test_uv_lock_matches_the_project(combo, baked_env):
    """uv.lock is a template: rendered, it must satisfy the rendered pyproject.toml as it is
    (`make lock` in this repository refreshes it). Offline: the lock alone answers."""
    _, project = combo
    command = [str(baking.BIN_DIR / "uv"), "lock", "--check", "--offline"]
    baking.run([*command, "--python", sys.executable], project, baked_env(project))


def test_local_csv_is_copied_and_tracked_by_dvc(baked, churn_csv):
    project = baked(dataset="custom", data_source=str(churn_csv), target="Kündigt?")
    copied = project / "data" / "source" / churn_csv.name
    assert copied.read_bytes() == churn_csv.read_bytes()
    tracked = yaml.safe_load(copied.with_name(churn_csv.name + ".dvc").read_text())
    assert tracked["outs"][0]["path"] == churn_csv.name
    assert f"data/source/{churn_csv.name}" not in git(project, "ls-files").splitlines()
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    assert params["data"]["source"] == f"data/source/{churn_csv.name}"


@pytest.mark.parametrize(
    ("choice", "heading"),
    [
        ("MIT", "MIT License"),
        ("Apache-2.0", "Apache License"),
        ("BSD-3-Clause", "BSD 3-Clause License"),
        ("Proprietary", None),
    ],
)
def test_license_follows_the_choice(choice, heading, baked):
    project = baked(license=choice, author_name="Grace Hopper")
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    if heading is None:
        assert not (project / "LICENSE").exists()
        assert "license" not in meta
        return
    text = (project / "LICENSE").read_text(encoding="utf-8")
    assert text.lstrip().startswith(heading)
    assert "Grace Hopper" in text
    assert meta["license"] == choice


def test_make_help_lists_every_target(baked):
    project = baked()
    shown = baking.run(["make", "help"], project, baking.project_env(project)).stdout
    assert [line.split()[0] for line in shown.splitlines()] == MAKE_TARGETS
