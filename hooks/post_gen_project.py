"""Finish the generated project: drop unneeded files, bring in local data, set up git and DVC.

Runs inside the new project folder. A failure prints one line and exits 1;
cookiecutter then removes the half-made project. Success ends with the next
steps on stdout: cd, install, `dvc repro`, serve.

Decisions:
- A local custom data file is copied to data/source/<basename> and tracked with
  `dvc add`, so `dvc push` can move it and git never holds it.
- The project gets an initial commit, because `dvc exp run` needs a commit to
  start from. The user's git identity is used when configured; otherwise the
  template's author_name and author_email are passed with `git -c` for this
  one commit (nothing is written to any git config). Commit hooks and signing
  are skipped for this commit only.
- Without git or DVC on this machine, the project is still generated; a note
  says which commands to run later. Without DVC no commit is made, so a data
  file cannot land in git by mistake.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

CONTEXT_JSON = r'''{{ cookiecutter | tojson }}'''  # fmt: skip

COMMIT_MESSAGE = "Initial commit from the cookiecutter-ml-portfolio template"
# DVC reports usage statistics from a background process unless told not to.
TOOL_ENV = {**os.environ, "DVC_NO_ANALYTICS": "1"}


class HookError(Exception):
    """A step that could not be completed."""


def unwanted_paths(ctx: dict) -> list[str]:
    """Files and folders the chosen options do not need."""
    paths = []
    if ctx["license"] == "Proprietary":
        paths.append("LICENSE")
    if ctx["include_github_actions"] == "no":
        paths.append(".github")
    if ctx["include_docker"] == "no":
        paths += ["Dockerfile", ".dockerignore"]
    return paths


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def local_source(ctx: dict) -> Path | None:
    """The local file behind dataset=custom, resolved as the pre-gen hook did; else None."""
    if not ctx["__data_file"]:
        return None  # a demo data set or a URL
    return Path(ctx["_output_dir"], os.path.expanduser(ctx["data_source"])).resolve()


def run(command: list[str], what: str) -> subprocess.CompletedProcess[str]:
    """Run a command in the project folder; raise HookError with its last error line."""
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=TOOL_ENV,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except OSError as err:
        raise HookError(f"{what} could not start: {err}") from err
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise HookError(f"{what} failed: {reason}")
    return done


def dvc_command() -> list[str] | None:
    """How to call DVC here: from PATH, else as a module of this Python, else None."""
    found = shutil.which("dvc")
    if found:
        return [found]
    if importlib.util.find_spec("dvc") is not None:
        return [sys.executable, "-m", "dvc"]
    return None


def git_init() -> None:
    try:
        run(["git", "init", "-q", "-b", "main"], "git init")
    except HookError:  # git before 2.28 has no -b
        run(["git", "init", "-q"], "git init")
        run(["git", "symbolic-ref", "HEAD", "refs/heads/main"], "git symbolic-ref")


def has_git_identity() -> bool:
    for key in ("user.name", "user.email"):
        done = subprocess.run(
            ["git", "config", "--get", key], capture_output=True, text=True, check=False
        )
        if done.returncode != 0 or not done.stdout.strip():
            return False
    return True


def initial_commit(ctx: dict) -> None:
    identity = []
    if not has_git_identity():
        identity = [
            "-c",
            f"user.name={ctx['author_name']}",
            "-c",
            f"user.email={ctx['author_email']}",
        ]
    run(["git", "add", "-A"], "git add")
    run(
        ["git", *identity, "commit", "-q", "--no-verify", "--no-gpg-sign", "-m", COMMIT_MESSAGE],
        "git commit",
    )


def finish(ctx: dict) -> list[str]:
    """Do every step; return notes for the user."""
    for name in unwanted_paths(ctx):
        remove(Path(name))

    source = local_source(ctx)
    data_file = None
    if source is not None:
        data_file = Path(ctx["__data_file"])  # data/source/<file name>, as in params.yaml
        data_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(source, data_file)
        except OSError as err:
            raise HookError(
                f"data_source {ctx['data_source']!r} could not be copied: {err}"
            ) from err

    if shutil.which("git") is None:
        return ["Note: git was not found; run `git init -b main`, `make install`, then `dvc init`."]
    git_init()

    dvc = dvc_command()
    if dvc is None:
        steps = "`make install`, then `dvc init`"
        if data_file is not None:
            steps += f" and `dvc add {data_file.as_posix()}`"
        return [f"Note: DVC is not installed here; run {steps}, then commit."]
    run([*dvc, "init", "-q"], "dvc init")
    if data_file is not None:
        run([*dvc, "add", "-q", data_file.as_posix()], f"dvc add {data_file.as_posix()}")
    initial_commit(ctx)
    return []


def next_steps(ctx: dict) -> str:
    """The commands that take the new project from here to a served model."""
    slug, package = ctx["project_slug"], ctx["package_name"]
    without_make = 'python -m venv .venv && .venv/bin/pip install -e ".[train,dev]"'
    return "\n".join(
        [
            f"Made {slug} in {ctx['_output_dir']}. Next steps:",
            f"  cd {slug}",
            f"  make install               # without make: {without_make}",
            "  source .venv/bin/activate",
            "  dvc repro                  # the pipeline, from ingest to register",
            f"  make serve                 # or: python -m {package}.api.server",
            "  # then open http://127.0.0.1:8000/docs",
        ]
    )


def main() -> int:
    ctx = json.loads(CONTEXT_JSON)
    try:
        notes = finish(ctx)
    except HookError as err:
        print("ERROR: " + re.sub(r"\s*\n\s*", " ", str(err)), file=sys.stderr)
        return 1
    for note in notes:
        print(note, file=sys.stderr)
    print(next_steps(ctx))
    return 0


if __name__ == "__main__":
    sys.exit(main())
