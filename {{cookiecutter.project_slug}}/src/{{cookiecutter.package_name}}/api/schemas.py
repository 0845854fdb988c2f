"""Request and response models, generated from the training schema.

Field names are `f0, f1, ...` internally; each field's alias is the raw column name, so a
request uses the table's own names, whatever characters they hold. The levels and ranges seen
in training are documented in each field's description, not enforced: an unseen level or an
out-of-range number is scored and flagged in the answer's `warnings`.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..data.schema import ColumnSpec, Schema

Label = bool | int | float | str
# Numbers travel to the model as float32: anything larger would arrive as infinity.
FLOAT32_MAX = 3.4028234663852886e38
LISTED_LEVELS = 30


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


class BatchItem(BaseModel):
    prediction: Label
    probabilities: dict[str, float] | None = None
    warnings: list[str] = Field(default_factory=list)


class BatchPrediction(BaseModel):
    predictions: list[BatchItem]
    model_version: str


def _describe(spec: ColumnSpec) -> str:
    if spec.kind == "numeric":
        seen = f"seen in training from {spec.min:g} to {spec.max:g}" if spec.min is not None else ""
        return f"Number; {seen}. null if missing."
    if spec.kind == "datetime":
        return "Date or date-time, ISO 8601 (2024-05-31 or 2024-05-31T14:30). null if missing."
    levels = spec.categories or []
    shown = ", ".join(levels[:LISTED_LEVELS]) + (" ..." if len(levels) > LISTED_LEVELS else "")
    return (
        f"Category; levels seen in training: {shown}. Other values are scored as an unknown "
        "level and flagged in `warnings`. null if missing."
    )


def record_model(schema: Schema, example: dict[str, Any] | None = None) -> type[BaseModel]:
    """One record: every feature column is required (null allowed); unknown keys are refused.

    Columns the pipeline drops (IDs, constants) are accepted and ignored.
    """
    fields: dict[str, Any] = {}
    for i, (name, spec) in enumerate(schema.columns.items()):
        info: dict[str, Any] = {"alias": name, "description": _describe(spec)}
        # strict: a number must be a JSON number and text a JSON string (no true for 1.0).
        if spec.kind == "numeric":
            bounds = {"ge": -FLOAT32_MAX, "le": FLOAT32_MAX, "allow_inf_nan": False}
            fields[f"f{i}"] = (float | None, Field(**info, **bounds, strict=True))
        else:
            if spec.categories:
                info["examples"] = spec.categories[:5]
            fields[f"f{i}"] = (str | None, Field(**info, max_length=1000, strict=True))
    for j, (name, reason) in enumerate(schema.dropped.items()):
        fields[f"d{j}"] = (
            Any,
            Field(None, alias=name, description=f"Accepted and ignored ({reason})."),
        )
    config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [example]} if example else None
    )
    return create_model("Record", __config__=config, **fields)


def batch_model(record: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        "BatchRequest", __config__=ConfigDict(extra="forbid"), records=(list[record], ...)
    )
