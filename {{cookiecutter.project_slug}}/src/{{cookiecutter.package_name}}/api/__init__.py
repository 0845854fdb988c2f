"""The prediction service: `python -m {{ cookiecutter.package_name }}.api.server` serves `app`
with the server's limits (`server.py`); `uvicorn {{ cookiecutter.package_name }}.api:app`, without.

`app` is built on first access, not at import, so importing the package reads no files.
"""

from typing import Any

from .main import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "app":
        app = create_app()
        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
