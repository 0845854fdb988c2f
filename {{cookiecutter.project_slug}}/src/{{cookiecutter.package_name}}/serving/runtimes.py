"""The two runtimes behind `Predictor`: ONNX Runtime on the exported graph, or the fitted
scikit-learn pipeline."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import text_codes
from .artifacts import ModelLoadError
from .inputs import pipeline_frame

if TYPE_CHECKING:
    from .metadata import ServingManifest

Scorer = Callable[[Mapping[str, Any]], np.ndarray]


def onnx_scorer(
    path: Path, manifest: ServingManifest, threads: int = 1, graph: bytes | None = None
) -> Scorer:
    """Feature columns -> model output through ONNX Runtime.

    The graph reads a block of numbers (`numeric`) and one of text (`categorical`), or, when
    `export` took the text lookup out of it (manifest "text_codes", see `text_codes`), the
    numbers and the text's codes, often as one block.

    threads: 1 for the service (one worker process = one core; no thread hand-offs); 0 lets
    ONNX Runtime use every core, for the batch command's long tables.
    graph: the file's bytes, when they are in memory already (Spark's workers).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        model = str(path) if graph is None else graph
        session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ONNX Runtime's own errors (InvalidProtobuf, Fail, ...)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"{path}: not a graph ONNX Runtime can load: {reason}") from None
    numeric, categorical = manifest.inputs.numeric, manifest.inputs.categorical
    codes = manifest.text_codes
    output = [manifest.output]
    _check_names(path, session, feeds(manifest), manifest.output)

    def block(values: list[Any], dtype: Any) -> np.ndarray:
        # One (features, rows) array, transposed: np.stack costs several times more.
        return np.ascontiguousarray(np.array(values, dtype=dtype).T)

    def score(columns: Mapping[str, Any]) -> np.ndarray:
        feeds = {}
        numbers = [columns[name] for name in numeric]
        if codes is not None and codes.joined:
            coded = text_codes.encode(columns, categorical, codes)
            feeds[codes.joined] = block(numbers + coded, np.float32)
        else:
            if numeric:
                feeds["numeric"] = block(numbers, np.float32)
            if codes is not None:
                coded = text_codes.encode(columns, categorical, codes)
                feeds[codes.input] = block(coded, codes.dtype)
            elif categorical:
                feeds["categorical"] = block([columns[name] for name in categorical], object)
        return session.run(output, feeds)[0].astype(np.float64)

    return score


def feeds(manifest: ServingManifest) -> set[str]:
    """The graph inputs `onnx_scorer` feeds, as the manifest describes them."""
    codes, inputs = manifest.text_codes, manifest.inputs
    if codes is not None and codes.joined:
        return {codes.joined}
    names = {"numeric"} if inputs.numeric else set()
    if codes is not None:
        return names | {codes.input}
    return names | ({"categorical"} if inputs.categorical else set())


def _check_names(path: Path, session: Any, fed: set[str], output: str) -> None:
    """Refuse a graph whose inputs or outputs are not the ones its manifest describes."""
    inputs = {node.name for node in session.get_inputs()}
    outputs = {node.name for node in session.get_outputs()}
    if fed != inputs or output not in outputs:
        raise ModelLoadError(
            f"{path}: the graph reads {sorted(inputs)} and writes {sorted(outputs)}, "
            f"but its manifest feeds {sorted(fed)} and reads {output!r}; run `dvc repro export`"
        )


def sklearn_scorer(pipeline: Any, classification: bool) -> Scorer:
    """Feature columns -> model output through the fitted scikit-learn pipeline, which reads
    numbers at float32 precision as in training and in the ONNX graph (`pipeline_frame`)."""
    order = list(getattr(pipeline, "feature_names_in_", []))

    def score(columns: Mapping[str, Any]) -> np.ndarray:
        frame = pipeline_frame({name: columns[name] for name in order or columns})
        return pipeline.predict_proba(frame) if classification else pipeline.predict(frame)

    return score
