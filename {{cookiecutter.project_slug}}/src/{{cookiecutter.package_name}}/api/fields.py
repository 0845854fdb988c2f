"""A record's field for each kind of column: the validator that takes what training's
cleaning (`data.cleaning`) reads from the table, its JSON Schema, and its description.

A number column takes numbers, true/false, numeric text such as "$1,234" or "45%" and a
duration's text (its seconds, as training reads a timedelta column); a text
column also takes numbers and true/false when its levels hold such values. What cleaning could
only count as missing is refused with a 422 naming the field (text that is no number or no
date, NaN, infinities, numbers beyond float32): in a table that is one cell among many and
training warns about it, but a client sending one record most likely has a bug, and an answer
for a record with a silently dropped value would hide it. The exception is the text the
training table itself held in a number or date column (`missing_texts` in schema.yaml): it is
missing here too, so a record copied from that table scores as it is.
"""

import math
import re
from collections.abc import Callable
from typing import Annotated, Any

import pandas as pd
from pydantic import Field, GetPydanticSchema, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError
from pydantic_core import core_schema as cs

from ..data.cleaning import BLANK_TEXT, DURATION_TEXT, NUMBER_TEXT, number, to_datetime
from ..data.schema import ColumnSpec

# Numbers travel to the model as float32: anything larger would arrive as infinity.
FLOAT32_MAX = 3.4028234663852886e38
LISTED_LEVELS = 30
MAX_TEXT = 1000  # characters of a level
MAX_SHORT_TEXT = 100  # characters of a number or a date written as text
_BLANK = re.compile(BLANK_TEXT)
# A level that a JSON number or boolean turns into (str(3) is "3", str(True) is "True").
_NUMBER_LEVEL = re.compile(r"[-+]?[0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?")
_BOOLEAN_LEVELS = {"true", "false"}
NOT_A_NUMBER = (
    "Input should be a number within ±3.4e38 (float32), true/false, or text holding a number "
    '("1,234.5", "$12", "45%") or a duration in seconds ("PT90S", "0 days 00:01:30")'
)
TOO_LONG = f"Text should have at most {MAX_TEXT} characters"
NOT_A_DATE = "Input should be a date as text, such as 2024-05-31 or 2024-05-31T14:30"


def number_value(value: Any) -> float | None:
    """A number column's value, cleaned as training cleans it (`cleaning.number`); NaN,
    infinities and numbers beyond float32's range are refused."""
    if type(value) is float:  # the common case first
        found = value
    elif value is None:
        return None
    elif type(value) is int or type(value) is bool:
        try:
            found = float(value)
        except OverflowError:
            found = math.inf
    elif type(value) is str:
        if len(value) > MAX_SHORT_TEXT:
            raise PydanticCustomError("number_value", NOT_A_NUMBER)
        found = number(value)
        if found != found:
            if _BLANK.fullmatch(value):
                return None  # "" is a missing value, as in a table
            raise PydanticCustomError("number_value", NOT_A_NUMBER)
    else:
        raise PydanticCustomError("number_value", NOT_A_NUMBER)
    if not -FLOAT32_MAX <= found <= FLOAT32_MAX:
        raise PydanticCustomError("number_value", NOT_A_NUMBER)
    return found


# A JSON number within float32's range is checked without a Python call (most requests: a
# fifth less validation time); anything else goes through `number_value`. Either way a refused
# value is one error that names its field.
def number_core(rule: Callable[[Any], float | None] = number_value) -> cs.CoreSchema:
    return cs.union_schema(
        [
            cs.float_schema(strict=True, ge=-FLOAT32_MAX, le=FLOAT32_MAX, allow_inf_nan=False),
            cs.no_info_plain_validator_function(rule),
        ],
        mode="left_to_right",
        custom_error_type="number_value",
        custom_error_message=NOT_A_NUMBER,
    )


NUMBER_CORE = number_core()


def _or_missing(rule: Callable[[Any], Any], texts: list[str]) -> Callable[[Any], Any]:
    """`rule`, but the text training read as missing in this column (`missing_texts`: a
    record copied from the training table) is missing here too."""
    missing = frozenset(texts)

    def value(raw: Any) -> Any:
        if type(raw) is str and raw.strip() in missing:
            return None
        return rule(raw)

    return value


def _level(numbers: bool, booleans: bool) -> Callable[[Any], Any]:
    """A text column's value: text, and numbers or booleans when its levels hold such text
    (cleaning turns them into their text: 3 is "3", true is "True")."""
    expected = "Input should be text" + (", a number" if numbers else "")
    expected += ", true or false" if booleans else ""

    def level(value: Any) -> Any:
        kind = type(value)
        if kind is str:
            if len(value) > MAX_TEXT:
                raise PydanticCustomError("level_text", TOO_LONG)
            return value
        if value is None or (booleans and kind is bool):
            return value
        if numbers and (kind is int or kind is float) and -FLOAT32_MAX <= value <= FLOAT32_MAX:
            return value  # also keeps a 5,000-digit integer from str(), which refuses it
        raise PydanticCustomError("level_type", expected)

    return level


def _date(value: Any) -> str | None:
    """A date column's value: text that training's cleaning reads as a date."""
    if value is None:
        return None
    if type(value) is not str or len(value) > MAX_SHORT_TEXT:
        raise PydanticCustomError("date_type", NOT_A_DATE)
    if _BLANK.fullmatch(value):
        return None
    if pd.isna(to_datetime(pd.Series([value], dtype=object)).iloc[0]):
        raise PydanticCustomError("date_text", NOT_A_DATE)
    return value


FLOAT32_NUMBER = {"type": "number", "minimum": -FLOAT32_MAX, "maximum": FLOAT32_MAX}
NUMBER_SCHEMA = {
    "anyOf": [
        FLOAT32_NUMBER,
        {"type": "boolean"},
        {
            "type": "string",
            "pattern": f"^(?:{NUMBER_TEXT}|{DURATION_TEXT}|{BLANK_TEXT})$",
            "maxLength": MAX_SHORT_TEXT,
        },
        {"type": "null"},
    ]
}
DATE_SCHEMA = {"anyOf": [{"type": "string", "maxLength": MAX_SHORT_TEXT}, {"type": "null"}]}


def _level_types(spec: ColumnSpec) -> tuple[bool, bool]:
    """(numbers, booleans): whether the levels seen in training hold such values as text."""
    levels = spec.categories or []
    numbers = any(_NUMBER_LEVEL.fullmatch(level.casefold()) for level in levels)
    booleans = any(level.casefold() in _BOOLEAN_LEVELS for level in levels)
    return numbers, booleans


def _also_missing(spec: ColumnSpec) -> str:
    texts = spec.missing_texts or []
    shown = ", ".join(f'"{t}"' for t in texts[:5]) + (" ..." if len(texts) > 5 else "")
    return f"{shown} too, as in training; " if texts else ""


def describe(spec: ColumnSpec, public: bool) -> str:
    """What the field takes; with `public`, also the range or levels seen in training."""
    if spec.kind == "numeric":
        seen = ""
        if public and spec.min is not None and spec.max is not None:
            seen = f" Seen in training from {spec.min:g} to {spec.max:g}."
        return (
            f"Number.{seen} Also as exported tables write it: true/false (1/0), or text holding "
            'a number such as "1,234.5", "$12" or "45%" (read as 45), or a duration such as '
            '"PT90S" or "0 days 00:01:30" (read as seconds). null or "" if missing; '
            f"{_also_missing(spec)}other text is refused (422)."
        )
    if spec.kind == "datetime":
        return (
            "Date or date-time as text: ISO 8601 (2024-05-31 or 2024-05-31T14:30) or another "
            f'common form. null or "" if missing; {_also_missing(spec)}text that is not a date '
            "is refused (422)."
        )
    if spec.kind == "text":
        return (
            f"Free text, at most {MAX_TEXT} characters: the model reads its words and the whole "
            'value as a level. null or "" if missing.'
        )
    levels = spec.categories or []
    shown = ", ".join(levels[:LISTED_LEVELS]) + (" ..." if len(levels) > LISTED_LEVELS else "")
    numbers, booleans = _level_types(spec)
    also = " or ".join([*(["numbers"] if numbers else []), *(["true/false"] if booleans else [])])
    read = f" {also.capitalize()} are read as their text, as in training." if also else ""
    seen = f"; levels seen in training: {shown}" if public else " (its levels: GET /metadata)"
    return (
        f"Category{seen}. Other values are scored as an unknown level and flagged in "
        f"`warnings`.{read} null if missing."
    )


def field_type(spec: ColumnSpec) -> Any:
    """The field's type: a validator that takes what cleaning takes, and its JSON Schema."""
    texts = spec.missing_texts or []
    if spec.kind == "numeric":
        built = number_core(_or_missing(number_value, texts)) if texts else NUMBER_CORE
        core = GetPydanticSchema(lambda _source, _handler: built)
        json = NUMBER_SCHEMA
        if texts:
            json = {"anyOf": [*NUMBER_SCHEMA["anyOf"], {"type": "string", "enum": texts}]}
        return Annotated[Any, core, WithJsonSchema(json)]
    if spec.kind == "datetime":
        rule = _or_missing(_date, texts) if texts else _date
        return Annotated[Any, PlainValidator(rule), WithJsonSchema(DATE_SCHEMA)]
    numbers, booleans = _level_types(spec)  # neither for free text: it lists no levels
    if not (numbers or booleans):
        # strict: text only (a number here is most likely a client's mistake)
        return Annotated[str | None, Field(max_length=MAX_TEXT, strict=True)]
    types: list[dict[str, Any]] = [{"type": "string", "maxLength": MAX_TEXT}]
    types += [FLOAT32_NUMBER] if numbers else []
    types += [{"type": "boolean"}] if booleans else []
    schema = {"anyOf": [*types, {"type": "null"}]}
    return Annotated[Any, PlainValidator(_level(numbers, booleans)), WithJsonSchema(schema)]
