"""The prediction routes: one record, a batch of records, a CSV table. They read and validate
their own bodies (`bodies.py`) and are called without FastAPI's per-request machinery."""

import threading
from functools import partial
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, TypeAdapter

from ..serving.predictor import Predictor
from .batches import BatchReader
from .bodies import media_type, openapi_body, read_body, read_json, require_json
from .csv_scoring import score_table
from .csv_table import CsvLimits
from .deps import loaded_model
from .responses import errors, finite, json_answer, not_scorable
from .schemas import BatchPrediction, Prediction, batch_model
from .settings import Settings

CSV_TYPES = {"text/csv", "application/csv", "text/plain"}


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
            raise not_scorable(("body",), answer)
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
    answers = batch_answers(model, reader, body)
    return json_answer({"predictions": answers, "model_version": model.version}, model.version)


def batch_answers(model: Predictor, reader: BatchReader, body: bytes) -> list[dict[str, Any]]:
    """A batch body's records, read, validated and scored: one answer each, in order."""
    rows = reader.rows(body)
    answers = model.predict_rows(rows) if rows else []
    for i, answer in enumerate(answers):
        if not finite(answer):
            raise not_scorable(("body", reader.field, i), answer)
    return answers


def add_csv_route(
    scoring: APIRouter,
    record: type[BaseModel],
    settings: Settings,
    auth: list[Any],
    locked: tuple[int, ...],
) -> None:
    """/predict/csv: a table in, the table with prediction and warnings columns out. The table
    is read, validated and scored in a worker thread (`csv_scoring`, `workers`)."""
    rows = TypeAdapter(list[record])

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
        """Upload a CSV table (one column per feature, others kept); get it back with
        prediction, probability and warnings columns."""
        model = loaded_model(request)
        media = media_type(request)
        if media not in CSV_TYPES:
            raise HTTPException(415, f"Content-Type: expected text/csv, got {media!r}")
        body = await read_body(request, settings.max_batch_body_bytes)
        schema = model.schema
        columns = max(settings.max_csv_columns, len(schema.columns) + len(schema.dropped))
        limits = CsvLimits(columns, settings.max_batch_records)
        escape = settings.csv_escape_formulas
        stop = threading.Event()  # set if this wait is cancelled: the thread stops early
        work = partial(score_table, body, model, rows, limits, escape, stop)
        try:
            text = await request.app.state.workers.run(work)
        finally:
            stop.set()
        headers = {
            "Content-Disposition": 'attachment; filename="predictions.csv"',
            "X-Model-Version": model.version,
        }
        return Response(text, media_type="text/csv", headers=headers)
