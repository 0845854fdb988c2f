"""Bake the template, set params, run and serve what it generates, with this repository's .venv.

The one bake helper: scripts/demo.py, scripts/bench_train.py and the template tests'
fixtures use it. The baked project is never installed: its commands run with the
template's Python, `src/` on PYTHONPATH and the template's bin folder first on PATH,
since .venv holds every dependency the generated project declares (requirements-dev.txt).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import IO, Any

import httpx

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
# Not resolved: in a venv, python is a symlink and its folder is the venv's bin/.
BIN_DIR = Path(sys.executable).parent


# Debian's Chromium (scripts/ensure-system-tools.sh), headless, for the browser tests. The network
# flags stop its background calls, which this machine's closed network would refuse.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium(**options: Any) -> Iterator[Any]:
    """A playwright browser context on headless Debian Chromium with a fresh profile."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        raise CommandFailed(f"{CHROMIUM} is missing: run scripts/ensure-system-tools.sh")
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        browser = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS, **options
        )
        try:
            yield browser
        finally:
            browser.close()


class CommandFailed(RuntimeError):
    """A command in a baked project exited non-zero (the message carries its output)."""


def cookiecutter_config(folder: Path) -> Path:
    """Write a cookiecutter config file that keeps its replay and clone folders in folder.

    Passed instead of the user's ~/.cookiecutterrc, which must not change a bake, and so
    that a bake leaves no replay file in the home folder.
    """
    config = Path(folder, "cookiecutter-config.yaml")
    place = json.dumps(str(folder))  # a JSON string is a YAML string
    config.write_text(f"cookiecutters_dir: {place}\nreplay_dir: {place}\n", encoding="utf-8")
    return config


def bake(
    output_dir: Path,
    extra_context: Mapping[str, Any] | None = None,
    template: Path = TEMPLATE_DIR,
) -> Path:
    """Run cookiecutter --no-input on this template (or a copy of it) into output_dir; return
    the project."""
    from cookiecutter.main import cookiecutter

    with tempfile.TemporaryDirectory(prefix="cookiecutter-") as folder:
        project = cookiecutter(
            str(template),
            no_input=True,
            extra_context=dict(extra_context or {}),
            output_dir=str(output_dir),
            config_file=str(cookiecutter_config(Path(folder))),
        )
    return Path(project)


def set_params(project_dir: Path, values: Mapping[str, Any]) -> None:
    """Set values in a baked project's params.yaml by dotted key: {"train.fast": True}.

    A targeted edit: each value replaces the one on its key's line (written as JSON, which
    YAML reads), so comments stay. The file is loaded again to check the edit; a key that
    is missing or holds a block (a mapping, or a list over several lines) raises instead.
    """
    import yaml

    path = Path(project_dir, "params.yaml")
    text = path.read_text(encoding="utf-8")
    expected = yaml.safe_load(text)
    lines = text.splitlines(keepends=True)
    for dotted, value in values.items():
        *parents, key = dotted.split(".")
        index = _key_line(lines, [*parents, key])
        head, _, rest = lines[index].partition(f"{key}:")
        if not rest.strip() or rest.lstrip().startswith("#"):
            raise ValueError(f"params.yaml: {dotted} holds a block; set its own keys instead")
        written = json.dumps(value, ensure_ascii=False)
        lines[index] = f"{head}{key}: {written}{_trailing_comment(rest)}\n"
        section = expected
        for name in parents:
            section = section[name]
        section[key] = value
    edited = "".join(lines)
    if yaml.safe_load(edited) != expected:
        raise ValueError(f"params.yaml: setting {dict(values)} changed other values")
    path.write_text(edited, encoding="utf-8")


def _key_line(lines: list[str], keys: list[str]) -> int:
    """The index of the line of keys[-1], a direct child of keys[:-1] in block-style YAML."""
    start, end, indent = 0, len(lines), 0
    for depth, key in enumerate(keys):
        pattern = re.compile(rf" {{{indent}}}{re.escape(key)}:(\s|$)")
        index = next((i for i in range(start, end) if pattern.match(lines[i])), None)
        if index is None:
            raise KeyError(f"params.yaml has no {'.'.join(keys[: depth + 1])}")
        # The key's block: the lines after it, up to the next one indented no deeper.
        content = [i for i in range(index + 1, end) if lines[i].strip()[:1] not in ("", "#")]
        end = next((i for i in content if _indent(lines[i]) <= indent), end)
        start = index + 1
        indent = _indent(lines[content[0]]) if content and content[0] < end else indent + 1
    return index


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _trailing_comment(rest: str) -> str:
    """The comment after a one-line plain value ("15   # per family" -> "   # per family")."""
    rest = rest.rstrip("\n")
    if rest.strip().startswith(("'", '"', "[", "{")):
        return ""  # a # inside quotes or brackets may not start a comment
    match = re.search(r"\s+#", rest)
    return rest[match.start() :] if match else ""


def project_env(project_dir: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for running a baked project's commands (dvc, pytest, uvicorn, ruff)."""
    env = dict(os.environ if base is None else base)
    src = str(Path(project_dir, "src"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join(filter(None, [str(BIN_DIR), env.get("PATH")]))
    env["DVC_NO_ANALYTICS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    # The project's own default (sqlite:///mlflow.db in its folder) must apply, and a
    # `make` run inside `make test` must not inherit the outer make's flags and level.
    for name in ("MLFLOW_TRACKING_URI", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(name, None)
    return env


def run(
    args: Sequence[str],
    project_dir: Path,
    env: Mapping[str, str],
    timeout: float = 900,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command in project_dir; raise CommandFailed with its output if it fails (unless
    check is false: the caller reads the exit code and output)."""
    done = subprocess.run(
        list(args),
        cwd=project_dir,
        env=dict(env),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-4000:]
        raise CommandFailed(
            f"`{' '.join(args)}` exited {done.returncode} in {project_dir}:\n{output}"
        )
    return done


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(
    project_dir: Path,
    package: str,
    env: Mapping[str, str],
    port: int | None = None,
    timeout: float = 60,
) -> Iterator[str]:
    """Serve as `make serve` does (`python -m <package>.api.server`: uvicorn with the service's
    limits) on 127.0.0.1; yield its base URL once /health is 200."""
    with serving(project_dir, package, env, port, timeout) as (url, _server):
        yield url


@contextmanager
def serving(
    project_dir: Path,
    package: str,
    env: Mapping[str, str],
    port: int | None = None,
    timeout: float = 60,
    log: IO[str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`serve`, yielding the base URL and the server process (to watch its memory, say);
    its output goes to `log` when one is given (to read its warnings), else to a scratch file."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", f"{package}.api.server"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with nullcontext(log) if log else tempfile.TemporaryFile(mode="w+") as log:
        server = subprocess.Popen(
            command, cwd=project_dir, env=dict(env), stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_for_health(url, server, log, timeout)
            yield url, server
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_for_health(url: str, server: subprocess.Popen, log: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise CommandFailed(f"server exited {server.returncode} before serving:\n{log.read()}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.3)
    log.seek(0)
    raise CommandFailed(f"{url}/health did not answer 200 within {timeout:.0f} s:\n{log.read()}")


def package_name(project_dir: Path) -> str:
    """The import name of the baked project's package (the one folder in src/)."""
    found = sorted(p.parent.name for p in Path(project_dir, "src").glob("*/__init__.py"))
    if len(found) != 1:
        raise CommandFailed(f"expected one package in {project_dir}/src, found {found}")
    return found[0]


def params_target(project_dir: Path) -> str:
    """The target column named in the project's params.yaml (data.target)."""
    import yaml

    params = yaml.safe_load(Path(project_dir, "params.yaml").read_text(encoding="utf-8"))
    return params["data"]["target"]


def first_test_record(project_dir: Path, target: str) -> dict[str, Any]:
    """The first row of data/processed/test.parquet without the target, as JSON-ready data."""
    import pandas as pd

    frame = pd.read_parquet(Path(project_dir, "data", "processed", "test.parquet"))
    row = frame.drop(columns=[target]).head(1)
    # to_json turns NaN and NaT into null and numpy scalars into plain numbers.
    return json.loads(row.to_json(orient="records", date_format="iso"))[0]


def predict(
    base_url: str, record: Mapping[str, Any], request_id: str | None = None
) -> httpx.Response:
    """POST one raw record to the service's /predict endpoint (with this X-Request-ID: two
    answers to the same record are then equal as a whole)."""
    headers = {} if request_id is None else {"X-Request-ID": request_id}
    return httpx.post(f"{base_url}/predict", json=dict(record), headers=headers, timeout=30)
