"""A text imputer and its encoder fused into one step that converts to one lookup for every
text column instead of about seven nodes per column, which makes a single-row call several
times cheaper."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..serving.text_codes import SEPARATOR
from .encoders import one_hot_columns
from .nodes import Nodes

ML = {"op_domain": "ai.onnx.ml", "op_version": 2}


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


def imputed_codes_shape(operator: Any) -> None:
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.preprocessing import OneHotEncoder

    step = operator.raw_operator
    if isinstance(step.encoder, OneHotEncoder):
        width = _one_hot_codes(step)[2]
    else:
        width = len(step.encoder.categories_)
    rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([rows, width])


def convert_imputed_codes(scope: Any, operator: Any, container: Any) -> None:
    """Every text column in one lookup: each value is prefixed with its column's position
    ("3\x1fYes"), so that one LabelEncoder holds the codes of all columns. Three to six nodes
    in all, however many columns."""
    from skl2onnx.operator_converters.common import concatenate_variables
    from sklearn.preprocessing import OneHotEncoder

    step, nodes = operator.raw_operator, Nodes(scope, container)
    text = concatenate_variables(scope, operator.inputs, container)
    keyed = _keyed(nodes, text, len(step.encoder.categories_))
    output = operator.outputs[0].full_name
    if isinstance(step.encoder, OneHotEncoder):
        _one_hot(nodes, keyed, step, output)
        return
    codes, unknown = _ordinal_codes(step)
    nodes.add(
        "LabelEncoder",
        [keyed],
        output,
        keys_strings=list(codes),
        values_floats=list(codes.values()),
        default_float=unknown,
        **ML,
    )


def _key(column: int, level: Any) -> str:
    return f"{column}{SEPARATOR}{level}"


def _keyed(nodes: Nodes, text: str, width: int) -> str:
    """The text values prefixed with their column's position: the lookup's keys."""
    from onnx import TensorProto

    prefixes = [_key(i, "").encode("utf-8") for i in range(width)]
    prefix = nodes.constant("prefix", TensorProto.STRING, prefixes, [1, width])
    return nodes.add("StringConcat", [prefix, text])


def _with_missing(
    step: ImputedCodes, i: int, codes: dict[str, Any], unknown: Any
) -> dict[str, Any]:
    """Column i's codes, and for its missing value the code of the imputer's fill value."""
    fill = _key(i, step.imputer.statistics_[i])
    return codes | {_key(i, step.imputer.missing_values): codes.get(fill, unknown)}


def _ordinal_codes(step: ImputedCodes) -> tuple[dict[str, float], float]:
    """Each column's levels keyed to their ordinal codes; the code of an unknown level."""
    codes, unknown = {}, float(step.encoder.unknown_value)
    for i, levels in enumerate(step.encoder.categories_):
        column = {_key(i, level): float(j) for j, level in enumerate(levels)}
        codes |= _with_missing(step, i, column, unknown)
    return codes, unknown


def _one_hot_codes(step: ImputedCodes) -> tuple[dict[str, int], list[int], int]:
    """Each column's levels keyed to the output column they light (infrequent ones to their
    column's bucket); per column, the output an unknown level lights (-1: none); the width."""
    encoder = step.encoder
    codes, unknowns, width = {}, [], 0
    for i in range(len(encoder.categories_)):
        frequent, bucket = one_hot_columns(encoder, i)
        column = {_key(i, level): width + j for j, level in enumerate(frequent)}
        if bucket:
            infrequent = encoder.infrequent_categories_[i]
            column |= {_key(i, level): width + len(frequent) for level in infrequent}
        unknown = width + len(frequent) if bucket and encoder.handle_unknown != "ignore" else -1
        codes |= _with_missing(step, i, column, unknown)
        unknowns.append(unknown)
        width += len(frequent) + bucket
    return codes, unknowns, width


def _one_hot(nodes: Nodes, keyed: str, step: ImputedCodes, output: str) -> None:
    """The lookup gives each value the output column it lights; OneHotEncoder lights them."""
    from onnx import TensorProto

    codes, unknowns, width = _one_hot_codes(step)
    index = nodes.add(
        "LabelEncoder",
        [keyed],
        keys_strings=list(codes),
        values_int64s=list(codes.values()),
        default_int64=-1,
        **ML,
    )
    if any(unknown >= 0 for unknown in unknowns):  # unknown levels go to their column's bucket
        none = nodes.constant("minus_one", TensorProto.INT64, [-1], [1])
        fallback = nodes.constant("buckets", TensorProto.INT64, unknowns, [1, len(unknowns)])
        index = nodes.add("Where", [nodes.add("Equal", [index, none]), fallback, index])
    hot = nodes.add(
        "OneHotEncoder", [index], cats_int64s=list(range(width)), zeros=1, op_domain="ai.onnx.ml"
    )
    columns_axis = nodes.constant("axis", TensorProto.INT64, [1], [1])
    # [rows, columns, width] -> [rows, width]: each column lights its own range of outputs.
    nodes.add("ReduceSum", [hot, columns_axis], output, keepdims=0)
