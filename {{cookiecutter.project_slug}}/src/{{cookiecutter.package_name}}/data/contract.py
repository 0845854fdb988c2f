"""schema.yaml as pandera rules: the clean table `validate` writes, or one line per broken rule."""

from __future__ import annotations

import logging
import warnings

import pandas as pd

from ..errors import StageError
from .cleaning import as_text, clean_columns, has_label
from .schema import MISSING_TEXT, STRING_KINDS, Schema

# With PySpark installed (the spark extra), pandera tries to import pyspark.pandas, at its
# own import and again while validating; that import warns (and fails) under pandas 3.
# Nothing here uses it: the warning would only be noise in the stage's log.
warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
import pandera.pandas as pa  # noqa: E402
from pandera.errors import SchemaErrors  # noqa: E402

log = logging.getLogger(__name__)

MAX_EXAMPLES = 3


def _checks(name: str, spec) -> pa.Column:
    """The pandera rules for one clean column, from its entry in schema.yaml."""
    checks = []
    if spec.kind == "numeric":
        if spec.min is not None:
            checks.append(pa.Check.ge(spec.min, error=f"at least {spec.min:g}"))
        if spec.max is not None:
            checks.append(pa.Check.le(spec.max, error=f"at most {spec.max:g}"))
        return pa.Column("float64", checks=checks, nullable=spec.nullable, required=True)
    if spec.kind in STRING_KINDS:
        if not spec.nullable:
            checks.append(pa.Check(lambda s: s != MISSING_TEXT, error="not missing"))
        if spec.closed and spec.categories:
            allowed = [*spec.categories, MISSING_TEXT]
            checks.append(pa.Check.isin(allowed, error="one of the listed categories"))
        return pa.Column(checks=checks, nullable=True, required=True)
    return pa.Column(nullable=spec.nullable, required=True)


def pandera_schema(schema: Schema) -> pa.DataFrameSchema:
    columns = {name: _checks(name, spec) for name, spec in schema.columns.items()}
    target_checks = []
    if schema.classes is not None:
        target_checks.append(pa.Check.isin(schema.classes, error="one of the classes"))
    columns[schema.target] = pa.Column(checks=target_checks, nullable=False, required=True)
    return pa.DataFrameSchema(columns, strict=False, name="schema.yaml")


def describe_failures(error: SchemaErrors) -> list[str]:
    """One line per column and rule: how many rows failed and a few of their values."""
    cases = error.failure_cases
    lines = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        examples = ", ".join(
            repr(v) for v in group["failure_case"].drop_duplicates()[:MAX_EXAMPLES]
        )
        rule = "not missing" if str(check) == "not_nullable" else check
        lines.append(f"column {column!r}: rule '{rule}' failed for {len(group)} rows ({examples})")
    return lines


def _shown(value: object) -> str:
    """A value as a message quotes it: text in quotes, a number (numpy's too) as written."""
    return repr(value) if isinstance(value, str) else str(value)


def _unparsed(raw: pd.DataFrame, clean: pd.DataFrame, schema: Schema) -> dict[str, pd.Series]:
    """Values given in a numeric or date column that did not parse (they become missing)."""
    found = {}
    for name, spec in schema.columns.items():
        if spec.kind in STRING_KINDS:
            continue
        given = as_text(raw[name]) != MISSING_TEXT
        bad = raw[name][given & clean[name].isna()]
        if len(bad):
            found[name] = bad
    return found


def plain(labels: pd.Series) -> pd.Series:
    """The target as its values: a pandas Categorical (a Parquet file's dictionary column)
    as the values it holds, which compare, sort and map as the classes in schema.yaml do."""
    if isinstance(labels.dtype, pd.CategoricalDtype):
        return labels.astype(labels.cat.categories.dtype)
    return labels


def clean(frame: pd.DataFrame, schema: Schema, keep: list[str] | None = None) -> pd.DataFrame:
    """Rows with a target, the schema's columns with clean types, then `keep`, then the target."""
    absent = [c for c in [schema.target, *schema.columns, *(keep or [])] if c not in frame.columns]
    if absent:
        listed = ", ".join(repr(c) for c in absent)
        raise StageError(f"the table does not match schema.yaml: missing columns {listed}")
    labelled = frame[has_label(frame[schema.target])]
    if len(labelled) < len(frame):
        log.warning("dropped %d rows with no target value (missing or infinite)",
                    len(frame) - len(labelled))  # fmt: skip
    if labelled.empty:
        raise StageError(f"column {schema.target!r}: every row's target is missing")
    out = clean_columns(labelled, schema)
    for name, bad in _unparsed(labelled, out, schema).items():
        examples = ", ".join(_shown(v) for v in bad.unique()[:MAX_EXAMPLES])
        log.warning("column %r: %d values did not parse and count as missing (%s)",
                    name, len(bad), examples)  # fmt: skip
    for name in keep or []:
        out[name] = labelled[name]
    out[schema.target] = plain(labelled[schema.target])
    try:
        pandera_schema(schema).validate(out, lazy=True)
    except SchemaErrors as exc:
        lines = describe_failures(exc)
        raise StageError("the table breaks schema.yaml:\n  " + "\n  ".join(lines)) from None
    return out.reset_index(drop=True)
