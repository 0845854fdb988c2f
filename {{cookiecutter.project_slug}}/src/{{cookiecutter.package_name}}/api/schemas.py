"""Request and response models, generated from the training schema.

Field names are `f0, f1, ...` internally; each field's alias is the raw column name, so a
request uses the table's own names, whatever characters they hold.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..schema import Schema

Label = bool | int | float | str


class Prediction(BaseModel):
    prediction: Label = Field(description="The predicted class label, or the predicted value.")
    probabilities: dict[str, float] | None = Field(
        None, description="Classification: the probability of each class, keyed by label."
    )


class BatchPrediction(BaseModel):
    predictions: list[Prediction]


def _describe(name: str, spec: Any) -> str:
    if spec.kind == "numeric":
        return f"Number; seen in training from {spec.min:g} to {spec.max:g}. null if missing."
    levels = ", ".join(spec.categories[:20]) if spec.categories else ""
    more = " ..." if spec.categories and len(spec.categories) > 20 else ""
    return f"Category; levels seen in training: {levels}{more}. null if missing."


def record_model(schema: Schema, example: dict[str, Any] | None = None) -> type[BaseModel]:
    """One record: every feature column is required (null allowed); unknown keys are refused.

    Columns the pipeline drops (IDs, constants) are accepted and ignored.
    """
    fields: dict[str, Any] = {}
    for i, (name, spec) in enumerate(schema.columns.items()):
        if spec.kind == "numeric":
            field = Field(alias=name, description=_describe(name, spec), allow_inf_nan=False)
            fields[f"f{i}"] = (float | None, field)
        else:
            fields[f"f{i}"] = (str | None, Field(alias=name, description=_describe(name, spec)))
    for j, (name, reason) in enumerate(schema.dropped.items()):
        fields[f"d{j}"] = (
            Any,
            Field(None, alias=name, description=f"Accepted and ignored ({reason})."),
        )
    config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [example]} if example else None,
    )
    return create_model("Record", __config__=config, **fields)


def batch_model(record: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        "BatchRequest", __config__=ConfigDict(extra="forbid"), records=(list[record], ...)
    )
