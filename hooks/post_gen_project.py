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
- The project records where it came from in `.cruft.json` (the template, its git
  commit and the answers), so that `cruft update` can bring later template
  changes into it. cruft renders the template again for each update (and for
  `cruft diff` and `check`), running these hooks: then only the files the
  options leave out are removed; git, DVC, the data copy and the record are a
  first bake's.
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
# This template's absolute folder (template_choices.py), a git checkout or clone.
TEMPLATE_DIR_JSON = r'''{{ template_dir | tojson }}'''  # fmt: skip

COMMIT_MESSAGE = "Initial commit from the cookiecutter-ml-portfolio template"
CRUFT_FILE = ".cruft.json"
# A template given as a URL or an abbreviation (gh:, gl:, bb:) was cloned by cookiecutter.
REMOTE_TEMPLATE = re.compile(r"^([a-z][a-z0-9+.-]*://|[a-z]+:[^/\\]|git@)", re.IGNORECASE)
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
        paths += ["Dockerfile", ".dockerignore", "deploy"]  # the guides push the image
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


def regenerated(ctx: dict) -> bool:
    """Whether cruft renders the template again for a project that exists (`cruft update`,
    `diff`, `check`): cruft's context has `_commit`, which cookiecutter never sets."""
    return "_commit" in ctx


def git_output(args: list[str], folder: Path) -> str | None:
    """A git command's output in `folder`, stripped; None when it fails."""
    done = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def template_record(ctx: dict, template_dir: Path) -> dict | None:
    """What cruft reads in .cruft.json: the template's location and commit, and the answers;
    None when the template is not a git checkout (cruft updates from commits)."""
    if shutil.which("git") is None:
        return None
    commit = git_output(["rev-parse", "HEAD"], template_dir)
    if commit is None:
        return None
    location = str(template_dir)  # a local template, wherever the bake was started
    if REMOTE_TEMPLATE.match(str(ctx.get("_template", ""))):
        location = git_output(["remote", "get-url", "origin"], template_dir) or ctx["_template"]
    answers = {key: value for key, value in ctx.items() if not key.startswith("_")}
    answers |= {"_template": location, "_commit": commit}
    return {
        "template": location,
        "commit": commit,
        "checkout": ctx.get("_checkout") or None,
        "context": {"cookiecutter": answers},
        "directory": None,
        "skip": [],
    }


def record_template(ctx: dict, template_dir: Path) -> list[str]:
    """Write .cruft.json; a note instead when the template cannot be recorded."""
    record = template_record(ctx, template_dir)
    if record is None:
        return [
            f"Note: {template_dir} is not a git checkout, so {CRUFT_FILE} was not written; "
            "`cruft link <template URL>` records it later."
        ]
    # cruft's own layout (two-space indent, a final newline), so an update rewrites one line.
    text = json.dumps(record, ensure_ascii=False, indent=2, separators=(",", ": ")) + "\n"
    Path(CRUFT_FILE).write_text(text, encoding="utf-8")
    return []


def finish(ctx: dict, template_dir: Path) -> list[str]:
    """Do every step; return notes for the user."""
    for name in unwanted_paths(ctx):
        remove(Path(name))
    if regenerated(ctx):
        return []  # the project exists: its git, DVC, data and record are left alone

    notes = record_template(ctx, template_dir)
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
        return [
            *notes,
            "Note: git was not found; run `git init -b main`, `make install`, then `dvc init`.",
        ]
    git_init()

    dvc = dvc_command()
    if dvc is None:
        steps = "`make install`, then `dvc init`"
        if data_file is not None:
            steps += f" and `dvc add {data_file.as_posix()}`"
        return [*notes, f"Note: DVC is not installed here; run {steps}, then commit."]
    run([*dvc, "init", "-q"], "dvc init")
    if data_file is not None:
        run([*dvc, "add", "-q", data_file.as_posix()], f"dvc add {data_file.as_posix()}")
    initial_commit(ctx)
    return notes


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
        notes = finish(ctx, Path(json.loads(TEMPLATE_DIR_JSON)))
    except HookError as err:
        print("ERROR: " + re.sub(r"\s*\n\s*", " ", str(err)), file=sys.stderr)
        return 1
    for note in notes:
        print(note, file=sys.stderr)
    if not regenerated(ctx):
        print(next_steps(ctx))
    return 0


if __name__ == "__main__":
    sys.exit(main())
