"""Stage `export`: the champion pipeline as one ONNX graph, checked against scikit-learn.

The graph holds the fitted pipeline (imputers, encoders, scaler, model) and takes two
inputs: `numeric` (float32) and `categorical` (strings, "" for missing), one column per
pipeline input in the order models/serving/manifest.json lists. The text encoders' lookup is
then taken out of the graph into the manifest (`text_codes`): the served graph reads level
codes, often in one block with the numbers. What runs before it, schema coercion and
`features.add_features`, is the same Python code for both runtimes.

Parity is checked raw row in, answer out, on the whole test split, on a perturbed copy
(missing values, unseen and oddly cased categories, numbers beyond the training range) and
through the API's record path: the largest difference in probabilities (classification) or
relative difference in predictions (regression: float32 carries 7 digits) must stay within
1e-5, else the stage fails and writes nothing: a graph that answers differently is never
served. A pipeline that cannot be converted at all (a step no converter knows) is served by
scikit-learn instead, with a warning, and the manifest and reports/parity.json say why.
"""

from __future__ import annotations

import argparse
import copy
import logging
import shutil
import tempfile
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import cli, text_codes
from .converters import ImputedCodes, register_converters
from .predictor import (
    MANIFEST_FILE,
    MODEL_FILE,
    ONNX_FILE,
    Predictor,
    model_input,
    onnx_scorer,
    sha256,
)
from .schema import Schema, clean_columns
from .tables import write_json

log = logging.getLogger(__name__)

TOLERANCE = 1e-5
OPSETS = {"": 21, "ai.onnx.ml": 3}  # 20+ for StringConcat
PERTURBED_SHARE = 0.1


class ParityError(cli.StageError):
    """The ONNX graph does not answer like the scikit-learn pipeline."""


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
        elif not (isinstance(step, str) and step == "drop"):
            raise NotImplementedError(f"ColumnTransformer step {label!r} selects {cols!r}")
        transformers.append((label, ImputedCodes.replacing(step), cols))
    preprocess.transformers_ = transformers
    preprocess.feature_names_in_ = np.array([f"c{i}" for i in range(len(position))], dtype=object)
    return fitted, numbers, texts


def to_onnx(pipeline: Any, numeric: list[str], categorical: list[str], classification: bool):
    """The fitted pipeline as an ONNX model with inputs `numeric` and `categorical`; the name of
    the output to read (class probabilities, or predicted values); the blocks' column order;
    and the text lookup taken out of the graph (`text_codes.lift`), or None."""
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
    onnx.checker.check_model(model)
    outputs = [output.name for output in model.graph.output]
    model, codes = text_codes.lift(model)
    return model, outputs[1] if classification else outputs[0], numbers, texts, codes


def perturbed(clean: pd.DataFrame, schema: Schema, seed: int) -> pd.DataFrame:
    """Clean rows with gaps, unseen and oddly cased categories, and out-of-range numbers."""
    rng = np.random.default_rng(seed)
    out = clean.copy()
    rows = len(out)
    for name, spec in schema.columns.items():
        values = out[name].astype(object).to_numpy(copy=True)
        if spec.kind == "numeric" and spec.min is not None and spec.max is not None:
            beyond = rng.random(rows) < PERTURBED_SHARE
            values[beyond] = spec.max + (spec.max - spec.min + 1.0) * rng.random(beyond.sum())
        elif spec.kind == "categorical":
            unseen = rng.random(rows) < PERTURBED_SHARE
            values[unseen] = [f"never seen {k}" for k in range(int(unseen.sum()))]
            cased = rng.random(rows) < PERTURBED_SHARE
            values[cased] = [f"  {str(v).upper()} " for v in values[cased]]
        values[rng.random(rows) < PERTURBED_SHARE] = None
        out[name] = values
    return out


def api_rows(frame: pd.DataFrame, schema: Schema) -> list[tuple[Any, ...]]:
    """Rows as the API hands them over after validation: float, str or None per column."""
    columns = []
    for name, spec in schema.columns.items():
        values = frame[name].astype(object)
        if spec.kind == "numeric":
            columns.append([None if pd.isna(v) else float(v) for v in values])
        elif spec.kind == "datetime":
            columns.append([None if pd.isna(v) else pd.Timestamp(v).isoformat() for v in values])
        else:
            columns.append([None if pd.isna(v) else str(v) for v in values])
    return list(zip(*columns, strict=True))


def _output(labels: list[Any], proba: np.ndarray | None) -> np.ndarray:
    return np.asarray(labels, dtype=float) if proba is None else proba


def training_path(reference: Predictor, frame: pd.DataFrame) -> tuple[list[Any], Any]:
    """Labels and probabilities exactly as training computed its inputs (`model_input`)."""
    features = model_input(frame, reference.schema)
    pipeline = reference.pipeline
    classification = reference.classes is not None
    return reference.decode(
        pipeline.predict_proba(features) if classification else pipeline.predict(features)
    )


def check_parity(reference: Predictor, served: Predictor, test: pd.DataFrame, seed: int) -> dict:
    """Compare the runtimes on the test split, a perturbed copy, and the API's record path.

    The difference is absolute for probabilities. For predicted values it is relative to the
    larger of the prediction itself and the mean absolute prediction on the test split: float32
    keeps about 7 significant digits of the values it adds up.
    """
    schema = reference.schema
    classification = reference.classes is not None
    shaken = perturbed(clean_columns(test, schema), schema, seed)
    expected = {}
    for label, frame in [("test", test), ("perturbed", shaken)]:
        expected[label] = training_path(reference, frame)
        if np.isnan(_output(*expected[label])).any():
            raise ParityError(f"the scikit-learn pipeline answers NaN on the {label} rows")
    scale = 1.0 if classification else max(1.0, float(np.abs(_output(*expected["test"])).mean()))

    answers = served.predict_rows(api_rows(shaken, schema))
    if classification:
        names = [str(c) for c in reference.classes]
        api = (
            [a["prediction"] for a in answers],
            np.array([[a["probabilities"][n] for n in names] for a in answers]),
        )
    else:
        api = [a["prediction"] for a in answers], None
    runs = {
        "test": (expected["test"], served.predict_frame(test)),
        "perturbed": (expected["perturbed"], served.predict_frame(shaken)),
        "api_records": (expected["perturbed"], api),
    }
    report = {}
    for label, ((ref_labels, ref_proba), (labels, proba)) in runs.items():
        wanted = _output(ref_labels, ref_proba)
        gap = np.abs(_output(labels, proba) - wanted)
        if not classification:
            gap = gap / np.maximum(scale, np.abs(wanted))
        report[label] = {
            "rows": len(labels),
            "max_difference": float(gap.max()) if gap.size else 0.0,
        }
        if classification:
            mismatches = sum(a != b for a, b in zip(ref_labels, labels, strict=True))
            report[label]["label_mismatches"] = int(mismatches)
    return report


def require_parity(checks: dict[str, dict[str, Any]], classification: bool) -> None:
    """Raise ParityError naming the worst check when any difference exceeds TOLERANCE."""
    label, worst = max(checks.items(), key=lambda item: item[1]["max_difference"])
    if worst["max_difference"] > TOLERANCE:
        what = "probability" if classification else "relative prediction"
        raise ParityError(
            f"ONNX and scikit-learn disagree on the {label} rows: largest {what} difference "
            f"{worst['max_difference']:.2e} > {TOLERANCE:g}"
        )


def graph_predictor(
    meta: dict[str, Any],
    model: Any,
    output: str,
    numeric: list[str],
    categorical: list[str],
    codes: dict[str, Any] | None,
    path: Path,
) -> Predictor:
    """The converted graph written to path, loaded as the service loads it."""
    path.write_bytes(model.SerializeToString())
    manifest = {
        "format": "onnx",
        "file": path.name,
        "sha256": sha256(path),
        "inputs": {"numeric": numeric, "categorical": categorical},
        "output": output,
        "text_codes": codes,
    }
    return Predictor(None, meta, manifest, onnx_scorer(path, manifest))


def export(model_dir: Path, test: pd.DataFrame, out_dir: Path, seed: int = 0) -> dict[str, Any]:
    """Convert, check and write models/serving/; return the parity report."""
    reference = Predictor.load(model_dir, runtime="sklearn")
    meta = reference.meta
    numeric, categorical = meta["features"]["numeric"], meta["features"]["categorical"]
    classification = reference.classes is not None
    manifest: dict[str, Any] = {
        "source_sha256": meta["sha256"],
        "champion": meta["champion"],
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        model, output, numeric, categorical, codes = to_onnx(
            reference.pipeline, numeric, categorical, classification
        )
    except Exception as exc:  # converters fail in many ways (unknown estimator, shapes, options)
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        log.warning(
            "%s cannot be converted to ONNX; serving scikit-learn: %s", meta["champion"], reason
        )
        _write(out_dir, manifest | {"format": "sklearn", "reason": reason}, None)
        return {"runtime": "sklearn", "reason": reason}

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ONNX_FILE
        served = graph_predictor(meta, model, output, numeric, categorical, codes, path)
        manifest |= served.manifest | {
            "opsets": OPSETS,
            "versions": {name: version(name) for name in ("skl2onnx", "onnxruntime")},
        }
        checks = check_parity(reference, served, test, seed)
        try:
            require_parity(checks, classification)
        except ParityError as exc:  # never serve a graph that answers differently
            family = meta["champion"]
            raise ParityError(
                f"{model_dir / MODEL_FILE} ({family}): {exc}; nothing was written. To train "
                f"another champion, set train.models.{family}.enabled: false in params.yaml."
            ) from None
        manifest["parity"] = {name: check["max_difference"] for name, check in checks.items()}
        _write(out_dir, manifest, path)
    return {"runtime": "onnx", "tolerance": TOLERANCE, "checks": checks}


def _write(out_dir: Path, manifest: dict[str, Any], onnx_file: Path | None) -> None:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    if onnx_file is not None:
        shutil.copyfile(onnx_file, out_dir / ONNX_FILE)
    write_json(manifest, out_dir / MANIFEST_FILE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder for the served model")
    parser.add_argument("--report", type=Path, required=True, help="parity report (JSON)")
    args = parser.parse_args()

    report = export(args.model_dir, pd.read_parquet(args.test), args.out)
    write_json(report, args.report)
    if report["runtime"] == "onnx":
        shown = ", ".join(f"{k} {v['max_difference']:.1e}" for k, v in report["checks"].items())
        log.info("exported %s to ONNX; parity (max difference): %s", args.out, shown)


if __name__ == "__main__":
    cli.run(main)
