"""The service's routes, built per app: the request models come from the trained schema."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel

from .bodies import OwnBodyRoute, read_json
from .deps import loaded_model, require_api_key
from .responses import json_answer
from .schemas import Prediction
from .scoring import add_csv_route, add_record_routes
from .settings import Settings
from .status import add_status_routes


def build_router(record: type[BaseModel], settings: Settings) -> APIRouter:
    auth = [Depends(require_api_key)] if settings.api_key else []
    locked = (401,) if settings.api_key else ()
    router = APIRouter()
    add_status_routes(router, auth, locked)
    # The prediction routes read and validate their own bodies (see `bodies.py`).
    scoring = APIRouter(route_class=OwnBodyRoute)
    add_record_routes(scoring, record, settings, auth, locked)
    add_csv_route(scoring, record, settings, auth, locked)
    if settings.benchmark:
        _add_benchmark_routes(router, scoring, record, settings)
    router.include_router(scoring)
    return router


CONSTANT = {"prediction": 0, "probabilities": None, "warnings": [], "model_version": "constant"}


def _add_benchmark_routes(
    router: APIRouter, scoring: APIRouter, record: type[BaseModel], settings: Settings
) -> None:
    """Constant answers after validating the same request model: the framework's ceiling."""

    @router.post("/bench/framework", response_model=Prediction, include_in_schema=False)
    async def framework(body: record) -> dict[str, Any]:  # type: ignore[valid-type]
        """FastAPI's own way: a declared body parameter and a response model."""
        return CONSTANT

    @scoring.post("/bench/fastpath", include_in_schema=False)
    async def fastpath(request: Request) -> Response:
        """The /predict request path (read, validate, serialise) without the model."""
        model = loaded_model(request)
        body = await read_json(request, settings.max_body_bytes, record)
        tuple(body.__dict__.values())
        return json_answer(CONSTANT, model.version)
