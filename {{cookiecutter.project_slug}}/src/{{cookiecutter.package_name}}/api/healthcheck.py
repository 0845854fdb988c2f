"""The image's HEALTHCHECK: `python -m {{ cookiecutter.package_name }}.api.healthcheck` exits 0
once the service's /health answers 200 (liveness), else 1 with the reason on stderr.

Docker runs it inside the container beside the service, with the image's environment but not
what the launcher chose: the port depends on how the container was started (`platforms.py`),
so each port the service may listen on is tried: Vertex AI's AIP_HTTP_PORT, SageMaker's
SAGEMAKER_BIND_TO_PORT or 8080, and UVICORN_PORT (8000 in the image). Only the service
listens in its container, so whichever answers is it. Standard library only: it starts in
a few milliseconds.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping

SAGEMAKER_PORT = "8080"  # as platforms.SAGEMAKER_PORT; not imported: that costs pydantic
TIMEOUT = 2.0


def ports(environ: Mapping[str, str]) -> list[str]:
    """The ports the service may listen on, most specific first, each once."""
    found = [
        environ.get("AIP_HTTP_PORT"),
        environ.get("SAGEMAKER_BIND_TO_PORT"),
        environ.get("UVICORN_PORT", "8000"),
        SAGEMAKER_PORT,
    ]
    return list(dict.fromkeys(port for port in found if port and port.isdigit()))


def alive(port: str) -> str | None:
    """None when /health on this port answers 200, else what happened instead."""
    url = f"http://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:
            return None if answer.status == 200 else f"{url}: {answer.status}"
    except (OSError, urllib.error.URLError) as exc:
        return f"{url}: {exc}"


def main() -> None:
    problems = []
    for port in ports(os.environ):
        problem = alive(port)
        if problem is None:
            return
        problems.append(problem)
    sys.exit("unhealthy: " + "; ".join(problems))


if __name__ == "__main__":
    main()
