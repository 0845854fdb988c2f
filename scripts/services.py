"""Real throwaway services for the template tests, on loopback, stopped by process id.

- PostgreSQL from Debian's package (`initdb` and `pg_ctl` of the newest version under
  /usr/lib/postgresql): a cluster of its own on a free port, optionally with a password.
- An S3-compatible store: moto's server mode (works offline; any keys are accepted).
- An MLflow tracking server on a database and an S3 artifact store, as a team would run it.

Each is a context manager that yields what a client needs and stops the process on exit.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
from baking import CommandFailed, free_port, wait_for_health

POSTGRES_ROOT = Path("/usr/lib/postgresql")
S3_KEYS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def postgres_bin() -> Path | None:
    """The bin folder of the newest PostgreSQL installed from Debian's packages, if any."""
    found = sorted(POSTGRES_ROOT.glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    password: str | None

    def url(self, database: str, driver: str = "postgresql+psycopg2") -> str:
        secret = f":{quote(self.password, safe='')}" if self.password else ""
        return f"{driver}://{self.user}{secret}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create a database (fails if it exists) and return its URL."""
        bin_dir = postgres_bin()
        assert bin_dir is not None
        env = os.environ | ({"PGPASSWORD": self.password} if self.password else {})
        command = [str(bin_dir / "createdb"), "-h", self.host, "-p", str(self.port)]
        subprocess.run([*command, "-U", self.user, name], env=env, check=True)
        return self.url(name)


def _as_postgres(command: list[str]) -> list[str]:
    """initdb refuses to run as root: run the server's commands as Debian's `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres(password: str | None = None) -> Iterator[Postgres]:
    """A fresh cluster on 127.0.0.1 (trust, or scram-sha-256 over TCP with a password)."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise CommandFailed(f"no PostgreSQL under {POSTGRES_ROOT} (Debian's postgresql package)")
    # Its own folder under /tmp: pytest's folders are private to this user, and the server runs
    # as `postgres` when the tests run as root.
    folder = Path(tempfile.mkdtemp(prefix="template-pg-"))
    data, port = folder / "data", free_port()
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8", "--no-sync"]
    if password:
        (folder / "pw").write_text(password, encoding="utf-8")
        initdb += ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={folder / 'pw'}"]
    else:
        initdb += ["-A", "trust"]
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w"]
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        if password:
            shutil.chown(folder / "pw", "postgres", "postgres")
    try:
        run = subprocess.run
        run(_as_postgres(initdb), check=True, capture_output=True)
        run(_as_postgres([*pg_ctl, "-o", options, "start"]), check=True, capture_output=True)
        try:
            yield Postgres("127.0.0.1", port, "postgres", password)
        finally:
            run(_as_postgres([*pg_ctl, "-m", "immediate", "stop"]), capture_output=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class S3:
    endpoint: str

    def env(self) -> dict[str, str]:
        """What a client (boto3, DVC, an MLflow server) needs to reach this store."""
        return S3_KEYS | {
            "AWS_ENDPOINT_URL": self.endpoint,
            "MLFLOW_S3_ENDPOINT_URL": self.endpoint,
        }

    def create_bucket(self, name: str) -> None:
        import boto3

        keys = {key.lower(): value for key, value in S3_KEYS.items() if "REGION" not in key}
        client = boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=S3_KEYS["AWS_DEFAULT_REGION"], **keys
        )
        client.create_bucket(Bucket=name)


def _moto_ready(url: str, server: subprocess.Popen, log: object, timeout: float) -> None:
    """moto answers 200 on its root; wait_for_health polls /health, which moto does not know."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandFailed(f"moto_server exited {server.returncode} before serving")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
    raise CommandFailed(f"moto_server did not answer on {url} within {timeout:.0f} s")


@contextmanager
def _process(
    command: list[str], env: Mapping[str, str]
) -> Iterator[tuple[subprocess.Popen, object]]:
    """A background process in a process group of its own, output in a scratch file; the group
    is terminated (then killed) on exit."""
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            command, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process, log
        finally:
            _stop_group(process)


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the group, SIGKILL to what is left of it (a server's workers) after a while."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def s3_server(timeout: float = 60) -> Iterator[S3]:
    """moto's S3-compatible server on a free loopback port (its state lives in memory)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with _process(command, os.environ) as (process, log):
        _moto_ready(url, process, log, timeout)
        yield S3(url)


@contextmanager
def mlflow_server(
    backend_uri: str, artifacts_destination: str, env: Mapping[str, str], timeout: float = 240
) -> Iterator[str]:
    """`mlflow server` on a free loopback port, proxying artifacts to `artifacts_destination`
    (its S3 credentials and endpoint come from `env`); yields its URL once /health says OK."""
    port = free_port()
    mlflow = str(Path(sys.executable).with_name("mlflow"))
    command = [mlflow, "server", "--backend-store-uri", backend_uri]
    command += ["--artifacts-destination", artifacts_destination, "--serve-artifacts"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    # mlflow server starts uvicorn by name: this environment's bin folder goes first on PATH.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    with _process(command, os.environ | dict(env) | {"PATH": path}) as (process, log):
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, process, log, timeout)
        yield url
