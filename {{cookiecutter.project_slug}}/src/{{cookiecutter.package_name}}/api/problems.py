"""Bad input answered in one bounded shape: the first problems found, and how many there are.

Every route answers invalid input with a 422 of the same shape,
`{"detail": [{"loc": [...], "msg": "...", "type": "..."}, ...], "count": n}`: at most
MAX_PROBLEMS problems, each location part and message cut to MAX_TEXT characters, and `count`
the number of problems found in all. So the answer stays small whatever the input: ten
thousand empty records, or a record with a hundred thousand unknown keys.

A route gathers what it finds in a `Problems` and raises it as `InputProblems`; FastAPI's own
`RequestValidationError` is answered the same way.

Work is bounded before pydantic runs, too: pydantic reports every unknown key of an object,
and each missing field's error holds the whole object, so an object with very many keys
costs memory in proportion to keys times missing fields. An object with more keys than its
model has fields plus MAX_PROBLEMS is answered from its keys alone (`Problems.add_unknown_keys`).
"""

from collections.abc import Callable, Collection, Sequence
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

MAX_PROBLEMS = 20
MAX_TEXT = 200  # characters of a location part, message or type shown
Loc = Sequence[str | int]
EXTRA = "Extra inputs are not permitted"  # pydantic's words for an unknown key


def problem(loc: Loc, msg: str, kind: str) -> dict[str, Any]:
    """One problem as answered: where (`loc`, from "body" down), what, and its type."""
    return {"loc": [_cut(part) for part in loc], "msg": _cut(msg), "type": _cut(kind)}


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[: MAX_TEXT - 1] + "…"
    return value


class InputProblems(RequestValidationError):
    """Raised for bad input: the problems to show (at most MAX_PROBLEMS) and their count."""

    def __init__(self, shown: Sequence[dict[str, Any]], count: int) -> None:
        super().__init__(list(shown[:MAX_PROBLEMS]))
        self.count = count


def refused(loc: Loc, msg: str, kind: str) -> InputProblems:
    """A 422 of one problem, for input that cannot be read on (a ragged CSV row, say)."""
    return InputProblems([problem(loc, msg, kind)], 1)


class Problems:
    """Problems gathered while checking input: the first MAX_PROBLEMS kept, all counted.

    `add` one problem, `add_pydantic` a ValidationError's, `add_unknown_keys` an oversized
    object's; `raise_if_any` then raises them (`error()`), answered as a bounded 422.
    """

    def __init__(self) -> None:
        self.shown: list[dict[str, Any]] = []
        self.count = 0

    def add(self, loc: Loc, msg: str, kind: str) -> None:
        self.count += 1
        if len(self.shown) < MAX_PROBLEMS:
            self.shown.append(problem(loc, msg, kind))

    def add_pydantic(
        self,
        exc: ValidationError,
        prefix: Loc = ("body",),
        locate: Callable[[Loc], Loc] | None = None,
    ) -> None:
        """pydantic's errors under `prefix` (or where `locate` puts each one's location),
        without the input (which may hold NaN). Building them costs time per error: bound the
        keys first (`add_unknown_keys`)."""
        room = MAX_PROBLEMS - len(self.shown)
        if room > 0:
            errors = exc.errors(include_url=False, include_input=False, include_context=False)
            for error in errors[:room]:
                loc = locate(error["loc"]) if locate else (*prefix, *error["loc"])
                self.shown.append(problem(loc, error["msg"], error["type"]))
        self.count += exc.error_count()

    def add_unknown_keys(self, data: Any, allowed: Collection[str], loc: Loc) -> bool:
        """True, with its unknown keys added, for an object with more keys than `allowed`
        plus MAX_PROBLEMS (so with more unknown keys than are shown); else False."""
        if not isinstance(data, dict) or len(data) <= len(allowed) + MAX_PROBLEMS:
            return False
        unknown = [key for key in data if key not in allowed]
        for key in unknown[: MAX_PROBLEMS - len(self.shown)]:
            self.shown.append(problem((*loc, key), EXTRA, "extra_forbidden"))
        self.count += len(unknown)
        return True

    def error(self) -> InputProblems:
        return InputProblems(self.shown, self.count)

    def raise_if_any(self) -> None:
        if self.count:
            raise self.error()


@cache
def model_keys(model: type[BaseModel]) -> frozenset[str]:
    """The keys a model takes: its fields' aliases (or names)."""
    return frozenset(info.alias or name for name, info in model.model_fields.items())


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """The 422 for any RequestValidationError: the first MAX_PROBLEMS problems and a count."""
    if isinstance(exc, InputProblems):
        detail, count = list(exc.errors()), exc.count
    else:  # FastAPI's own, from a route with a declared body
        errors = exc.errors()
        detail = [
            problem(e.get("loc", ()), e.get("msg", ""), e.get("type", ""))
            for e in errors[:MAX_PROBLEMS]
        ]
        count = len(errors)
    return JSONResponse(status_code=422, content={"detail": detail, "count": count})
