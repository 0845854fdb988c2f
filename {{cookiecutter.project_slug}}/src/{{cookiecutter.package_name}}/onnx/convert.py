"""The fitted pipeline (or a blend of pipelines, `blend`) as one ONNX graph with two inputs:
`numeric` (float32) and `categorical` (strings, "" for missing: the categorical and the
free-text columns), one column per pipeline input."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .blend import blend_graph, is_blend
from .converters import register_converters
from .imputed_codes import ImputedCodes
from .lift import lift
from .words import portable_lowercase

OPSETS = {"": 21, "ai.onnx.ml": 3}  # 20+ for StringConcat


def _for_blocks(pipeline: Any, numeric: list[str], categorical: list[str]):
    """A copy of the pipeline whose ColumnTransformer selects columns by position in the two
    input blocks (numbers, then text), with its text steps fused; and the blocks' column order.

    Positions instead of names: two inputs to bind instead of one per column, and column
    names with any characters in them never become ONNX names.
    """
    from sklearn.compose import ColumnTransformer

    fitted = copy.deepcopy(pipeline)
    preprocess = fitted.steps[0][1]
    if not isinstance(preprocess, ColumnTransformer):
        raise NotImplementedError("the pipeline does not start with a ColumnTransformer")
    # Each block in the order the transformers read it, so a step that takes a whole block
    # takes it as it is, without a slicing node.
    used = [c for _, _, cols in preprocess.transformers_ if isinstance(cols, list) for c in cols]
    numbers = [c for c in used if c in numeric] + [c for c in numeric if c not in used]
    texts = [c for c in used if c in categorical] + [c for c in categorical if c not in used]
    position = {name: i for i, name in enumerate(numbers + texts)}
    transformers = []
    for label, step, cols in preprocess.transformers_:
        if isinstance(cols, list) and not cols:
            continue  # a step with no columns (no text column in the table) was never fitted
        if isinstance(cols, list):
            cols = [position[c] for c in cols]
        elif isinstance(cols, str):  # one column, as a vectorizer of its words reads it
            cols = position[cols]
        elif not (isinstance(step, str) and step == "drop"):
            raise NotImplementedError(f"ColumnTransformer step {label!r} selects {cols!r}")
        transformers.append((label, ImputedCodes.replacing(step), cols))
    preprocess.transformers_ = transformers
    preprocess.feature_names_in_ = np.array([f"c{i}" for i in range(len(position))], dtype=object)
    return fitted, numbers, texts


def to_onnx(pipeline: Any, numeric: list[str], categorical: list[str], classification: bool):
    """The fitted pipeline (or blend of pipelines) as an ONNX model with inputs `numeric` and
    `categorical`; the name of the output to read (class probabilities, or predicted values);
    the blocks' column order; and the text lookup taken out of the graph (`lift.lift`), or
    None."""

    def convert(member: Any) -> tuple[Any, str, list[str], list[str]]:
        return _converted(member, numeric, categorical, classification)

    if is_blend(pipeline):
        model, output, numbers, texts = blend_graph(pipeline, convert)
    else:
        model, output, numbers, texts = convert(pipeline)
    model, codes = lift(model)
    return model, output, numbers, texts, codes


def _converted(pipeline: Any, numeric: list[str], categorical: list[str], classification: bool):
    """One pipeline as an ONNX model; its output to read; the blocks' column order."""
    import onnx
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    register_converters()
    fitted, numbers, texts = _for_blocks(pipeline, numeric, categorical)
    types = []
    if numbers:
        types.append(("numeric", FloatTensorType([None, len(numbers)])))
    if texts:
        types.append(("categorical", StringTensorType([None, len(texts)])))
    options = {id(fitted.steps[-1][1]): {"zipmap": False}} if classification else None
    model = convert_sklearn(fitted, initial_types=types, target_opset=OPSETS, options=options)
    portable_lowercase(model)
    onnx.checker.check_model(model)
    outputs = [output.name for output in model.graph.output]
    return model, outputs[1] if classification else outputs[0], numbers, texts
