"""Request bodies: read within a size limit, parsed and validated in one step.

The prediction routes read their body themselves instead of declaring a body parameter:
pydantic validates the raw bytes straight into the request model (no intermediate Python
objects from `json.loads`), and an oversized body is refused before it is read whole. A
batch body is parsed first instead, to count and bound it (`batches.py`); bad input gets the
bounded 422 of `problems.py`. The
OpenAPI description of those bodies is added by `openapi_body`, and `OwnBodyRoute` calls
such a handler without FastAPI's per-request parameter machinery, which it does not use.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from pydantic_core import from_json
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from .problems import MAX_PROBLEMS, Problems, model_keys

# A model's keys plus MAX_PROBLEMS: the most keys an object is validated with (problems.py).
_MOST_KEYS: dict[type[BaseModel], int] = {}


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body; 413 past `limit` bytes, whether announced or streamed."""
    announced = request.headers.get("content-length")
    if announced is not None and announced.isdigit() and int(announced) > limit:
        raise HTTPException(413, f"body: {announced} bytes, the limit is {limit}")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPException(413, f"body: over {limit} bytes, the limit")
            chunks.append(chunk)
    except ClientDisconnect:  # gone, or cut off by the server's body timeout (protocol.py)
        raise HTTPException(408, "body: the client stopped sending it") from None
    return b"".join(chunks)


def require_json(request: Request) -> None:
    """415 unless the request says its body is JSON."""
    media = media_type(request)
    if not is_json(media):
        raise HTTPException(415, f"Content-Type: expected application/json, got {media!r}")


async def read_json(request: Request, limit: int, model: type[BaseModel]) -> BaseModel:
    """The body validated as `model`: 415 if it is not JSON, 422 naming the bad fields (the
    first MAX_PROBLEMS, and their count: `problems.py`)."""
    require_json(request)
    body = await read_body(request, limit)
    most = _MOST_KEYS.get(model)
    if most is None:
        most = _MOST_KEYS[model] = len(model_keys(model)) + MAX_PROBLEMS
    if body.count(b":") > most:  # perhaps an object with very many keys (a colon per key)
        return await request.app.state.workers.run(_keys_then_validate, body, model)
    return validate_json(body, model)


def validate_json(body: bytes, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        found = Problems()
        found.add_pydantic(exc)
    raise found.error()


def _keys_then_validate(body: bytes, model: type[BaseModel]) -> BaseModel:
    """A JSON object with more keys than `model` takes plus MAX_PROBLEMS is answered from its
    keys before pydantic sees it; any other body is validated (in a worker thread)."""
    try:
        data = from_json(body)
    except ValueError:
        data = None  # not JSON: pydantic says where
    found = Problems()
    found.add_unknown_keys(data, model_keys(model), ("body",))
    found.raise_if_any()
    return validate_json(body, model)


def openapi_body(schema_name: str, media: str = "application/json") -> dict[str, Any]:
    """`openapi_extra` for a route that reads its own body: the body is a `schema_name`."""
    return {
        "requestBody": {
            "required": True,
            "content": {media: {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
        }
    }


class OwnBodyRoute(APIRoute):
    """A route whose handler takes the request alone, reads its own body and returns a
    Response: it is called directly. FastAPI's per-request work (solving dependencies,
    building body and response models) has nothing to do for such a handler, yet costs about
    a tenth of a single-record /predict's server time. The route is documented in OpenAPI as
    any other. With dependencies (the API key check), FastAPI's own handler runs them first;
    give them to the route itself, not to `include_router`, which this check does not see.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        if self.dependant.dependencies:
            return super().get_route_handler()
        return self.endpoint
