"""Request and response models, generated from the training schema.

Field names are `f0, f1, ...` internally; each field's alias is the raw column name, so a
request uses the table's own names, whatever characters they hold. Each field takes what
training's cleaning reads from the table (`fields`). The levels and ranges seen in training
are not enforced: an unseen level or an out-of-range number is scored and flagged in the
answer's `warnings`. They are training values, so the public OpenAPI document shows them only
when APP_PUBLIC_SCHEMA says the API is public (/metadata shows them behind the key). Send null
(or "") for a missing value.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..data.schema import Schema
from .fields import describe, field_type

Label = bool | int | float | str


class Prediction(BaseModel):
    prediction: Label = Field(description="The predicted class label, or the predicted value.")
    probabilities: dict[str, float] | None = Field(
        None, description="Classification: the probability of each class, keyed by label."
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="Values unlike the training data: levels never seen, numbers out of range.",
    )
    model_version: str = Field(description="The first 12 hex digits of the model's SHA-256.")
    request_id: str | None = Field(
        None,
        description="The request's id, also in the X-Request-ID header (the caller's own when "
        "it sent a plain one): hand it in with the true outcome (`monitor --outcomes`).",
    )


class BatchItem(BaseModel):
    prediction: Label
    probabilities: dict[str, float] | None = None
    warnings: list[str] = Field(default_factory=list)


class BatchPrediction(BaseModel):
    predictions: list[BatchItem]
    model_version: str
    request_id: str | None = Field(
        None, description="The request's id (X-Request-ID); a record's row in the log is its place."
    )


def record_model(
    schema: Schema, example: dict[str, Any] | None = None, public: bool = False
) -> type[BaseModel]:
    """One record: every feature column is required (null allowed); unknown keys are refused.

    Columns the pipeline drops (IDs, constants) and the target are accepted and ignored, so a
    row copied from the training table scores as it is (as /predict/csv takes such a table,
    the target column passed through). `example` is the
    documents' example body (typical values, see `data.typical`); `public` adds the ranges and
    levels seen in training to the field descriptions. Neither changes what is accepted.
    """
    fields: dict[str, Any] = {}
    for i, (name, spec) in enumerate(schema.columns.items()):
        info: dict[str, Any] = {"alias": name, "description": describe(spec, public)}
        if public and spec.kind == "categorical" and spec.categories:
            info["examples"] = spec.categories[:5]
        fields[f"f{i}"] = (field_type(spec), Field(**info))
    for j, (name, reason) in enumerate(schema.dropped.items()):
        fields[f"d{j}"] = (
            Any,
            Field(None, alias=name, description=f"Accepted and ignored ({reason})."),
        )
    if schema.target not in schema.columns:
        fields["target"] = (
            Any,
            Field(None, alias=schema.target, description="Accepted and ignored (the target)."),
        )
    config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [example]} if example else None
    )
    return create_model("Record", __config__=config, **fields)


def batch_model(record: type[BaseModel]) -> type[BaseModel]:
    """{"records": [...]}; validation stops at the first invalid record (see batches.py)."""
    records = (list[record], Field(fail_fast=True))
    return create_model("BatchRequest", __config__=ConfigDict(extra="forbid"), records=records)
