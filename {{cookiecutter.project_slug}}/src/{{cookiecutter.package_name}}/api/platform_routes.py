"""The cloud platforms' routes, on top of the service's own (APP_PLATFORM, `platforms.py`).

- SageMaker: `GET /ping` is served by `/ready` (200 once the model is loaded and verified,
  else 503 with the reason); `POST /invocations` by `/predict/csv` when its body is CSV
  (`Content-Type: text/csv`, a table with its header), else by `/predict/batch`
  (`{"records": [...]}` as JSON). The same routes answer, so the same limits, API key,
  answers and errors apply.
- Vertex AI: `GET $AIP_HEALTH_ROUTE` is served by `/ready`; `POST $AIP_PREDICT_ROUTE` takes
  `{"instances": [...], "parameters": {...}}` (each instance a record as `/predict` takes it;
  parameters are accepted and unused) and answers `{"predictions": [...]}`, one answer per
  instance as `/predict/batch` gives them, the model version in the X-Model-Version header.

The platform's paths are mapped onto the service's routes by rewriting the request's path
before routing (`PlatformPaths`, an ASGI middleware), so no route is written twice and a
platform path that is also one of ours (AIP_HEALTH_ROUTE=/health) answers as the platform
expects. Bad input gets the service's own 4xx (415 for another Content-Type, 422 naming the
field, 413 past a limit), which both platforms pass back to the caller. None of these paths
is in the OpenAPI document.
"""

import os
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.types import ASGIApp, Receive, Scope, Send

from ..monitoring.writer import PredictionLog
from ..serving.predictor import Predictor
from . import logged
from .batches import BatchReader
from .bodies import OwnBodyRoute, read_body, require_json
from .deps import loaded_model, require_api_key
from .platforms import VertexRoutes
from .responses import json_answer
from .scoring import CSV_TYPES, batch_answers
from .settings import Settings

# (method, path, media type) -> the service's path that answers it, or None: not the platform's.
PathMap = Callable[[str, str, str], str | None]


class PlatformPaths:
    """Serves the platform's paths with the service's own routes (the path rewritten)."""

    def __init__(self, app: ASGIApp, path_map: PathMap) -> None:
        self.app, self.path_map = app, path_map

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            media = _media_type(scope)
            target = self.path_map(scope["method"], scope["path"], media)
            if target is not None:
                scope = {**scope, "path": target, "raw_path": target.encode()}
        await self.app(scope, receive, send)


def _media_type(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.decode("latin-1").split(";")[0].strip().lower()
    return ""


def sagemaker_paths(method: str, path: str, media: str) -> str | None:
    if method == "GET" and path == "/ping":
        return "/ready"
    if method == "POST" and path == "/invocations":
        return "/predict/csv" if media in CSV_TYPES else "/predict/batch"
    return None


def add_platform(app: FastAPI, record: type[BaseModel], settings: Settings) -> None:
    """The platform's paths (APP_PLATFORM); nothing without one. Call it before the service's
    own routes are included: a path both have is the platform's."""
    if settings.platform == "sagemaker":
        app.add_middleware(PlatformPaths, path_map=sagemaker_paths)
    elif settings.platform == "vertex":
        routes = VertexRoutes.read(os.environ)
        health = routes.health_route

        def vertex_paths(method: str, path: str, media: str) -> str | None:
            return "/ready" if method == "GET" and path == health else None

        app.add_middleware(PlatformPaths, path_map=vertex_paths)
        app.include_router(vertex_router(routes.predict_route, record, settings))


def vertex_model(record: type[BaseModel]) -> type[BaseModel]:
    """{"instances": [...], "parameters": {...}}; validation stops at the first bad instance."""
    instances = (list[record], Field(fail_fast=True))
    parameters = (dict[str, Any] | None, None)
    config = ConfigDict(extra="forbid")
    return create_model(
        "VertexRequest", __config__=config, instances=instances, parameters=parameters
    )


def vertex_router(path: str, record: type[BaseModel], settings: Settings) -> APIRouter:
    router = APIRouter(route_class=OwnBodyRoute)
    reader = BatchReader(record, vertex_model(record), settings.max_batch_records, "instances")
    auth = [Depends(require_api_key)] if settings.api_key else []

    @router.post(path, dependencies=auth, include_in_schema=False)
    async def vertex_predict(request: Request) -> Response:
        """Vertex AI's prediction route: instances in, predictions out, in the same order."""
        model = loaded_model(request)
        require_json(request)
        body = await read_body(request, settings.max_batch_body_bytes)
        rid, writer = logged.request_id(request), request.app.state.prediction_log
        return await request.app.state.workers.run(_vertex_answer, model, reader, body, rid, writer)

    return router


def _vertex_answer(
    model: Predictor, reader: BatchReader, body: bytes, rid: str, writer: PredictionLog | None
) -> Response:
    """Vertex AI's answer: {"predictions": [...]} alone (in a worker thread), logged."""
    answers = batch_answers(model, reader, body, rid, writer, route="vertex")
    return json_answer({"predictions": answers}, model.version, rid)
