"""A trained project's data and models travel through a DVC remote and come back unchanged.

Works on a copy of the session's trained Telco project, with a local-folder remote (the kind
the generated README documents as working out of the box) and with an S3 remote on moto's
S3-compatible server, its credentials in .dvc/config.local as the README says; a bucket that
does not exist is one line from `<package> push`.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
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


def clear_outputs(project: Path, outputs: list[str]) -> None:
    """Delete every cached output and the cache itself, as on a fresh clone."""
    for out in outputs:
        path = project / out
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.rmtree(project / ".dvc" / "cache")


def round_trip(project: Path, env: dict[str, str], remote: str) -> None:
    """Push to the default remote, clear outputs and cache, pull: every output byte-identical
    and `dvc status -c` in sync."""
    outputs = cached_outputs(project)
    assert {"data/raw/data.parquet", "models/model.joblib"} <= set(outputs)
    before = file_hashes(project, outputs)
    assert len(before) >= len(outputs)
    baking.run(["dvc", "push"], project, env)
    clear_outputs(project, outputs)
    status = baking.run(["dvc", "status"], project, env).stdout
    assert "deleted" in status, status

    baking.run(["dvc", "pull"], project, env)
    assert file_hashes(project, outputs) == before
    status = baking.run(["dvc", "status"], project, env).stdout
    assert "up to date" in status, status
    synced = baking.run(["dvc", "status", "-c"], project, env).stdout
    assert f"Cache and remote '{remote}' are in sync." in synced, synced


def test_push_then_pull_restores_every_output(telco_copy, tmp_path):
    project, env = telco_copy, baking.project_env(telco_copy)
    remote = tmp_path / "dvc remote"  # a space in the path, as on many laptops
    baking.run(["dvc", "remote", "add", "-d", "store", str(remote)], project, env)
    round_trip(project, env, "store")
    assert any(p.is_file() for p in remote.rglob("*"))


def s3_remote(project: Path, env: dict[str, str], s3, bucket: str) -> None:
    """The README's commands: the remote in .dvc/config, its keys in .dvc/config.local."""
    run = baking.run
    run(["dvc", "remote", "add", "-d", "storage", f"s3://{bucket}/telco"], project, env)
    run(["dvc", "remote", "modify", "storage", "endpointurl", s3.endpoint], project, env)
    run(["dvc", "remote", "modify", "storage", "region", "us-east-1"], project, env)
    keys = {"access_key_id": "AWS_ACCESS_KEY_ID", "secret_access_key": "AWS_SECRET_ACCESS_KEY"}
    for setting, variable in keys.items():
        value = s3.env()[variable]
        run(["dvc", "remote", "modify", "--local", "storage", setting, value], project, env)


def no_aws_environment(project: Path) -> dict[str, str]:
    """The project's environment without AWS settings: DVC must find them in its config."""
    env = baking.project_env(project)
    return {name: value for name, value in env.items() if not name.startswith("AWS_")}


def test_push_then_pull_through_an_s3_server(telco_copy, s3_server):
    project, env = telco_copy, no_aws_environment(telco_copy)
    s3_server.create_bucket("team-dvc")
    s3_remote(project, env, s3_server, "team-dvc")
    secret = s3_server.env()["AWS_SECRET_ACCESS_KEY"]
    assert secret not in (project / ".dvc" / "config").read_text(encoding="utf-8")
    assert secret in (project / ".dvc" / "config.local").read_text(encoding="utf-8")
    ignored = baking.run(["git", "check-ignore", ".dvc/config.local"], project, env)
    assert ignored.stdout.strip() == ".dvc/config.local"  # never committed

    round_trip(project, env, "storage")

    import boto3

    keys = s3_server.env()
    client = boto3.client(
        "s3", endpoint_url=s3_server.endpoint, region_name="us-east-1",
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
    )  # fmt: skip
    stored = client.list_objects_v2(Bucket="team-dvc", Prefix="telco/")
    assert stored.get("KeyCount", 0) >= len(cached_outputs(project))


def test_a_missing_bucket_is_one_line_naming_the_remote_and_bucket(telco_copy, s3_server):
    project, env = telco_copy, no_aws_environment(telco_copy)
    s3_remote(project, env, s3_server, "no-such-bucket")
    package = baking.package_name(project)
    for action in ("push", "pull"):
        done = baking.run(
            [sys.executable, "-m", f"{package}.cli", action], project, env, check=False
        )
        assert done.returncode == 1, done.stdout + done.stderr
        lines = done.stderr.strip().splitlines()
        assert lines == [
            f"error: dvc remote 'storage' (s3://no-such-bucket/telco at {s3_server.endpoint}): "
            "the bucket 'no-such-bucket' does not exist"
        ], lines
