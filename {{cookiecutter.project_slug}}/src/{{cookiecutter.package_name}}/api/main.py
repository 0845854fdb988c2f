"""App factory: request models from the model's schema, the model loaded once at start-up."""

import gc
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from ..__init__ import __version__
from ..serving.artifacts import META_FILE, ModelLoadError
from ..serving.metadata import ModelMeta
from ..serving.predictor import Predictor
from .batching import MicroBatcher
from .docs import add_docs
from .headers import add_security_headers
from .logged import open_log
from .platform_routes import add_platform
from .problems import validation_error
from .routes import build_router
from .schemas import batch_model, record_model
from .settings import Settings
from .status import STATIC
from .workers import Workers

log = logging.getLogger(__name__)


def _read_json(path: Path) -> dict[str, Any] | None:
    """A report /metadata shows; None when it is missing, or unreadable (with a warning)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("%s: not shown by /metadata: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


def _read_meta(settings: Settings) -> ModelMeta:
    path = settings.model_dir / META_FILE
    if not path.is_file():
        raise ModelLoadError(f"{path}: no trained model (run `dvc repro`)")
    return ModelMeta.read(path)


def _load(app: FastAPI, settings: Settings, record: type[BaseModel]) -> None:
    """Load and verify the model; on any failure stay up, not ready, with the reason in /ready."""
    started = time.perf_counter()
    try:
        predictor = _loaded(settings, record)
    except ModelLoadError as exc:
        app.state.load_error = str(exc)
        log.error("not ready: %s", exc)
        return
    except Exception as exc:  # a failure nobody foresaw: still up, its reason in /ready
        app.state.load_error = f"the model could not be loaded: {type(exc).__name__}: {exc}"
        log.exception("not ready: %s", app.state.load_error)
        return
    app.state.predictor = predictor
    app.state.batcher = MicroBatcher(predictor.predict_rows)
    # Everything loaded so far lives as long as the process: keep it out of the garbage
    # collector's full passes, which otherwise scan it all every few thousand requests and
    # stall the event loop for tens of milliseconds (p99 at 16 connections: 50 ms -> 7 ms).
    gc.collect()
    gc.freeze()
    log.info(
        "ready in %.2f s: %s, %s runtime, version %s",
        time.perf_counter() - started,
        predictor.meta.champion,
        predictor.runtime,
        predictor.version,
    )


def _loaded(settings: Settings, record: type[BaseModel]) -> Predictor:
    """The verified model, having answered the example record once (the first call allocates
    ONNX Runtime's buffers: not on a user's request). A model that cannot answer it is not
    ready: ModelLoadError."""
    predictor = Predictor.load(settings.model_dir, runtime=settings.runtime)
    example = predictor.meta.example
    if example:
        try:
            row = tuple(record.model_validate(example).__dict__.values())
        except ValidationError:
            log.warning("the example record in %s does not fit the schema", META_FILE)
            return predictor
        try:
            predictor.predict_rows([row])
        except Exception as exc:
            raise ModelLoadError(
                f"{settings.model_dir}: the model fails on the example record in {META_FILE}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    return predictor


def _openapi(app: FastAPI, bodies: list[type[BaseModel]]) -> Callable[[], dict[str, Any]]:
    """OpenAPI with the request models of the routes that read their own bodies."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            for model in bodies:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(schema.pop("$defs", {}))
                schemas[model.__name__] = schema
            app.openapi_schema = spec
        return app.openapi_schema

    return openapi


def _described(settings: Settings) -> tuple[type[BaseModel], str, str]:
    """(request model, title, description) from model.json. When it cannot be read the app
    is made all the same (/health 200, /ready 503 with the reason, from `_load`): its
    prediction routes answer 503 before reading a body, so their records stay open."""
    try:
        meta = _read_meta(settings)
    except ModelLoadError:
        record = create_model("Record", __config__=ConfigDict(extra="allow"))
        return record, "Prediction service", "No model is loaded: see [/ready](/ready)."
    schema = meta.table_schema
    description = (
        f"{meta.project.description}\n\nPredicts `{schema.target}` ({schema.problem_type}) "
        f"with the trained champion, {meta.champion}. Try it at [/](/)."
    )
    record = record_model(schema, meta.example, public=settings.public_schema)
    return record, meta.project.name, description


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    record, title, description = _described(settings)
    if settings.api_key is None:
        log.warning(
            "APP_API_KEY is not set: every route, /predict and /metadata included, answers "
            "anyone who can reach this port"
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.workers = Workers(settings.scoring_threads)
        _load(app, settings, record)
        app.state.prediction_log = open_log(settings, app.state.predictor)
        yield
        app.state.predictor = None
        app.state.workers.close()
        if app.state.prediction_log is not None:
            app.state.prediction_log.close()  # writes what is pending

    app = FastAPI(
        title=title,
        description=description,
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served by `add_docs`, without a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.predictor = None
    app.state.batcher = None
    app.state.load_error = None
    app.state.prediction_log = None
    app.state.test_metrics = (_read_json(settings.metrics_file) or {}).get("test")
    app.state.registry = _read_json(settings.registry_file)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key"],
            expose_headers=["X-Model-Version", "X-Request-ID"],
        )
    app.add_exception_handler(RequestValidationError, validation_error)
    add_platform(app, record, settings)  # first: a path the platform shares with us is its
    app.include_router(build_router(record, settings))
    add_docs(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    add_security_headers(app)
    app.openapi = _openapi(app, [record, batch_model(record)])
    return app
