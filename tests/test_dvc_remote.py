"""A trained project's data and models travel through a DVC remote and come back unchanged.

Works on a copy of the session's trained Telco project, with a local-folder remote: the
kind the generated README documents as working out of the box.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import baking
import pytest
import yaml


def cached_outputs(project: Path) -> list[str]:
    """The stage outputs DVC keeps in its cache (not `cache: false`), from dvc.yaml."""
    stages = yaml.safe_load((project / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    found = []
    for stage in stages.values():
        for out in stage.get("outs", []):
            if isinstance(out, str):
                found.append(out)
            else:
                ((path, options),) = out.items()
                if (options or {}).get("cache", True):
                    found.append(path)
    return found


def file_hashes(project: Path, outputs: list[str]) -> dict[str, str]:
    """SHA-256 of every file under the outputs (a folder output counts file by file)."""
    hashes = {}
    for out in outputs:
        path = project / out
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            hashes[file.relative_to(project).as_posix()] = hashlib.sha256(
                file.read_bytes()
            ).hexdigest()
    return hashes


@pytest.fixture
def telco_copy(trained_telco: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(trained_telco, tmp_path / "telco", symlinks=True))


def test_repro_with_nothing_changed_runs_nothing(telco_copy):
    done = baking.run(["dvc", "repro"], telco_copy, baking.project_env(telco_copy))
    assert "Running stage" not in done.stdout, done.stdout
    assert "Data and pipelines are up to date." in done.stdout


def test_push_then_pull_restores_every_output(telco_copy, tmp_path):
    project, env = telco_copy, baking.project_env(telco_copy)
    outputs = cached_outputs(project)
    assert {"data/raw/data.parquet", "models/model.joblib"} <= set(outputs)
    before = file_hashes(project, outputs)
    assert len(before) >= len(outputs)

    remote = tmp_path / "dvc remote"  # a space in the path, as on many laptops
    baking.run(["dvc", "remote", "add", "-d", "store", str(remote)], project, env)
    baking.run(["dvc", "push"], project, env)
    assert any(p.is_file() for p in remote.rglob("*"))

    for out in outputs:
        path = project / out
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.rmtree(project / ".dvc" / "cache")
    status = baking.run(["dvc", "status"], project, env).stdout
    assert "deleted" in status, status

    baking.run(["dvc", "pull"], project, env)
    assert file_hashes(project, outputs) == before
    status = baking.run(["dvc", "status"], project, env).stdout
    assert "up to date" in status, status
