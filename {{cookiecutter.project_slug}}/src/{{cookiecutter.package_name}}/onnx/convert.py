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
    float32_bin_edges(fitted)
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


def float32_bin_edges(fitted: Any) -> None:
    """Each quantile bin edge (KBinsDiscretizer) raised to the nearest float32 at or above it,
    in place, and the median its imputer fills a gap with moved to a float32 in the same bin.

    The graph compares float32 values with float32 edges; scikit-learn compares the same
    float32 values (`serving.inputs`) with float64 edges, often midway between two float32
    values. Rounded to the nearest, such an edge could land on the value below it, which then
    fell into the upper bin in the graph and the lower one in scikit-learn (a Telco fold's
    monthly charge of 35.6 against an edge of 35.60000038: 0.006 of probability). Raised,
    every float32 value falls on the same side of it as of the float64 edge. The median is no
    float32 value, and it is itself (nearly) an edge, the middle one: it moves to a float32 in
    its own bin (unless no float32 value is in that bin: two edges one float32 step apart)."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import KBinsDiscretizer

    for step in _steps(fitted):
        if not isinstance(step, Pipeline):
            continue
        for before, (_, now) in zip([None, *step.steps], step.steps, strict=False):
            if not isinstance(now, KBinsDiscretizer):
                continue
            edges = np.empty(len(now.bin_edges_), dtype=object)  # one array per column
            edges[:] = [_raised(e) for e in now.bin_edges_]
            if isinstance(before, tuple) and isinstance(before[1], SimpleImputer):
                imputer = before[1]
                pairs = zip(imputer.statistics_, now.bin_edges_, edges, strict=True)
                imputer.statistics_ = np.array([_same_bin(*pair) for pair in pairs])
            now.bin_edges_ = edges


def _raised(values: np.ndarray) -> np.ndarray:
    """Each value as the nearest float32 at or above it (in float64)."""
    nearest = values.astype(np.float32)
    below = nearest < values
    nearest[below] = np.nextafter(nearest[below], np.float32(np.inf))
    return nearest.astype(np.float64)


def _same_bin(value: float, edges: np.ndarray, raised: np.ndarray) -> float:
    """A float32 near `value` in the bin of the raised edges that `value` is in of `edges`."""
    wanted = np.searchsorted(edges[1:-1], value, side="right")
    up = np.float32(_raised(np.array([value]))[0])
    for near in (up, np.nextafter(up, np.float32(-np.inf))):
        if np.searchsorted(raised[1:-1], near, side="right") == wanted:
            return float(near)
    return float(np.float32(value))


def _steps(estimator: Any) -> list[Any]:
    """The estimator and every estimator inside it (pipelines, unions, column transformers)."""
    found = [estimator]
    inner = getattr(estimator, "steps", None) or getattr(estimator, "transformer_list", None)
    inner = inner or getattr(estimator, "transformers_", None) or []
    for entry in inner:
        found += _steps(entry[1])
    return found


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
