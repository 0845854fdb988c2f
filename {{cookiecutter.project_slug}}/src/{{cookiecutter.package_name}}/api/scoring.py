"""The prediction routes: one record, a batch of records, a CSV table. They read and validate
their own bodies (`bodies.py`) and are called without FastAPI's per-request machinery."""

import threading
from functools import partial
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, TypeAdapter

from ..monitoring.writer import PredictionLog
from ..serving.predictor import Predictor
from . import logged
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
        row = tuple(body.__dict__.values())
        answer = await request.app.state.batcher.submit(row)
        if not finite(answer):
            raise not_scorable(("body",), answer)
        version, rid = model.version, logged.request_id(request)
        answer["model_version"] = version  # each answer is a dict of its own
        answer["request_id"] = rid
        logged.record(request, "predict", rid, version, (row,), (answer,))
        return json_answer(answer, version, rid)

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
        rid, writer = logged.request_id(request), request.app.state.prediction_log
        return await request.app.state.workers.run(_batch_answer, model, reader, body, rid, writer)


def _batch_answer(
    model: Predictor, reader: BatchReader, body: bytes, rid: str, writer: PredictionLog | None
) -> Response:
    """A batch body's answer: read, validated, scored, logged and written (in a worker
    thread)."""
    answers = batch_answers(model, reader, body, rid, writer)
    content = {"predictions": answers, "model_version": model.version, "request_id": rid}
    return json_answer(content, model.version, rid)


def batch_answers(
    model: Predictor,
    reader: BatchReader,
    body: bytes,
    rid: str,
    writer: PredictionLog | None,
    route: str = "batch",
) -> list[dict[str, Any]]:
    """A batch body's records, read, validated, scored and logged: one answer each, in order."""
    rows = reader.rows(body)
    answers = model.predict_rows(rows) if rows else []
    for i, answer in enumerate(answers):
        if not finite(answer):
            raise not_scorable(("body", reader.field, i), answer)
    if writer is not None and rows:
        writer.add(route, rid, model.version, rows, answers)
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
        scored: list[tuple[list, list]] = []  # each chunk's rows and answers, for the log
        work = partial(score_table, body, model, rows, limits, escape, stop, scored)
        try:
            text = await request.app.state.workers.run(work)
        finally:
            stop.set()
        rid, version = logged.request_id(request), model.version
        values = [row for chunk, _ in scored for row in chunk]
        answers = [answer for _, chunk in scored for answer in chunk]
        logged.record(request, "csv", rid, version, values, answers)
        headers = {
            "Content-Disposition": 'attachment; filename="predictions.csv"',
            "X-Model-Version": version,
            logged.HEADER: rid,
        }
        return Response(text, media_type="text/csv", headers=headers)
