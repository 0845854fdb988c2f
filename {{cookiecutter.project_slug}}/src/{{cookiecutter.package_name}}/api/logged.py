"""What the prediction routes do for the prediction log: a request id, and the hand-over.

Every prediction request gets an id: the client's own `X-Request-ID` when it is a plain
token (so a caller can use its own order or case number), else a new random one. It comes back
in the `X-Request-ID` header and in the JSON answer, and keys the request's rows in the log
(`monitoring/`), where the true outcomes are joined to them later. The rows go to the log's
writer thread, which writes them off the request path.
"""

from __future__ import annotations

import logging
import re
import secrets
import sqlite3
from collections.abc import Sequence
from typing import Any

from fastapi import Request

from ..monitoring.writer import LogSettings, PredictionLog
from ..serving.predictor import Predictor

log = logging.getLogger(__name__)

HEADER = "X-Request-ID"
_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id(request: Request) -> str:
    """The client's X-Request-ID if it is a plain token of at most 64 characters, else new."""
    given = request.headers.get(HEADER)
    if given is not None and _TOKEN.fullmatch(given):
        return given
    return secrets.token_hex(16)


def record(
    request: Request,
    route: str,
    rid: str,
    version: str,
    rows: Sequence[Sequence[Any]],
    answers: Sequence[dict[str, Any]],
) -> None:
    """Hand a request's scored rows to the log's writer (nothing when the log is off)."""
    writer = request.app.state.prediction_log
    if writer is not None:
        writer.add(route, rid, version, rows, answers)


def open_log(settings: LogSettings, predictor: Predictor | None) -> PredictionLog | None:
    """The log's writer for the loaded model; None when it is switched off or cannot be
    opened (then the service serves all the same, and says so)."""
    if not settings.log_predictions or predictor is None:
        return None
    schema = predictor.schema
    names = [*schema.features, *schema.dropped]
    classes = predictor.class_names if predictor.classes is not None else None
    try:
        writer = PredictionLog(settings, names, classes)
    except (OSError, sqlite3.Error) as exc:
        log.error("the prediction log is off: %s: %s", settings.prediction_log, exc)
        return None
    log.info(
        "logging predictions to %s (flushed every %g s)",
        settings.prediction_log,
        settings.log_flush_seconds,
    )
    return writer
