"""What every route answers with: compact JSON, and the documented error responses."""

import math
from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel, Field
from pydantic_core import to_json

from .problems import InputProblems, Loc, refused


class Problem(BaseModel):
    detail: str | list[dict[str, Any]]
    count: int | None = Field(None, description="422: all the problems found (20 are listed)")


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {
        401: "X-API-Key missing or wrong (only when APP_API_KEY is set)",
        413: "Body or batch over the configured limit",
        415: "Wrong Content-Type",
        422: "Invalid input: the first 20 problems, each naming its field, and their count",
        503: "The model is not loaded (see /ready)",
    }
    return {code: {"model": Problem, "description": text[code]} for code in codes}


def json_answer(content: Any, version: str, request_id: str | None = None) -> Response:
    """Compact UTF-8 JSON, written by pydantic's serializer: several times faster than
    `json.dumps` for a prediction. Numbers must be finite (see `finite`): JSON has no NaN."""
    headers = {"X-Model-Version": version}
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    return Response(to_json(content), media_type="application/json", headers=headers)


def finite(answer: dict[str, Any]) -> bool:
    values = [answer["prediction"], *(answer.get("probabilities") or {}).values()]
    return all(math.isfinite(v) for v in values if isinstance(v, float))


def unscorable(answer: dict[str, Any]) -> str:
    """Why an answer with a value that is not finite is refused (its warnings as hints)."""
    hints = "; ".join(answer["warnings"]) or "no value was flagged"
    return f"the model's output is not a finite number for these values ({hints})"


def not_scorable(loc: Loc, answer: dict[str, Any]) -> InputProblems:
    return refused(loc, unscorable(answer), "not_scorable")
