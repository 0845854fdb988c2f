"""`{{ cookiecutter.package_name }} push` / `pull`: `dvc push` / `dvc pull` once the remote's
bucket is known to exist.

DVC reports a missing or forbidden S3 bucket once per file it fails to move, and without the
bucket's name; this checks the bucket first (with the remote's own endpoint and credentials,
from .dvc/config and .dvc/config.local) and says it in one line. Remotes that are not S3 go
straight to DVC. Arguments after the action go to DVC (`{{ cookiecutter.package_name }} push -r
storage -j 8`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Any

from .errors import StageError
from .runner import run


def remote_settings(name: str | None) -> tuple[str, dict[str, Any]]:
    """The remote's name and its merged settings (config.local included)."""
    from dvc.repo import Repo

    config = Repo(".").config
    name = name or config["core"].get("remote")
    if not name:
        raise StageError("dvc: no default remote (dvc remote add -d storage s3://bucket/path)")
    if name not in config["remote"]:
        raise StageError(f"dvc: no remote named {name!r} (dvc remote list)")
    return name, dict(config["remote"][name])


def _client(settings: dict[str, Any]) -> Any:
    try:
        import boto3
    except ModuleNotFoundError:
        raise StageError("an S3 remote needs boto3: pip install -e '.[team]'") from None
    session = boto3.session.Session(profile_name=settings.get("profile"))
    return session.client(
        "s3",
        endpoint_url=settings.get("endpointurl"),
        region_name=settings.get("region"),
        aws_access_key_id=settings.get("access_key_id"),
        aws_secret_access_key=settings.get("secret_access_key"),
        aws_session_token=settings.get("session_token"),
    )


def check_bucket(name: str, settings: dict[str, Any]) -> None:
    """Raise StageError naming the remote and its bucket when the bucket cannot be used."""
    url = str(settings.get("url", ""))
    if not url.startswith("s3://"):
        return
    bucket = url.removeprefix("s3://").split("/", 1)[0]
    where = f"dvc remote {name!r} ({url}"
    where += f" at {settings['endpointurl']})" if settings.get("endpointurl") else ")"
    client = _client(settings)
    try:
        client.head_bucket(Bucket=bucket)
    except Exception as exc:  # botocore's errors: an answer (ClientError) or none at all
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket"):
            raise StageError(f"{where}: the bucket {bucket!r} does not exist") from None
        if code in ("403", "AccessDenied"):
            raise StageError(f"{where}: access to the bucket {bucket!r} is denied") from None
        raise StageError(f"{where}: {str(exc).splitlines()[0]}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("push", "pull", "check"))
    parser.add_argument("-r", "--remote", help="the remote (default: DVC's default remote)")
    args, extra = parser.parse_known_args()
    name, settings = remote_settings(args.remote)
    check_bucket(name, settings)
    if args.action != "check":
        command = [sys.executable, "-m", "dvc", args.action, "-r", name, *extra]
        code = subprocess.call(command)
        if code:
            sys.exit(code)


if __name__ == "__main__":
    run(main)
