"""The cloud platforms' routes, on top of the service's own (APP_PLATFORM, `platforms.py`).

- SageMaker: `GET /ping` answers as `/ready` does (200 once the model is loaded and verified,
  else 503); `POST /invocations` takes what `/predict/batch` takes (`{"records": [...]}` as
  JSON) or what `/predict/csv` takes (a CSV table with its header, `Content-Type: text/csv`),
  and answers as that route does: the same handler runs.
- Vertex AI: `GET $AIP_HEALTH_ROUTE` answers as `/ready`; `POST $AIP_PREDICT_ROUTE` takes
  `{"instances": [...], "parameters": {...}}` (each instance a record as `/predict` takes it;
  parameters are accepted and unused) and answers `{"predictions": [...]}`, one answer per
  instance as `/predict/batch` gives them, the model version in the X-Model-Version header.

Bad input gets the service's own 4xx (415 for another Content-Type, 422 naming the field,
413 past a limit), which both platforms pass back to the caller. The routes come before the
service's own, so a platform path that is also one of ours (AIP_HEALTH_ROUTE=/health) answers
as the platform expects. They are left out of the OpenAPI document.
"""

import os
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, create_model

from ..serving.predictor import Predictor
from .batches import BatchReader
from .bodies import OwnBodyRoute, is_json, media_type, read_body, require_json
from .deps import loaded_model, require_api_key
from .platforms import VertexRoutes
from .responses import json_answer
from .scoring import CSV_TYPES, batch_answers
from .settings import Settings

Endpoint = Callable[[Request], Coroutine[Any, Any, Any]]


def platform_router(built: APIRouter, record: type[BaseModel], settings: Settings) -> APIRouter:
    """The platform's routes, using the handlers of the service's own routes in `built`."""
    router = APIRouter(route_class=OwnBodyRoute)
    if settings.platform == "none":
        return router
    endpoints = {
        route.path: route.endpoint for route in built.routes if isinstance(route, APIRoute)
    }
    auth = [Depends(require_api_key)] if settings.api_key else []
    if settings.platform == "sagemaker":
        _add_readiness(router, "/ping", endpoints["/ready"])
        _add_invocations(router, endpoints["/predict/batch"], endpoints["/predict/csv"], auth)
    else:
        routes = VertexRoutes.read(os.environ)
        _add_readiness(router, routes.health_route, endpoints["/ready"])
        _add_vertex_predict(router, routes.predict_route, record, settings, auth)
    return router


def _add_readiness(router: APIRouter, path: str, ready: Endpoint) -> None:
    """The platform's health check: `/ready`'s handler, as an ordinary route (no body)."""
    router.add_api_route(
        path, ready, methods=["GET"], include_in_schema=False, route_class_override=APIRoute
    )


def _add_invocations(router: APIRouter, batch: Endpoint, table: Endpoint, auth: list[Any]) -> None:
    @router.post("/invocations", dependencies=auth, include_in_schema=False)
    async def invocations(request: Request) -> Response:
        """SageMaker's scoring route: JSON as /predict/batch takes it, or a CSV table."""
        media = media_type(request)
        if media in CSV_TYPES:
            return await table(request)
        if not is_json(media):
            raise HTTPException(
                415, f"Content-Type: expected application/json or text/csv, got {media!r}"
            )
        return await batch(request)


def vertex_model(record: type[BaseModel]) -> type[BaseModel]:
    """{"instances": [...], "parameters": {...}}; validation stops at the first bad instance."""
    instances = (list[record], Field(fail_fast=True))
    parameters = (dict[str, Any] | None, None)
    config = ConfigDict(extra="forbid")
    return create_model(
        "VertexRequest", __config__=config, instances=instances, parameters=parameters
    )


def _add_vertex_predict(
    router: APIRouter, path: str, record: type[BaseModel], settings: Settings, auth: list[Any]
) -> None:
    reader = BatchReader(record, vertex_model(record), settings.max_batch_records, "instances")

    @router.post(path, dependencies=auth, include_in_schema=False)
    async def vertex_predict(request: Request) -> Response:
        """Vertex AI's prediction route: instances in, predictions out, in the same order."""
        model = loaded_model(request)
        require_json(request)
        body = await read_body(request, settings.max_batch_body_bytes)
        return await request.app.state.workers.run(_vertex_answer, model, reader, body)


def _vertex_answer(model: Predictor, reader: BatchReader, body: bytes) -> Response:
    """Vertex AI's answer: {"predictions": [...]} alone (in a worker thread)."""
    return json_answer({"predictions": batch_answers(model, reader, body)}, model.version)
