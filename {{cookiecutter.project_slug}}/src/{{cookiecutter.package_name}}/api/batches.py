"""A /predict/batch body: its records counted before it is parsed, then checked and validated.

Each step bounds the work of the next, so a hostile body costs no more than a large valid one
(it runs in a worker thread, `workers.py`):

1. Count. A record is a JSON object, so a body with at most `limit` + 1 "{" (the outer object
   and the records) holds at most `limit` records: one pass over the bytes. With more, only
   the body up to the (limit + 2)-th "{" is parsed: more than `limit` records there is a 413
   before the rest is read; otherwise (braces inside text) the whole body is parsed and its
   records counted. pydantic's own `max_length` would not do: measured, it validates every
   record of a valid list before it refuses its length (60,000 records: 1.2 s).
2. Parse, with pydantic's JSON parser (NaN and Infinity refused, as in a record).
3. Keys. An object with more keys than its model takes plus MAX_PROBLEMS is answered from its
   keys alone (`problems.py`: pydantic's errors for it would cost keys x missing fields).
4. Validate the parsed records in one call (pydantic's Python mode: the same rules and
   results as for JSON bytes), stopping at the first invalid record; only then is each record
   validated alone, to list the first problems and count them all.
"""

import re
from itertools import islice
from typing import Any

from fastapi import HTTPException
from pydantic import BaseModel, ValidationError
from pydantic_core import from_json

from .problems import Problems, model_keys

_OPEN = re.compile(rb"\{")


class BatchReader:
    """Rows (field values in schema order) from a body {"records": [...]} of `record`s; the
    list's key is `field` ("instances" for Vertex AI's bodies)."""

    def __init__(
        self, record: type[BaseModel], batch: type[BaseModel], limit: int, field: str = "records"
    ) -> None:
        self.record, self.batch, self.limit, self.field = record, batch, limit, field
        self.keys = model_keys(record)
        self.top_keys = model_keys(batch)

    def rows(self, body: bytes) -> list[tuple[Any, ...]]:
        self.count(body)
        data = self.parse(body)
        self.check_keys(data)
        try:
            validated = self.batch.model_validate(data)
        except ValidationError as exc:
            raise self.problems(exc, data).error() from None
        return [tuple(item.__dict__.values()) for item in getattr(validated, self.field)]

    def count(self, body: bytes) -> None:
        """413 when the body holds more than `limit` records, found before it is parsed whole."""
        limit = self.limit
        if body.count(b"{") <= limit + 1:
            return
        end = next(islice(_OPEN.finditer(body), limit + 1, None)).end()
        try:  # up to the (limit + 2)-th "{": a record more than the limit, if none is in text
            head = from_json(body[:end], allow_partial=True)
        except ValueError:
            return  # not JSON: `parse` says where
        self.refuse_over_limit(head)

    def refuse_over_limit(self, data: Any) -> None:
        if len(_records(data, self.field) or ()) > self.limit:
            raise HTTPException(
                413, f"{self.field}: more than {self.limit} records, the limit is {self.limit}"
            )

    def parse(self, body: bytes) -> Any:
        """The body as Python values; a 422 naming the place where it is not JSON."""
        try:
            data = from_json(body, allow_inf_nan=False)
        except ValueError as exc:
            found = Problems()
            found.add(("body",), f"Invalid JSON: {exc}", "json_invalid")
            raise found.error() from None
        self.refuse_over_limit(data)
        return data

    def check_keys(self, data: Any) -> None:
        found = Problems()
        found.add_unknown_keys(data, self.top_keys, ("body",))
        for i, item in enumerate(_records(data, self.field) or ()):
            found.add_unknown_keys(item, self.keys, ("body", self.field, i))
        found.raise_if_any()

    def problems(self, exc: ValidationError, data: Any) -> Problems:
        """The body's problems: those outside the records as pydantic found them, then each
        record's, validated alone (pydantic stopped at the first invalid one)."""
        found = Problems()
        records = _records(data, self.field)
        if records is None:
            found.add_pydantic(exc)
            return found
        # Few: the outer object's keys are bounded (`check_keys`), pydantic stopped early.
        for error in exc.errors(include_url=False, include_input=False, include_context=False):
            if error["loc"][:1] != (self.field,):
                found.add(("body", *error["loc"]), error["msg"], error["type"])
        for i, item in enumerate(records):
            try:
                self.record.model_validate(item)
            except ValidationError as error:
                found.add_pydantic(error, ("body", self.field, i))
        return found


def _records(data: Any, field: str) -> list[Any] | None:
    records = data.get(field) if isinstance(data, dict) else None
    return records if isinstance(records, list) else None
