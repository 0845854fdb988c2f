"""The prediction routes: one record, a batch of records, a CSV table. They read and validate
their own bodies (`bodies.py`) and are called without FastAPI's per-request machinery."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, TypeAdapter

from .bodies import media_type, openapi_body, read_body, read_json
from .csv_scoring import score_table
from .csv_table import CsvLimits
from .deps import loaded_model
from .responses import errors, finite, json_answer, not_scorable
from .schemas import BatchPrediction, Prediction, batch_model
from .settings import Settings

CSV_TYPES = {"text/csv", "application/csv", "text/plain"}
CSV_THREADS = 1  # tables scored at once; others wait their turn (each is bounded: csv_table)


def add_record_routes(
    scoring: APIRouter,
    record: type[BaseModel],
    settings: Settings,
    auth: list[Any],
    locked: tuple[int, ...],
) -> None:
    """/predict (one record) and /predict/batch (many), as JSON."""
    batch = batch_model(record)

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
        body = await read_json(request, settings.max_batch_body_bytes, batch)
        limit = settings.max_batch_records
        if len(body.records) > limit:
            raise HTTPException(413, f"records: {len(body.records)} records, the limit is {limit}")
        rows = [tuple(item.__dict__.values()) for item in body.records]
        answers = model.predict_rows(rows) if rows else []
        for i, answer in enumerate(answers):
            if not finite(answer):
                raise not_scorable(f"records.{i}", answer)
        return json_answer({"predictions": answers, "model_version": model.version}, model.version)


def add_csv_route(
    scoring: APIRouter,
    record: type[BaseModel],
    settings: Settings,
    auth: list[Any],
    locked: tuple[int, ...],
) -> None:
    """/predict/csv: a table in, the table with prediction and warnings columns out. The table
    is read, validated and scored in a worker thread (`csv_scoring`)."""
    rows = TypeAdapter(list[record])
    threads = ThreadPoolExecutor(CSV_THREADS, thread_name_prefix="csv")

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
            text = await asyncio.get_running_loop().run_in_executor(threads, work)
        finally:
            stop.set()
        if isinstance(text, JSONResponse):
            return text
        headers = {
            "Content-Disposition": 'attachment; filename="predictions.csv"',
            "X-Model-Version": model.version,
        }
        return Response(text, media_type="text/csv", headers=headers)
