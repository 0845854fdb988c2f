"""Taking the text lookup out of the converted graph, so that the served graph reads level
codes (`serving.text_codes` encodes them) instead of strings."""

from __future__ import annotations

from typing import Any

from ..serving.metadata import TextCodes
from ..serving.text_codes import SEPARATOR


def lift(model: Any) -> tuple[Any, TextCodes | None]:
    """The graph reading codes instead of text, and the lookup's spec for the manifest; the
    graph unchanged and None when the text input does not go straight into the lookup."""
    import onnx
    from onnx import helper, numpy_helper

    lifted = onnx.ModelProto()
    lifted.CopyFrom(model)
    graph = lifted.graph
    concat, lookup = _only_use(graph, "categorical"), None
    if concat is not None and concat.op_type == "StringConcat":
        lookup = _only_use(graph, concat.output[0])
    prefix = (
        next((i for i in graph.initializer if i.name == concat.input[0]), None) if concat else None
    )
    if (
        lookup is None
        or lookup.op_type != "LabelEncoder"
        or list(concat.input)[1:] != ["categorical"]
        or prefix is None
        or _only_use(graph, prefix.name) != concat
    ):
        return model, None
    attrs = {a.name: helper.get_attribute_value(a) for a in lookup.attribute}
    if "values_floats" in attrs:
        dtype, values, default = "float32", attrs["values_floats"], attrs.get("default_float", 0.0)
    elif "values_int64s" in attrs:
        dtype, values, default = "int64", attrs["values_int64s"], attrs.get("default_int64", -1)
    else:
        return model, None
    width = numpy_helper.to_array(prefix).size
    levels: list[dict[str, Any]] = [{} for _ in range(width)]
    for key, value in zip(attrs["keys_strings"], values, strict=True):
        position, level = key.decode("utf-8").split(SEPARATOR, 1)
        levels[int(position)][level] = value

    codes = lookup.output[0]
    element = onnx.TensorProto.FLOAT if dtype == "float32" else onnx.TensorProto.INT64
    _remove(graph.node, [concat, lookup])
    _remove(graph.initializer, [prefix])
    inputs = [i for i in graph.input if i.name != "categorical"]
    inputs.append(helper.make_tensor_value_info(codes, element, [None, width]))
    joined = _join(graph, inputs, codes) if dtype == "float32" else None
    if joined is not None:
        inputs = [joined]
    del graph.input[:]
    graph.input.extend(inputs)
    onnx.checker.check_model(lifted)
    spec = TextCodes(
        dtype=dtype,
        default=default,
        levels=levels,
        input=codes,
        joined=joined.name if joined is not None else None,
    )
    return lifted, spec


def _only_use(graph: Any, name: str) -> Any:
    """The one node that reads `name`, or None when none or several do."""
    users = [node for node in graph.node if name in node.input]
    return users[0] if len(users) == 1 else None


def _remove(container: Any, items: list[Any]) -> None:
    """Delete `items` from a repeated protobuf field (compared by content)."""
    targets = {item.SerializeToString() for item in items}
    for i in reversed(range(len(container))):
        if container[i].SerializeToString() in targets:
            del container[i]


def _join(graph: Any, inputs: list[Any], codes: str) -> Any:
    """One float input for numbers and codes when they only meet in Concat([numeric, codes],
    axis=1): the graph then reads that input where it read the Concat's output. None if not."""
    from onnx import TensorProto, helper

    concat = _only_use(graph, codes)
    if concat is None or concat.op_type != "Concat" or list(concat.input) != ["numeric", codes]:
        return None
    axis = next((helper.get_attribute_value(a) for a in concat.attribute if a.name == "axis"), None)
    if axis not in (1, -1) or _only_use(graph, "numeric") != concat:
        return None
    width = sum(
        i.type.tensor_type.shape.dim[1].dim_value for i in inputs if i.name in ("numeric", codes)
    )
    output = concat.output[0]
    _remove(graph.node, [concat])
    return helper.make_tensor_value_info(output, TensorProto.FLOAT, [None, width])
