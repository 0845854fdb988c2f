"""Route handlers. Built per app, because the request models come from the trained schema."""

import io
import math
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel
from pydantic_core import to_json

from ..serving.predictor import Predictor
from .bodies import OwnBodyRoute, media_type, openapi_body, read_body, read_json
from .deps import ModelDep, loaded_model, require_api_key
from .schemas import BatchPrediction, Prediction, batch_model
from .settings import Settings

STATIC = Path(__file__).parent / "static"
CSV_TYPES = {"text/csv", "application/csv", "text/plain"}


class Problem(BaseModel):
    detail: str | list[dict[str, Any]]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {
        401: "X-API-Key missing or wrong (only when APP_API_KEY is set)",
        413: "Body or batch over the configured limit",
        415: "Wrong Content-Type",
        422: "Invalid input: each problem names its field",
        503: "The model is not loaded (see /ready)",
    }
    return {code: {"model": Problem, "description": text[code]} for code in codes}


def _json(content: Any, version: str) -> Response:
    """Compact UTF-8 JSON, written by pydantic's serializer: several times faster than
    `json.dumps` for a prediction. Numbers must be finite (see `_finite`): JSON has no NaN."""
    return Response(
        to_json(content), media_type="application/json", headers={"X-Model-Version": version}
    )


def _finite(answer: dict[str, Any]) -> bool:
    values = [answer["prediction"], *(answer.get("probabilities") or {}).values()]
    return all(math.isfinite(v) for v in values if isinstance(v, float))


def _not_scorable(where: str, answer: dict[str, Any]) -> HTTPException:
    hints = "; ".join(answer["warnings"]) or "no value was flagged"
    return HTTPException(
        422, f"{where}: the model's output is not a finite number for these values ({hints})"
    )


def _csv_answer(model: Predictor, body: bytes, limit: int) -> str:
    try:
        frame = pd.read_csv(io.BytesIO(body), encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(422, f"body: not a readable CSV table: {exc}") from None
    missing = [name for name in model.schema.features if name not in frame.columns]
    if missing:
        raise HTTPException(422, f"columns missing from the CSV: {', '.join(missing)}")
    if len(frame) > limit:
        raise HTTPException(413, f"body: {len(frame)} rows, the limit is {limit}")
    return model.with_predictions(frame).to_csv(index=False)


def build_router(record: type[BaseModel], settings: Settings) -> APIRouter:
    batch = batch_model(record)
    auth = [Depends(require_api_key)] if settings.api_key else []
    locked = (401,) if settings.api_key else ()
    router = APIRouter()
    # The prediction routes read and validate their own bodies (see `bodies.py`).
    scoring = APIRouter(route_class=OwnBodyRoute)

    @router.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @router.get("/health")
    async def health() -> dict[str, str]:
        """Liveness: 200 whenever the process answers, loaded model or not."""
        return {"status": "ok"}

    @router.get("/ready", responses=_errors(503))
    async def ready(request: Request) -> Any:
        """Readiness: 200 once the model is loaded and its SHA-256 verified, else 503."""
        model = request.app.state.predictor
        if model is None:
            detail = request.app.state.load_error or "the model is not loaded yet"
            return JSONResponse({"detail": detail}, status_code=503)
        return {"status": "ready", "model_version": model.version, "runtime": model.runtime}

    @router.get("/metadata", dependencies=auth, responses=_errors(*locked, 503))
    async def metadata(request: Request, model: ModelDep) -> dict[str, Any]:
        """The model: name, version, training date, commit, metrics and the feature schema."""
        meta, state = model.meta, request.app.state
        registry = state.registry or {}
        return {
            "name": meta.project.name,
            "registered_model": registry.get("model"),
            "registered_version": registry.get("version"),
            "model": meta.champion,
            "model_version": model.version,
            "runtime": model.runtime,
            "problem_type": meta.problem_type,
            "target": meta.target,
            "classes": meta.classes,
            "threshold": meta.threshold if meta.classes else None,
            "trained_at": meta.trained_at,
            "git_commit": meta.git_commit,
            "cv": {name: score.model_dump() for name, score in meta.cv.items()},
            "test_metrics": state.test_metrics,
            "parity": model.manifest.parity if model.manifest else None,
            "schema": meta.table_schema.model_dump(),
            "example": meta.example,
        }

    @scoring.post(
        "/predict",
        response_model=Prediction,
        dependencies=auth,
        openapi_extra=openapi_body("Record"),
        responses=_errors(*locked, 413, 415, 422, 503),
    )
    async def predict(request: Request) -> Response:
        """Predict one record; keys are the table's column names, null means missing."""
        model = loaded_model(request)
        body = await read_json(request, settings.max_body_bytes, record)
        answer = await request.app.state.batcher.submit(tuple(body.__dict__.values()))
        if not _finite(answer):
            raise _not_scorable("body", answer)
        version = model.version
        answer["model_version"] = version  # each answer is a dict of its own
        return _json(answer, version)

    @scoring.post(
        "/predict/batch",
        response_model=BatchPrediction,
        dependencies=auth,
        openapi_extra=openapi_body("BatchRequest"),
        responses=_errors(*locked, 413, 415, 422, 503),
    )
    async def predict_batch(request: Request) -> Response:
        """Predict many records at once: {"records": [...]}, answered in the same order."""
        model = loaded_model(request)
        body = await read_json(request, settings.max_batch_body_bytes, batch)
        limit = settings.max_batch_records
        if len(body.records) > limit:
            raise HTTPException(413, f"records: {len(body.records)} records, the limit is {limit}")
        rows = [tuple(item.__dict__.values()) for item in body.records]
        answers = model.predict_rows(rows) if rows else []
        for i, answer in enumerate(answers):
            if not _finite(answer):
                raise _not_scorable(f"records.{i}", answer)
        return _json({"predictions": answers, "model_version": model.version}, model.version)

    @scoring.post(
        "/predict/csv",
        dependencies=auth,
        response_class=Response,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        },
        responses={
            200: {"content": {"text/csv": {}}, "description": "The table with predictions added"},
            **_errors(*locked, 413, 415, 422, 503),
        },
    )
    async def predict_csv(request: Request) -> Response:
        """Upload a CSV table (one column per feature); get it back with prediction columns."""
        model = loaded_model(request)
        media = media_type(request)
        if media not in CSV_TYPES:
            raise HTTPException(415, f"Content-Type: expected text/csv, got {media!r}")
        body = await read_body(request, settings.max_batch_body_bytes)
        text = _csv_answer(model, body, settings.max_batch_records)
        headers = {
            "Content-Disposition": 'attachment; filename="predictions.csv"',
            "X-Model-Version": model.version,
        }
        return Response(text, media_type="text/csv", headers=headers)

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
        return _json(CONSTANT, model.version)
