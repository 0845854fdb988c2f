"""/docs: Swagger UI from files the service serves itself, so the page loads nothing from a
third party and works under the service's Content-Security-Policy (`headers.py`).

The files come from the fastapi-offline package, which ships Swagger UI's release build
(`swagger-ui-bundle.js`, `swagger-ui.css`) and tracks its releases; the page and its start-up
script are ours (`static/docs.html`, `static/docs.js`). ReDoc is not served.
"""

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from .status import STATIC

SWAGGER_UI = Path(fastapi_offline.__file__).parent / "static"


def add_docs(app: FastAPI) -> None:
    """GET /docs and its assets under /docs/assets/ (create the app with docs_url=None)."""

    @app.get("/docs", include_in_schema=False)
    async def docs() -> FileResponse:
        return FileResponse(STATIC / "docs.html")

    app.mount("/docs/assets", StaticFiles(directory=SWAGGER_UI), name="swagger-ui")
