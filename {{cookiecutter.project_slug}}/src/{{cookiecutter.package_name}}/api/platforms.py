"""Which cloud platform started the container, told the way each one starts it.

One image serves everywhere; the launcher (`server.py`) asks `launch` how:

- **SageMaker** runs the image with the single argument `serve` and sends its checks and
  predictions to port 8080 (`SAGEMAKER_BIND_TO_PORT` in a pipeline of containers). A model
  SageMaker unpacked into /opt/ml/model (the endpoint's `ModelDataUrl`) is served instead of
  the image's own, with its checksums verified at start as any other.
- **Vertex AI** sets `AIP_HTTP_PORT`, `AIP_HEALTH_ROUTE` and `AIP_PREDICT_ROUTE`.
- Otherwise the service starts as it always does.

The choice reaches the app as APP_PLATFORM (`settings.py`), an environment variable, so that
every uvicorn worker process sees it; the routes are `platform_routes.py`'s.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..serving.artifacts import META_FILE

SAGEMAKER_COMMAND = "serve"
SAGEMAKER_PORT = 8080
SAGEMAKER_MODEL_DIR = Path("/opt/ml/model")
# Any address: the platform's own network reaches the container, never 127.0.0.1.
ALL_ADDRESSES = "0.0.0.0"


class PlatformError(ValueError):
    """The platform's variables cannot be served as they are (one line, naming the variable)."""


class VertexRoutes(BaseModel):
    """The AIP_* variables Vertex AI sets in a custom container, read from the environment."""

    model_config = ConfigDict(extra="ignore")

    http_port: int = Field(alias="AIP_HTTP_PORT", ge=1, le=65535)
    health_route: str = Field(alias="AIP_HEALTH_ROUTE", pattern=r"^/")
    predict_route: str = Field(alias="AIP_PREDICT_ROUTE", pattern=r"^/")

    @classmethod
    def read(cls, environ: Mapping[str, str]) -> VertexRoutes:
        """The routes; PlatformError naming the first variable that is missing or wrong."""
        try:
            return cls.model_validate(dict(environ))
        except ValidationError as exc:
            error = exc.errors()[0]
            raise PlatformError(f"{error['loc'][0]}: {error['msg']}") from None


@dataclass
class Launch:
    """What the launcher hands uvicorn, and the variables it sets for the app."""

    platform: str  # "none", "sagemaker" or "vertex"
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)


def launch(args: Sequence[str], environ: MutableMapping[str, str] | None = None) -> Launch:
    """The platform that started this process, from its arguments and environment."""
    environ = os.environ if environ is None else environ
    if list(args[:1]) == [SAGEMAKER_COMMAND]:
        return _sagemaker(list(args[1:]), environ)
    if "AIP_HTTP_PORT" in environ:
        return _vertex(list(args), environ)
    return Launch("none", list(args))


def _sagemaker(args: list[str], environ: MutableMapping[str, str]) -> Launch:
    port = environ.get("SAGEMAKER_BIND_TO_PORT", str(SAGEMAKER_PORT))
    if not port.isdigit():
        raise PlatformError(f"SAGEMAKER_BIND_TO_PORT: {port!r} is not a port number")
    env = {"APP_PLATFORM": "sagemaker"}
    if (SAGEMAKER_MODEL_DIR / META_FILE).is_file() and "APP_MODEL_DIR" not in environ:
        # The unpacked model.tar.gz: its own reports, if it holds them, not the image's.
        env["APP_MODEL_DIR"] = str(SAGEMAKER_MODEL_DIR)
        env["APP_METRICS_FILE"] = str(SAGEMAKER_MODEL_DIR / "metrics.json")
        env["APP_REGISTRY_FILE"] = str(SAGEMAKER_MODEL_DIR / "registry.json")
    # Ours first: an option given after `serve` still wins (the last one counts).
    return Launch("sagemaker", ["--host", ALL_ADDRESSES, "--port", port, *args], env)


def _vertex(args: list[str], environ: MutableMapping[str, str]) -> Launch:
    port = str(VertexRoutes.read(environ).http_port)
    env = {"APP_PLATFORM": "vertex"}
    return Launch("vertex", ["--host", ALL_ADDRESSES, "--port", port, *args], env)


def apply(args: Sequence[str]) -> list[str]:
    """`launch` on this process: its variables set here (the app and every worker read them);
    uvicorn's arguments returned. PlatformError when the platform's variables are wrong."""
    started = launch(args)
    os.environ.update(started.env)
    return started.args
