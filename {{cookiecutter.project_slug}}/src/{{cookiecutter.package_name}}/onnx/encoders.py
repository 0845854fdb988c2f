"""Converters for scikit-learn's SimpleImputer (dropped columns, missing-value flags) and
OneHotEncoder (unknown levels in the infrequent bucket), as scikit-learn computes them."""

from __future__ import annotations

from typing import Any

import numpy as np


def _kept(imputer: Any) -> np.ndarray:
    """The input columns a fitted SimpleImputer keeps: it drops those never seen filled."""
    empty = [isinstance(value, float) and np.isnan(value) for value in imputer.statistics_]
    return np.flatnonzero(~np.array(empty, dtype=bool))


def _imputer_shape(operator: Any) -> None:
    from skl2onnx.shape_calculators.imputer import calculate_sklearn_imputer_output_shapes

    calculate_sklearn_imputer_output_shapes(operator)
    imputer = operator.raw_operator
    flags = len(imputer.indicator_.features_) if imputer.add_indicator else 0
    operator.outputs[0].type.shape[1] = len(_kept(imputer)) + flags


def _convert_imputer(scope: Any, operator: Any, container: Any) -> None:
    """Numeric SimpleImputer as scikit-learn computes it: without the columns it drops (no
    value seen in training) and with the add_indicator flags, neither of which skl2onnx does."""
    from onnx import TensorProto
    from skl2onnx.common.data_types import StringTensorType
    from skl2onnx.operator_converters.common import concatenate_variables
    from skl2onnx.operator_converters.imputer_op import convert_sklearn_imputer

    imputer = operator.raw_operator
    kept = _kept(imputer)
    plain = not imputer.add_indicator and len(kept) == len(imputer.statistics_)
    if isinstance(operator.inputs[0].type, StringTensorType) and not plain:
        raise NotImplementedError("a text SimpleImputer that drops columns or adds flags")
    if plain:
        convert_sklearn_imputer(scope, operator, container)
        return
    missing = imputer.missing_values
    if not (isinstance(missing, float) and np.isnan(missing)):
        raise NotImplementedError("SimpleImputer is converted for missing_values=NaN only")

    def node(op_type: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        output = output or scope.get_unique_variable_name(op_type.lower())
        name = scope.get_unique_operator_name(op_type)
        container.add_node(op_type, inputs, output, name=name, **attrs)
        return output

    def columns(values: np.ndarray) -> str:
        output = scope.get_unique_variable_name("columns")
        container.add_initializer(output, TensorProto.INT64, [len(values)], values.tolist())
        return output

    inputs = concatenate_variables(scope, operator.inputs, container)
    output = operator.outputs[0].full_name
    selected = inputs
    if len(kept) < len(imputer.statistics_):
        selected = node("Gather", [inputs, columns(kept)], axis=1)
    statistics = imputer.statistics_[kept].astype(np.float32)
    imputed = node(
        "Imputer",
        [selected],
        None if imputer.add_indicator else output,
        op_domain="ai.onnx.ml",
        imputed_value_floats=statistics,
        replaced_value_float=float("nan"),
    )
    if imputer.add_indicator:
        flagged = imputer.indicator_.features_.astype(np.int64)
        flags = node("Gather", [node("IsNaN", [inputs]), columns(flagged)], axis=1)
        node("Concat", [imputed, node("Cast", [flags], to=TensorProto.FLOAT)], output, axis=1)


def _one_hot_columns(encoder: Any, index: int) -> tuple[list[str], bool]:
    """A feature's output columns: its frequent levels, and whether an infrequent bucket follows."""
    levels = [str(level) for level in encoder._compute_transformed_categories(index)]
    bucket = bool(encoder._infrequent_enabled) and levels[-1:] == ["infrequent_sklearn"]
    return (levels[:-1] if bucket else levels), bucket


def _one_hot_shape(operator: Any) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    encoder = operator.raw_operator
    width = 0
    for index in range(len(encoder.categories_)):
        levels, bucket = _one_hot_columns(encoder, index)
        width += len(levels) + bucket
    rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([rows, width])


def _convert_one_hot(scope: Any, operator: Any, container: Any) -> None:
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
    inputs = concatenate_variables(scope, operator.inputs, container)

    def constant(key: str, dtype: int, values: list[Any]) -> str:
        output = scope.get_unique_variable_name(key)
        container.add_initializer(output, dtype, [len(values)], values)
        return output

    def node(op_type: str, inputs: list[str], **attrs: Any) -> str:
        output = scope.get_unique_variable_name(op_type.lower())
        name = scope.get_unique_operator_name(op_type)
        container.add_node(op_type, inputs, output, name=name, **attrs)
        return output

    one, middle_axis = (
        constant("one", TensorProto.FLOAT, [1.0]),
        constant("axis", TensorProto.INT64, [1]),
    )
    last_axis = constant("axis", TensorProto.INT64, [-1])
    parts = []
    for index in range(len(encoder.categories_)):
        levels, bucket = _one_hot_columns(encoder, index)
        position = constant("feature", TensorProto.INT64, [index])
        column = node("Gather", [inputs, position], axis=1)  # [rows, 1]
        if not levels:  # every level is infrequent: the bucket column is always 1
            ones = helper.make_tensor("value", TensorProto.FLOAT, [1], [1.0])
            parts.append(node("ConstantOfShape", [node("Shape", [column])], value=ones))
            continue
        hot = node("OneHotEncoder", [column], op_domain="ai.onnx.ml", cats_strings=levels, zeros=1)
        hot = node("Squeeze", [hot, middle_axis])  # [rows, 1, levels] -> [rows, levels]
        parts.append(hot)
        if bucket:
            parts.append(node("Sub", [one, node("ReduceSum", [hot, last_axis], keepdims=1)]))
    container.add_node(
        "Concat",
        parts,
        operator.outputs[0].full_name,
        axis=1,
        name=scope.get_unique_operator_name("Concat"),
    )
