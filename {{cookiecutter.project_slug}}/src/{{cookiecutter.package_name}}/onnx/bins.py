"""Quantile bins, one-hot (KBinsDiscretizer, `training.bins.ScaledBins`), as six nodes for
every column at once.

skl2onnx's own converter adds about nine nodes per column, and its graph building slows down
with the square of the nodes: on pd_speech (751 columns, a linear model's five fold fits)
exporting took 61 s, most of it there. Here each output column is the value of its input
column compared with the bin's two edges: in bin b when `lower <= value` and not
`upper <= value`, as scikit-learn's `searchsorted(edges[1:-1], value, side="right")` puts it.
The first bin has no lower edge (-inf) and the last no upper one (NaN, which no value
reaches: +inf lands in the last bin, as in scikit-learn).

The edges are compared in the input's type: `onnx.convert.float32_bin_edges` has already
moved them to float32 values that bin as scikit-learn's float64 ones do. Other encodings
(ordinal, sparse one-hot) go to skl2onnx's converter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .nodes import Nodes


def bins_shape(operator: Any) -> None:
    from skl2onnx.common.data_types import FloatTensorType
    from skl2onnx.shape_calculators.k_bins_discretiser import (
        calculate_sklearn_k_bins_discretiser,
    )

    bins = operator.raw_operator
    if bins.encode != "onehot-dense":
        calculate_sklearn_k_bins_discretiser(operator)
        return
    rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([rows, int(np.sum(bins.n_bins_))])


def bin_bounds(bins: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output column: its input column, and its bin's lower and upper edges (-inf for a
    column's first bin, NaN for its last)."""
    owner, lower, upper = [], [], []
    for column, edges in enumerate(bins.bin_edges_):
        inner = np.asarray(edges[1:-1], dtype=np.float64)
        owner += [column] * (len(inner) + 1)
        lower += [-np.inf, *inner]
        upper += [*inner, np.nan]
    return np.array(owner), np.array(lower), np.array(upper)


def convert_bins(scope: Any, operator: Any, container: Any) -> None:
    """Each value's bin, one-hot over its column's bins."""
    from onnx import TensorProto
    from skl2onnx.common.data_types import DoubleTensorType
    from skl2onnx.operator_converters.k_bins_discretiser import (
        convert_sklearn_k_bins_discretiser,
    )

    bins = operator.raw_operator
    if bins.encode != "onehot-dense":
        convert_sklearn_k_bins_discretiser(scope, operator, container)
        return
    values = operator.inputs[0]
    double = isinstance(values.type, DoubleTensorType)
    kind, dtype = (TensorProto.DOUBLE, np.float64) if double else (TensorProto.FLOAT, np.float32)
    nodes = Nodes(scope, container)
    owner, lower, upper = bin_bounds(bins)
    spread = nodes.add(
        "Gather", [values.full_name, nodes.constant("owner", TensorProto.INT64, owner.tolist())],
        axis=1,
    )  # fmt: skip
    above = nodes.add(
        "GreaterOrEqual", [spread, nodes.constant("lower", kind, lower.astype(dtype).tolist())]
    )
    beyond = nodes.add(
        "GreaterOrEqual", [spread, nodes.constant("upper", kind, upper.astype(dtype).tolist())]
    )
    inside = nodes.add("And", [above, nodes.add("Not", [beyond])])
    nodes.add("Cast", [inside], operator.outputs[0].full_name, to=TensorProto.FLOAT)
