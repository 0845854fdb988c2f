"""Dependencies handed to the route handlers: the loaded model, the API key check."""

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from ..serving.predictor import Predictor

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def loaded_model(request: Request) -> Predictor:
    """The served model; 503 (with the reason) until it is loaded and verified."""
    predictor = request.app.state.predictor
    if predictor is None:
        reason = request.app.state.load_error or "the model is not loaded yet"
        raise HTTPException(status_code=503, detail=reason)
    return predictor


async def get_predictor(request: Request) -> Predictor:
    # async: a plain `def` dependency would run in a thread pool on every request.
    return loaded_model(request)


async def require_api_key(
    request: Request, key: Annotated[str | None, Security(api_key_header)]
) -> None:
    """401 unless X-API-Key matches APP_API_KEY (compared in constant time)."""
    expected = request.app.state.settings.api_key
    if expected is None:
        return
    if key is None or not hmac.compare_digest(
        key.encode("utf-8"), expected.get_secret_value().encode("utf-8")
    ):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong X-API-Key header",
            headers={"WWW-Authenticate": "APIKey"},
        )


ModelDep = Annotated[Predictor, Depends(get_predictor)]
