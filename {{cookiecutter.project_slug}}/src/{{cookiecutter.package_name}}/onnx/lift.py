"""Taking the text lookup out of the converted graph, so that the served graph reads level
codes (`serving.text_codes` encodes them) instead of strings.

The converted graph reads the text as StringConcat(prefixes, categorical) -> LabelEncoder
(`imputed_codes`). The served graph is the part after the LabelEncoder, cut out with
`onnx.utils.Extractor`; when the numbers and the codes only meet in Concat([numeric, codes]),
it is the part after that Concat, which then reads both from one float input.
"""

from __future__ import annotations

from typing import Any

from ..serving.metadata import TextCodes
from ..serving.text_codes import SEPARATOR


def lift(model: Any) -> tuple[Any, TextCodes | None]:
    """The graph reading codes instead of text, and the lookup's spec for the manifest; the
    graph unchanged and None when the text input does not go straight into the lookup."""
    import onnx

    graph = model.graph
    lookup = _lookup(graph)
    spec = _spec(graph, lookup) if lookup is not None else None
    if spec is None:
        return model, None
    element = onnx.TensorProto.FLOAT if spec.dtype == "float32" else onnx.TensorProto.INT64
    codes = onnx.helper.make_tensor_value_info(spec.input, element, [None, len(spec.levels)])
    joined = _joined(graph, codes) if spec.dtype == "float32" else None
    if joined is not None:
        spec.joined, new, inputs = joined.name, joined, [joined.name]
    else:
        new, inputs = codes, [i.name for i in graph.input if i.name != "categorical"]
        inputs.append(codes.name)
    typed = onnx.ModelProto()
    typed.CopyFrom(model)
    typed.graph.value_info.append(new)  # the Extractor reads its inputs' types from here
    outputs = [output.name for output in graph.output]
    lifted = onnx.utils.Extractor(typed).extract_model(inputs, outputs)
    del lifted.graph.value_info[:]  # only `new` again: skl2onnx writes none
    onnx.checker.check_model(lifted)
    return lifted, spec


def _readers(graph: Any, name: str) -> list[Any]:
    return [node for node in graph.node if name in node.input]


def _lookup(graph: Any) -> Any:
    """The LabelEncoder that alone reads StringConcat(prefixes, categorical), which alone reads
    the text input; None if the graph reads text otherwise."""
    concat = _readers(graph, "categorical")
    if len(concat) != 1 or concat[0].op_type != "StringConcat":
        return None
    prefixes = {i.name for i in graph.initializer}
    if concat[0].input[0] not in prefixes or list(concat[0].input[1:]) != ["categorical"]:
        return None
    lookup = _readers(graph, concat[0].output[0])
    return lookup[0] if len(lookup) == 1 and lookup[0].op_type == "LabelEncoder" else None


def _spec(graph: Any, lookup: Any) -> TextCodes | None:
    """The lookup's table per text column, read from its keys ("3\x1fYes": column 3, level
    "Yes"); None for a lookup that does not answer numbers."""
    from onnx import helper

    attrs = {a.name: helper.get_attribute_value(a) for a in lookup.attribute}
    if "values_floats" in attrs:
        dtype, values, default = "float32", attrs["values_floats"], attrs.get("default_float", 0.0)
    elif "values_int64s" in attrs:
        dtype, values, default = "int64", attrs["values_int64s"], attrs.get("default_int64", -1)
    else:
        return None
    levels: list[dict[str, Any]] = [{} for _ in range(_width(_input(graph, "categorical")))]
    for key, value in zip(attrs["keys_strings"], values, strict=True):
        position, level = key.decode("utf-8").split(SEPARATOR, 1)
        levels[int(position)][level] = value
    return TextCodes(dtype=dtype, default=default, levels=levels, input=lookup.output[0])


def _joined(graph: Any, codes: Any) -> Any:
    """The output of Concat([numeric, codes], axis=1), typed, when that Concat alone reads the
    numbers and the codes; else None."""
    from onnx import TensorProto, helper

    concat = _readers(graph, codes.name)
    if len(concat) != 1 or concat[0].op_type != "Concat":
        return None
    axis = helper.get_attribute_value(concat[0].attribute[0])
    if list(concat[0].input) != ["numeric", codes.name] or axis not in (1, -1):
        return None
    if _readers(graph, "numeric") != concat:
        return None
    width = sum(_width(info) for info in (_input(graph, "numeric"), codes))
    return helper.make_tensor_value_info(concat[0].output[0], TensorProto.FLOAT, [None, width])


def _input(graph: Any, name: str) -> Any:
    return next(i for i in graph.input if i.name == name)


def _width(info: Any) -> int:
    """The number of columns of a [rows, columns] tensor."""
    return info.type.tensor_type.shape.dim[1].dim_value
