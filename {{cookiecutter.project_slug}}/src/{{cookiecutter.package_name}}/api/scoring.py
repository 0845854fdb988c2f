"""The prediction routes: one record, a batch of records, a CSV table. They read and validate
their own bodies (`bodies.py`) and are called without FastAPI's per-request machinery."""

import io
from typing import Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel

from ..serving.predictor import Predictor
from .batches import BatchReader
from .bodies import media_type, openapi_body, read_body, read_json, require_json
from .deps import loaded_model
from .responses import errors, finite, json_answer, not_scorable
from .schemas import BatchPrediction, Prediction, batch_model
from .settings import Settings

CSV_TYPES = {"text/csv", "application/csv", "text/plain"}


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


def add_record_routes(
    scoring: APIRouter,
    record: type[BaseModel],
    settings: Settings,
    auth: list[Any],
    locked: tuple[int, ...],
) -> None:
    """/predict (one record) and /predict/batch (many), as JSON."""
    reader = BatchReader(record, batch_model(record), settings.max_batch_records)

    @scoring.post(
        "/predict",
        response_model=Prediction,
        dependencies=auth,
        openapi_extra=openapi_body("Record"),
        responses=errors(*locked, 413, 415, 422, 503),
    )
    async def predict(request: Request) -> Response:
        """Predict one record; keys are the table's column names, null means missing."""
        model = loaded_model(request)
        body = await read_json(request, settings.max_body_bytes, record)
        answer = await request.app.state.batcher.submit(tuple(body.__dict__.values()))
        if not finite(answer):
            raise not_scorable("body", answer)
        version = model.version
        answer["model_version"] = version  # each answer is a dict of its own
        return json_answer(answer, version)

    @scoring.post(
        "/predict/batch",
        response_model=BatchPrediction,
        dependencies=auth,
        openapi_extra=openapi_body("BatchRequest"),
        responses=errors(*locked, 413, 415, 422, 503),
    )
    async def predict_batch(request: Request) -> Response:
        """Predict many records at once: {"records": [...]}, answered in the same order."""
        model = loaded_model(request)
        require_json(request)
        body = await read_body(request, settings.max_batch_body_bytes)
        return await request.app.state.workers.run(_batch_answer, model, reader, body)


def _batch_answer(model: Predictor, reader: BatchReader, body: bytes) -> Response:
    """A batch body's answer: read, validated, scored and written (in a worker thread)."""
    rows = reader.rows(body)
    answers = model.predict_rows(rows) if rows else []
    for i, answer in enumerate(answers):
        if not finite(answer):
            raise not_scorable(f"records.{i}", answer)
    return json_answer({"predictions": answers, "model_version": model.version}, model.version)


def add_csv_route(
    scoring: APIRouter, settings: Settings, auth: list[Any], locked: tuple[int, ...]
) -> None:
    """/predict/csv: a table in, the table with prediction columns out."""

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
            **errors(*locked, 413, 415, 422, 503),
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
