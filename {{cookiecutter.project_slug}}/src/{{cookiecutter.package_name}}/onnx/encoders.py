"""Converters for scikit-learn's SimpleImputer (missing-value flags) and OneHotEncoder
(unknown levels in the infrequent bucket), as scikit-learn computes them."""

from __future__ import annotations

from typing import Any

import numpy as np

from .nodes import Nodes


def imputer_shape(operator: Any) -> None:
    from skl2onnx.shape_calculators.imputer import calculate_sklearn_imputer_output_shapes

    calculate_sklearn_imputer_output_shapes(operator)
    imputer = operator.raw_operator
    if imputer.add_indicator:
        flags = len(imputer.indicator_.features_)
        operator.outputs[0].type.shape[1] = len(imputer.statistics_) + flags


def convert_imputer(scope: Any, operator: Any, container: Any) -> None:
    """SimpleImputer: skl2onnx's converter, or for add_indicator=True, which it leaves out, the
    imputed numbers followed by the flags of the columns that had missing values in training.

    Only for keep_empty_features=True (`training.preprocessing` sets it): otherwise scikit-learn
    drops the columns it never saw filled, and skl2onnx does not.
    """
    from onnx import TensorProto
    from skl2onnx.common.data_types import StringTensorType
    from skl2onnx.operator_converters.common import concatenate_variables
    from skl2onnx.operator_converters.imputer_op import convert_sklearn_imputer

    imputer = operator.raw_operator
    if not imputer.keep_empty_features:
        raise NotImplementedError("SimpleImputer(keep_empty_features=False) drops columns")
    if not imputer.add_indicator:
        convert_sklearn_imputer(scope, operator, container)
        return
    missing = imputer.missing_values
    text = isinstance(operator.inputs[0].type, StringTensorType)
    if text or not (isinstance(missing, float) and np.isnan(missing)):
        raise NotImplementedError("SimpleImputer(add_indicator=True) of numbers with NaN only")
    nodes = Nodes(scope, container)
    inputs = concatenate_variables(scope, operator.inputs, container)
    imputed = nodes.add(
        "Imputer",
        [inputs],
        op_domain="ai.onnx.ml",
        imputed_value_floats=imputer.statistics_.astype(np.float32),
        replaced_value_float=float("nan"),
    )
    flagged = imputer.indicator_.features_.tolist()
    flags = nodes.add(
        "Gather",
        [nodes.add("IsNaN", [inputs]), nodes.constant("columns", TensorProto.INT64, flagged)],
        axis=1,
    )
    flags = nodes.add("Cast", [flags], to=TensorProto.FLOAT)
    nodes.add("Concat", [imputed, flags], operator.outputs[0].full_name, axis=1)


def one_hot_columns(encoder: Any, index: int) -> tuple[list[str], bool]:
    """A feature's output columns: its frequent levels, and whether an infrequent bucket follows."""
    levels = [str(level) for level in encoder._compute_transformed_categories(index)]
    bucket = bool(encoder._infrequent_enabled) and levels[-1:] == ["infrequent_sklearn"]
    return (levels[:-1] if bucket else levels), bucket


def one_hot_shape(operator: Any) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    encoder = operator.raw_operator
    width = 0
    for index in range(len(encoder.categories_)):
        levels, bucket = one_hot_columns(encoder, index)
        width += len(levels) + bucket
    rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([rows, width])


def convert_one_hot(scope: Any, operator: Any, container: Any) -> None:
    """OneHotEncoder on text, as scikit-learn answers with handle_unknown="infrequent_if_exist":
    an unknown level counts as infrequent where the feature has that bucket, else as all zeros
    (skl2onnx's own converter refuses unknown levels in this mode)."""
    from onnx import TensorProto, helper
    from skl2onnx.operator_converters.common import concatenate_variables

    encoder = operator.raw_operator
    if encoder.drop_idx_ is not None or encoder.handle_unknown == "error":
        raise NotImplementedError("OneHotEncoder with drop= or handle_unknown='error'")
    if np.issubdtype(encoder.dtype, np.integer):
        raise NotImplementedError("OneHotEncoder with an integer dtype")
    nodes = Nodes(scope, container)
    inputs = concatenate_variables(scope, operator.inputs, container)
    one, middle_axis = (
        nodes.constant("one", TensorProto.FLOAT, [1.0]),
        nodes.constant("axis", TensorProto.INT64, [1]),
    )
    last_axis = nodes.constant("axis", TensorProto.INT64, [-1])
    parts = []
    for index in range(len(encoder.categories_)):
        levels, bucket = one_hot_columns(encoder, index)
        position = nodes.constant("feature", TensorProto.INT64, [index])
        column = nodes.add("Gather", [inputs, position], axis=1)  # [rows, 1]
        if not levels:  # every level is infrequent: the bucket column is always 1
            ones = helper.make_tensor("value", TensorProto.FLOAT, [1], [1.0])
            parts.append(nodes.add("ConstantOfShape", [nodes.add("Shape", [column])], value=ones))
            continue
        hot = nodes.add(
            "OneHotEncoder", [column], op_domain="ai.onnx.ml", cats_strings=levels, zeros=1
        )
        hot = nodes.add("Squeeze", [hot, middle_axis])  # [rows, 1, levels] -> [rows, levels]
        parts.append(hot)
        if bucket:
            parts.append(
                nodes.add("Sub", [one, nodes.add("ReduceSum", [hot, last_axis], keepdims=1)])
            )
    nodes.add("Concat", parts, operator.outputs[0].full_name, axis=1)
