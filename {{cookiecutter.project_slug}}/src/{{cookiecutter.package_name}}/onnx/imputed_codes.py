"""A text imputer and its encoder fused into one step that converts to one lookup for every
text column instead of about seven nodes per column, which makes a single-row call several
times cheaper."""

from __future__ import annotations

from typing import Any

import numpy as np

from .encoders import _one_hot_columns


class ImputedCodes:
    """make_pipeline(SimpleImputer(constant text), OrdinalEncoder or OneHotEncoder) as one
    step, so that it converts to one or two ONNX nodes per column instead of about seven:
    a single-row call then costs a fraction as much. `export` checks it answers the same."""

    def __init__(self, imputer: Any, encoder: Any) -> None:
        self.imputer, self.encoder = imputer, encoder

    @classmethod
    def replacing(cls, step: Any) -> Any:
        """The fused step for a pipeline of that form; any other step unchanged."""
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

        if not (isinstance(step, Pipeline) and len(step.steps) == 2):
            return step
        imputer, encoder = step.steps[0][1], step.steps[1][1]
        fills = isinstance(imputer, SimpleImputer) and imputer.strategy == "constant"
        fills = fills and isinstance(imputer.missing_values, str) and not imputer.add_indicator
        if not (fills and imputer.keep_empty_features):  # else it drops columns never filled
            return step
        if isinstance(encoder, OrdinalEncoder):
            usable = encoder.handle_unknown == "use_encoded_value"
            usable = usable and not encoder._infrequent_enabled
        elif isinstance(encoder, OneHotEncoder):
            usable = encoder.drop_idx_ is None and encoder.handle_unknown != "error"
            usable = usable and not np.issubdtype(encoder.dtype, np.integer)
        else:
            usable = False
        return cls(imputer, encoder) if usable else step


def _imputed_codes_shape(operator: Any) -> None:
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.preprocessing import OneHotEncoder

    encoder = operator.raw_operator.encoder
    width = len(encoder.categories_)
    if isinstance(encoder, OneHotEncoder):
        width = sum(
            len(levels) + bucket
            for levels, bucket in map(
                lambda i: _one_hot_columns(encoder, i), range(len(encoder.categories_))
            )
        )
    rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([rows, width])


def _convert_imputed_codes(scope: Any, operator: Any, container: Any) -> None:
    """Every text column in one lookup: each value is prefixed with its column's position
    ("3\x1fYes"), so that one LabelEncoder holds the codes of all columns. Three to six nodes
    in all, however many columns."""
    from onnx import TensorProto
    from skl2onnx.operator_converters.common import concatenate_variables
    from sklearn.preprocessing import OneHotEncoder

    step = operator.raw_operator
    imputer, encoder = step.imputer, step.encoder
    width = len(encoder.categories_)

    def constant(key: str, dtype: int, values: list[Any], shape: list[int]) -> str:
        output = scope.get_unique_variable_name(key)
        container.add_initializer(output, dtype, shape, values)
        return output

    def node(op_type: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        output = output or scope.get_unique_variable_name(op_type.lower())
        name = scope.get_unique_operator_name(op_type)
        container.add_node(op_type, inputs, output, name=name, **attrs)
        return output

    def key(i: int, level: Any) -> str:
        return f"{i}\x1f{level}"

    prefixes = [key(i, "").encode("utf-8") for i in range(width)]
    text = concatenate_variables(scope, operator.inputs, container)
    keyed = node(
        "StringConcat", [constant("prefix", TensorProto.STRING, prefixes, [1, width]), text]
    )
    ml = {"op_domain": "ai.onnx.ml", "op_version": 2}
    output = operator.outputs[0].full_name
    if not isinstance(encoder, OneHotEncoder):
        codes, unknown = {}, float(encoder.unknown_value)
        for i, levels in enumerate(encoder.categories_):
            column = {key(i, level): float(j) for j, level in enumerate(levels)}
            column[key(i, imputer.missing_values)] = column.get(
                key(i, imputer.statistics_[i]), unknown
            )
            codes |= column
        node(
            "LabelEncoder",
            [keyed],
            output,
            keys_strings=list(codes),
            values_floats=list(codes.values()),
            default_float=unknown,
            **ml,
        )
        return
    codes, buckets, offset = {}, [], 0
    for i in range(width):
        frequent, bucket = _one_hot_columns(encoder, i)
        column = {key(i, level): offset + j for j, level in enumerate(frequent)}
        if bucket:
            column |= {
                key(i, level): offset + len(frequent) for level in encoder.infrequent_categories_[i]
            }
        unknown = offset + len(frequent) if bucket and encoder.handle_unknown != "ignore" else -1
        column[key(i, imputer.missing_values)] = column.get(key(i, imputer.statistics_[i]), unknown)
        codes |= column
        buckets.append(unknown)
        offset += len(frequent) + bucket
    index = node(
        "LabelEncoder",
        [keyed],
        keys_strings=list(codes),
        values_int64s=list(codes.values()),
        default_int64=-1,
        **ml,
    )
    if any(bucket >= 0 for bucket in buckets):  # unknown levels go to their column's bucket
        none = constant("minus_one", TensorProto.INT64, [-1], [1])
        fallback = constant("buckets", TensorProto.INT64, buckets, [1, width])
        index = node("Where", [node("Equal", [index, none]), fallback, index])
    hot = node(
        "OneHotEncoder", [index], cats_int64s=list(range(offset)), zeros=1, op_domain="ai.onnx.ml"
    )
    columns_axis = constant("axis", TensorProto.INT64, [1], [1])
    # [rows, columns, width] -> [rows, width]: each column lights its own range of outputs.
    node("ReduceSum", [hot, columns_axis], output, keepdims=0)
