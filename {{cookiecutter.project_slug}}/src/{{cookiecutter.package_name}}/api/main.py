"""App factory: reads the model's description, builds the routes, loads the model at start."""

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .. import __version__
from ..predictor import META_FILE, ModelLoadError, Predictor
from ..schema import Schema
from .routes import build_router
from .schemas import record_model
from .settings import Settings

log = logging.getLogger(__name__)


def _read_meta(settings: Settings) -> dict:
    path = settings.model_dir / META_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"{path}: no trained model (run `dvc repro` first)") from None


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 that names each bad field without echoing the input (which may hold NaN)."""
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": errors})


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    meta = _read_meta(settings)
    schema = Schema.model_validate(meta["schema"])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.predictor = Predictor.load(settings.model_dir)
        log.info("loaded %s from %s", meta["champion"], settings.model_dir)
        yield
        app.state.predictor = None

    app = FastAPI(
        title=meta["project"]["name"],
        description=f"{meta['project']['description']}\n\nPredicts `{schema.target}` "
        f"({schema.problem_type}) with the trained champion, {meta['champion']}.",
        version=__version__,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.predictor = None
    metrics_file = settings.metrics_file
    app.state.test_metrics = (
        json.loads(metrics_file.read_text(encoding="utf-8")).get("test")
        if metrics_file.is_file()
        else None
    )
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.include_router(build_router(record_model(schema, meta.get("example"))))
    return app
