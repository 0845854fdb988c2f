"""A blend (soft VotingClassifier or VotingRegressor over fitted pipelines,
`training.voting`) as one ONNX graph: each member converted as it would be alone, the
members' graphs side by side on the same two inputs (their names prefixed with the member's),
and their answers weighed and added up in float64, as scikit-learn averages them.

Members that encode text alike (the tree families' ordinal codes) share one text lookup, so
that `lift` can still take it out of the graph; a blend whose members encode text
differently (one-hot for the linear model) reads the text itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

OUTPUT = {True: "probabilities", False: "variable"}
SHARED = {"StringConcat", "LabelEncoder"}  # the text lookup's nodes (`imputed_codes`)


def is_blend(model: Any) -> bool:
    from sklearn.ensemble import VotingClassifier, VotingRegressor

    return isinstance(model, VotingClassifier | VotingRegressor)


def blend_graph(model: Any, convert: Callable[[Any], tuple[Any, str, list[str], list[str]]]):
    """The blend as one ONNX model; its output's name; the blocks' column order."""
    import onnx
    from onnx import TensorProto, helper

    names = [name for name, _ in model.estimators]
    parts = [convert(member) for member in model.estimators_]
    if len({(tuple(numbers), tuple(texts)) for _, _, numbers, texts in parts}) != 1:
        raise NotImplementedError("the blend's members read their columns in different orders")
    weights = np.asarray(model.weights, dtype=float)
    weights = weights / weights.sum()  # as np.average weighs them
    inputs = {i.name: i for part in parts for i in part[0].graph.input}
    nodes, initializers, summands = [], [], []
    for name, weight, (member, output, _, _) in zip(names, weights, parts, strict=True):
        prefix = f"{name}_"
        summands.append(_weighed(member, output, prefix, weight, list(inputs), nodes, initializers))
    classification = hasattr(model, "classes_")
    out = OUTPUT[classification]
    nodes.append(helper.make_node("Sum", summands, [out]))
    nodes = _shared_lookups(nodes, initializers)
    read = {edge for node in nodes for edge in node.input}
    width = len(model.classes_) if classification else 1
    graph = helper.make_graph(
        nodes,
        "blend",
        list(inputs.values()),
        [helper.make_tensor_value_info(out, TensorProto.DOUBLE, [None, width])],
        [i for i in initializers if i.name in read],
    )
    opsets: dict[str, int] = {}
    for member, *_ in parts:
        for entry in member.opset_import:
            opsets[entry.domain] = max(opsets.get(entry.domain, 0), entry.version)
    merged = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(domain, v) for domain, v in opsets.items()],
        ir_version=parts[0][0].ir_version,
        producer_name="blend",
    )
    onnx.checker.check_model(merged)
    return merged, out, parts[0][2], parts[0][3]


def _weighed(
    member: Any, output: str, prefix: str, weight: float, inputs: list[str], nodes, initializers
) -> str:
    """Add the member's graph, its names prefixed, reading the blend's inputs, and its output
    times its weight in float64 (to `nodes` and `initializers`); the product's name."""
    import onnx
    from onnx import TensorProto, helper

    graph = onnx.compose.add_prefix(member, prefix).graph
    shared = {prefix + name: name for name in inputs}
    for node in graph.node:
        node.input[:] = [shared.get(edge, edge) for edge in node.input]
    nodes += graph.node
    initializers += graph.initializer
    scale = helper.make_tensor(f"{prefix}weight", TensorProto.DOUBLE, [], [float(weight)])
    initializers.append(scale)
    answer, weighed = f"{prefix}answer", f"{prefix}weighed"
    nodes.append(helper.make_node("Cast", [prefix + output], [answer], to=TensorProto.DOUBLE))
    nodes.append(helper.make_node("Mul", [answer, scale.name], [weighed]))
    return weighed


def _shared_lookups(nodes: list[Any], initializers: list[Any]) -> list[Any]:
    """The nodes with each text lookup that repeats another (same op, same attributes, same
    inputs or constants of the same value) left out, its readers reading the first."""
    values = {i.name: _value(i) for i in initializers}
    seen: dict[tuple, list[str]] = {}
    renamed: dict[str, str] = {}
    kept = []
    for node in nodes:  # in the order they run: a node's inputs are renamed before it is seen
        node.input[:] = [renamed.get(edge, edge) for edge in node.input]
        if node.op_type not in SHARED:
            kept.append(node)
            continue
        key = (
            node.op_type,
            node.domain,
            tuple(values.get(edge, edge) for edge in node.input),
            tuple(a.SerializeToString() for a in node.attribute),
        )
        if key in seen:
            renamed |= dict(zip(node.output, seen[key], strict=True))
            continue
        seen[key] = list(node.output)
        kept.append(node)
    return kept


def _value(initializer: Any) -> bytes:
    """A constant's type, shape and contents, without its name."""
    from onnx import numpy_helper

    array = numpy_helper.to_array(initializer)
    return repr((array.dtype.str, array.shape, array.tolist())).encode()
