"""Build and run a baked project's Dockerfile with Debian's podman, no Docker engine and no
registry: the template tests' container helpers (tests/test_image.py).

What this machine needs (measured, see the README's "Testing the image"): podman, buildah,
mmdebstrap and runc from Debian (scripts/ensure-system-tools.sh installs them); a podman
configuration of our own (`CONTAINERS_CONF`: runc, cgroupfs, file events, ulimits root may
set), so /etc is left alone; and a base image made locally, since no `python:*-slim` can be
pulled: Debian bookworm's minbase with python3 (3.11), made by mmdebstrap once and cached as
a tar under the system's temporary folder. When this machine's HTTPS goes through a proxy
with its own certificate authority, that authority is added to the test base image in a thin
layer (pip and uv in the build reach the package index through it); the project's Dockerfile
knows nothing of it.
"""

from __future__ import annotations

import fcntl
import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from baking import free_port

TOOLS = ("podman", "buildah", "mmdebstrap", "runc")
CACHE = Path(os.environ.get("TEMPLATE_IMAGE_CACHE", Path(tempfile.gettempdir(), "ml-portfolio")))
ROOTFS_TAR = CACHE / "bookworm-python3.tar"
DEBIAN_IMAGE = "localhost/ml-portfolio-debian:bookworm"
BASE_IMAGE = "localhost/ml-portfolio-base:bookworm"
DEBIAN_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
EXTRA_CAS = Path("/usr/local/share/ca-certificates")
SYSTEM_CAS = "/etc/ssl/certs/ca-certificates.crt"


class ContainerError(RuntimeError):
    """A podman command failed (the message carries its output)."""


def conf_file() -> Path:
    """A containers.conf for this machine (written once, under CACHE)."""
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 32768)
    text = (
        "[containers]\n"
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
        "[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
    )
    path = CACHE / "containers.conf"
    CACHE.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def env() -> dict[str, str]:
    return os.environ | {"CONTAINERS_CONF": str(conf_file())}


def podman(*args: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        ["podman", *args],
        env=env(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-4000:]
        raise ContainerError(f"`podman {' '.join(args)}` exited {done.returncode}:\n{output}")
    return done


def unavailable() -> str | None:
    """Why images cannot be built and run here, in one line; None when they can."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not installed (scripts/ensure-system-tools.sh installs them)"
    if os.geteuid() != 0:
        return "podman runs as root here (rootless podman needs subuid ranges this set-up skips)"
    done = podman("info", "--format", "{{.Host.OCIRuntime.Name}}", timeout=60, check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return f"`podman info` fails: {lines[-1] if lines else done.returncode}"
    return None


def has_image(name: str) -> bool:
    return podman("image", "exists", name, check=False).returncode == 0


@contextmanager
def locked(name: str) -> Iterator[None]:
    """One process at a time (pytest-xdist workers) makes the shared base images."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def base_image() -> str:
    """The tests' base image (Debian bookworm, python3 3.11), made once and kept."""
    with locked("base"):
        if has_image(BASE_IMAGE):
            return BASE_IMAGE
        if not has_image(DEBIAN_IMAGE):
            if not ROOTFS_TAR.is_file():
                make_rootfs(ROOTFS_TAR)
            podman("import", str(ROOTFS_TAR), DEBIAN_IMAGE)
        add_certificates(DEBIAN_IMAGE, BASE_IMAGE)
    return BASE_IMAGE


def make_rootfs(tar: Path) -> None:
    """Debian bookworm's minbase with python3, python3-venv and CA certificates, as a tar."""
    partial = tar.with_name(f"partial-{tar.name}")  # renamed when complete
    command = ["mmdebstrap", "--variant=minbase", "--format=tar"]
    command += ["--include=python3,python3-venv,ca-certificates", "bookworm", str(partial)]
    if DEBIAN_SOURCES.is_file():  # this machine's mirror, which its network lets through
        command.append(str(DEBIAN_SOURCES))
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise ContainerError(f"mmdebstrap failed:\n{(done.stdout + done.stderr)[-4000:]}")
    partial.replace(tar)


def add_certificates(base: str, tag: str) -> None:
    """`base` with this machine's extra certificate authorities trusted, tagged `tag`."""
    certificates = sorted(EXTRA_CAS.glob("*.crt")) if EXTRA_CAS.is_dir() else []
    with tempfile.TemporaryDirectory() as folder:
        lines = [f"FROM {base}"]
        if certificates:
            Path(folder, "certs").mkdir()
            for path in certificates:
                shutil.copyfile(path, Path(folder, "certs", path.name))
            lines += ["COPY certs/ /usr/local/share/ca-certificates/", "RUN update-ca-certificates"]
        # uv reads SSL_CERT_FILE, pip PIP_CERT; both default to their own bundles.
        lines.append(f"ENV SSL_CERT_FILE={SYSTEM_CAS} PIP_CERT={SYSTEM_CAS}")
        Path(folder, "Containerfile").write_text("\n".join(lines) + "\n", encoding="utf-8")
        podman("build", "--format", "docker", "-t", tag, folder)


def build(project: Path, tag: str, base: str) -> float:
    """Build the project's Dockerfile as `tag` on `base`; return the seconds it took."""
    started = time.perf_counter()
    podman("build", "--format", "docker", "--build-arg", f"BASE={base}", "-t", tag, str(project))
    return time.perf_counter() - started


@dataclass
class Running:
    """A started container: its id, the URL its service port is published on, and when
    `podman run` was called (time.perf_counter)."""

    id: str
    url: str
    started: float

    def logs(self) -> str:
        done = podman("logs", self.id, check=False)
        return (done.stdout + done.stderr)[-4000:]


@contextmanager
def running(
    image: str,
    port: int,
    args: Sequence[str] = (),
    environment: dict[str, str] | None = None,
    volumes: Sequence[str] = (),
) -> Iterator[Running]:
    """`podman run -d` the image with its `port` published on 127.0.0.1; removed afterwards,
    whatever happens. The HEALTHCHECK timer needs systemd, which this machine lacks."""
    host_port = free_port()
    command = ["run", "-d", "--no-healthcheck", "-p", f"127.0.0.1:{host_port}:{port}"]
    for name, value in (environment or {}).items():
        command += ["-e", f"{name}={value}"]
    for volume in volumes:
        command += ["-v", volume]
    started = time.perf_counter()
    done = podman(*command, image, *args)
    container = Running(done.stdout.strip(), f"http://127.0.0.1:{host_port}", started)
    try:
        yield container
    finally:
        podman("rm", "-f", "-t", "0", container.id, check=False)


def wait_for(container: Running, path: str, timeout: float = 60) -> float:
    """Seconds from `podman run` until GET `path` answers 200 (polled every 0.1 s);
    ContainerError with the logs if it never does."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            if httpx.get(container.url + path, timeout=2).status_code == 200:
                return time.perf_counter() - container.started
        except httpx.TransportError:
            pass  # not listening yet
        state = podman("inspect", "--format", "{{.State.Running}}", container.id, check=False)
        if state.stdout.strip() == "false":
            raise ContainerError(
                f"the container exited before {path} answered:\n{container.logs()}"
            )
        time.sleep(0.1)
    raise ContainerError(f"{path} did not answer 200 within {timeout:.0f} s:\n{container.logs()}")
