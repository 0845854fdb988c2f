"""The service's launcher: `python -m {{ cookiecutter.package_name }}.api.server [uvicorn options]`.

`make serve`, the console command's `serve`, the Docker image and the benchmark start the
service this way: uvicorn's own command line, with these defaults instead of uvicorn's:

- APP: `{{ cookiecutter.package_name }}.api:app`;
- `--http`: uvicorn's httptools protocol with limits on the request head and timeouts for slow
  clients (`protocol.py`; APP_MAX_HEADER_BYTES, APP_HEADER_TIMEOUT, ...);
- `--ws none`: the service has no WebSocket route, so no upgrade is taken;
- `--limit-concurrency 1000`: a request beyond 1,000 open connections or tasks gets a 503;
- `--h11-max-incomplete-event-size`: APP_MAX_HEADER_BYTES, should `--http h11` be chosen.

Started as SageMaker starts a container (the argument `serve`) or as Vertex AI does
(AIP_HTTP_PORT, ...), it takes that platform's port and adds its routes (`platforms.py`).

Every uvicorn option works as it does with `uvicorn` (`--host`, `--port`, `--workers`, ...),
and so do the UVICORN_* variables (the image sets UVICORN_HOST and UVICORN_PORT); both win
over the defaults above. `uvicorn {{ cookiecutter.package_name }}.api:app` still serves the
same app, without the head limits, the timeouts for slow clients and the connection limit.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from uvicorn.main import main as uvicorn_command

from .platforms import PlatformError
from .platforms import apply as apply_platform
from .settings import ServerLimits, Settings

APP = f"{__package__}:app"
PROTOCOL = f"{__package__}.protocol:LimitedHttpToolsProtocol"
CONNECTIONS = 1000


def defaults() -> dict[str, Any]:
    """The launcher's defaults for uvicorn's options, by their parameter names."""
    return {
        "app": APP,
        "http": PROTOCOL,
        "ws": "none",
        "limit_concurrency": CONNECTIONS,
        "h11_max_incomplete_event_size": ServerLimits().max_header_bytes,
    }


def settings_error() -> str | None:
    """What is wrong with the APP_* variables, in one line; None if nothing."""
    for settings in (Settings, ServerLimits):
        try:
            settings()
        except ValidationError as exc:
            error = exc.errors()[0]
            return f"APP_{str(error['loc'][0]).upper()}: {error['msg']}"
    return None


def main(argv: Sequence[str] | None = None) -> None:
    """Run uvicorn's command line on `argv` (default: this process's arguments)."""
    try:  # SageMaker's `serve`, Vertex AI's AIP_* variables: their port, APP_PLATFORM
        args = apply_platform(list(sys.argv[1:] if argv is None else argv))
    except PlatformError as exc:
        sys.exit(f"error: {exc}")
    problem = settings_error()
    if problem:
        sys.exit(f"error: {problem}")
    uvicorn_command.main(args=args, prog_name=f"python -m {__name__}", default_map=defaults())


if __name__ == "__main__":
    main()
