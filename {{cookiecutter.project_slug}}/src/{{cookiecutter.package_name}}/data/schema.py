"""The table's contract: column kinds, ranges, categories, classes, and the dropped columns.

It is inferred once from the raw table (`ingest`) into schema.yaml, which you may edit and
commit; `validate`, training and the prediction service all read the same file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import StageError
from ..files import write_text

SCHEMA_FILE = Path("schema.yaml")
MAX_LISTED_CATEGORIES = 100
MAX_CLASSES = 50
# Free text: a string column with more distinct values than are listed whose distinct values
# hold at least this many words on average (titles, descriptions, names; not level names
# such as "Bank transfer (automatic)", of which there are few).
TEXT_WORDS = 2.0
# A word the model reads (`training.words`): two or more ASCII letters or digits.
WORD_PATTERN = r"[A-Za-z0-9]{2,}"
PARSE_SHARE = 0.95  # text becomes a number or a date when this share of its values parse
MAX_MISSING_TEXTS = 30
MISSING_TEXT = ""  # missing categorical values travel as "" (ONNX Runtime has no null strings)
DATE_PARTS = ("year", "month", "day", "day_of_week", "hour")

Kind = Literal["numeric", "categorical", "text", "datetime"]
STRING_KINDS = ("categorical", "text")  # held as strings, "" for missing
Problem = Literal["binary", "multiclass", "regression"]
Label = str | int | float | bool

_GROUPED_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?")
_UNIT_AFFIXES = r"^[$€£¥]\s*|\s*[$€£¥%]$"


class ColumnSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    # Categorical: the levels seen. `closed`: every level is listed, and validate refuses others.
    categories: list[str] | None = None
    closed: bool | None = None
    # Text (free text: names, titles, descriptions): the model reads its words and its whole
    # value as a level; no levels are listed.
    # Datetime: the parts the model sees, as numeric columns named "<column>__<part>".
    parts: list[str] | None = None
    # Numeric or datetime: the raw table's text that held no number (no date), read as missing
    # ("rotary" among cylinder counts, "n/a"): the API takes it as missing too, where other
    # text is refused. The commonest MAX_MISSING_TEXTS are listed.
    missing_texts: list[str] | None = None


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str
    problem_type: Problem
    classes: list[Label] | None = None
    columns: dict[str, ColumnSpec]
    dropped: dict[str, str] = {}

    def save(self, path: Path) -> None:
        text = yaml.safe_dump(
            self.model_dump(exclude_none=True), sort_keys=False, allow_unicode=True, width=100
        )
        header = (
            "# Inferred from the raw table by `ingest`. Edit and commit it: validate, training\n"
            "# and serving all read it. Delete it to infer it again from the data.\n"
        )
        write_text(header + text, path)

    @classmethod
    def load(cls, path: Path = SCHEMA_FILE) -> Schema:
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
            return cls.model_validate(raw)
        except FileNotFoundError as exc:
            raise StageError(f"{path}: not found (run `dvc repro ingest` to infer it)") from exc
        except yaml.YAMLError as exc:
            raise StageError(f"{path}: not a valid schema: {exc}") from exc
        except ValidationError as exc:
            raise StageError(f"{path}: not a valid schema: {_problems(exc)}") from None

    @property
    def features(self) -> list[str]:
        return list(self.columns)


def _problems(error: ValidationError) -> str:
    """pydantic's errors, one clause each: `columns.title.kind: Input should be 'numeric',
    'categorical', 'text' or 'datetime' (got 'words')`."""
    clauses = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "the file"
        given = f" (got {problem['input']!r})" if problem["type"] == "literal_error" else ""
        clauses.append(f"{where}: {problem['msg']}{given}")
    return "; ".join(clauses)
