"""Stage `export`: the champion pipeline as one ONNX graph, checked against scikit-learn.

The graph holds the whole fitted pipeline (imputers, encoders, scaler, model) and takes two
inputs: `numeric` (float32) and `categorical` (strings, "" for missing), one column per
pipeline input in the order models/serving/manifest.json lists. What runs before it, schema
coercion and `features.add_features`, is the same Python code for both runtimes.

Parity is checked raw row in, answer out, on the whole test split, on a perturbed copy
(missing values, unseen and oddly cased categories, numbers beyond the training range) and
through the API's record path: the largest difference in probabilities (classification) or
relative difference in predictions (regression: float32 carries 7 digits) must stay within
1e-5, or the stage fails. A pipeline that cannot be converted is served by scikit-learn
instead, with a warning, and the manifest says why.
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

from . import cli
from .predictor import (
    MANIFEST_FILE,
    ONNX_FILE,
    Predictor,
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


def _register_converters() -> None:
    """Teach skl2onnx the parts of our pipelines it does not know by itself."""
    from lightgbm import LGBMClassifier, LGBMRegressor
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder
    from xgboost import XGBClassifier, XGBRegressor

    classifier_options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    for model, alias, convert in [
        (LGBMClassifier, "LightGbmLGBMClassifier", convert_lightgbm),
        (XGBClassifier, "XGBoostXGBClassifier", convert_xgboost),
    ]:
        update_registered_converter(
            model, alias, calculate_linear_classifier_output_shapes, convert, options=classifier_options
        )
    for model, alias, convert in [
        (LGBMRegressor, "LightGbmLGBMRegressor", convert_lightgbm),
        (XGBRegressor, "XGBoostXGBRegressor", convert_xgboost),
    ]:
        update_registered_converter(model, alias, calculate_linear_regressor_output_shapes, convert)
    update_registered_converter(
        SimpleImputer, "SklearnSimpleImputer", _imputer_shape, _convert_imputer
    )
    update_registered_converter(
        OneHotEncoder, "SklearnOneHotEncoder", _one_hot_shape, _convert_one_hot
    )
    update_registered_converter(
        ImputedCodes, "ImputedCodes", _imputed_codes_shape, _convert_imputed_codes
    )
    update_registered_converter(
        TransformedTargetRegressor,
        "SklearnTransformedTargetRegressor",
        calculate_linear_regressor_output_shapes,
        _convert_log_target,
    )


def _imputer_shape(operator: Any) -> None:
    """skl2onnx's imputer shape, plus the missing-value indicator columns."""
    from skl2onnx.shape_calculators.imputer import calculate_sklearn_imputer_output_shapes

    calculate_sklearn_imputer_output_shapes(operator)
    imputer = operator.raw_operator
    shape = operator.outputs[0].type.shape
    if imputer.add_indicator and shape[1] is not None:
        shape[1] += len(imputer.indicator_.features_)


def _convert_imputer(scope: Any, operator: Any, container: Any) -> None:
    """SimpleImputer, also with add_indicator=True (which skl2onnx does not convert)."""
    from onnx import TensorProto
    from skl2onnx.operator_converters.common import concatenate_variables
    from skl2onnx.operator_converters.imputer_op import convert_sklearn_imputer

    imputer = operator.raw_operator
    if not imputer.add_indicator:
        convert_sklearn_imputer(scope, operator, container)
        return
    missing = imputer.missing_values
    if not (isinstance(missing, float) and np.isnan(missing)):
        raise NotImplementedError("add_indicator is converted for missing_values=NaN only")
    names = {
        key: scope.get_unique_variable_name(key) for key in ("imputed", "isnan", "cols", "flags")
    }
    inputs = concatenate_variables(scope, operator.inputs, container)
    container.add_node(
        "Imputer",
        inputs,
        names["imputed"],
        op_domain="ai.onnx.ml",
        name=scope.get_unique_operator_name("Imputer"),
        imputed_value_floats=imputer.statistics_.astype(np.float32),
        replaced_value_float=float("nan"),
    )
    container.add_node("IsNaN", inputs, names["isnan"], name=scope.get_unique_operator_name("IsNaN"))
    columns = imputer.indicator_.features_.astype(np.int64)
    index = scope.get_unique_variable_name("indicator_columns")
    container.add_initializer(index, TensorProto.INT64, [len(columns)], columns.tolist())
    container.add_node(
        "Gather",
        [names["isnan"], index],
        names["cols"],
        axis=1,
        name=scope.get_unique_operator_name("Gather"),
    )
    container.add_node(
        "Cast",
        names["cols"],
        names["flags"],
        to=TensorProto.FLOAT,
        name=scope.get_unique_operator_name("Cast"),
    )
    container.add_node(
        "Concat",
        [names["imputed"], names["flags"]],
        operator.outputs[0].full_name,
        axis=1,
        name=scope.get_unique_operator_name("Concat"),
    )


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

    one, middle_axis = constant("one", TensorProto.FLOAT, [1.0]), constant("axis", TensorProto.INT64, [1])
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
        "Concat", parts, operator.outputs[0].full_name, axis=1, name=scope.get_unique_operator_name("Concat")
    )


def _convert_log_target(scope: Any, operator: Any, container: Any) -> None:
    """TransformedTargetRegressor(func=np.log, inverse_func=np.exp): the regressor, then exp."""
    from skl2onnx.algebra.onnx_operator import OnnxSubEstimator
    from skl2onnx.algebra.onnx_ops import OnnxExp

    wrapper = operator.raw_operator
    if wrapper.transformer is not None or wrapper.inverse_func is not np.exp:
        raise NotImplementedError("only TransformedTargetRegressor(inverse_func=np.exp) converts")
    opset = container.target_opset
    inner = OnnxSubEstimator(wrapper.regressor_, operator.inputs[0], op_version=opset)
    outputs = [operator.outputs[0].full_name]
    OnnxExp(inner, op_version=opset, output_names=outputs).add_to(scope, container)


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
        if not fills or not isinstance(imputer.missing_values, str) or imputer.add_indicator:
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


def _imputed_codes_shape(operator: Any) -> None:
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.preprocessing import OneHotEncoder

    encoder = operator.raw_operator.encoder
    width = len(encoder.categories_)
    if isinstance(encoder, OneHotEncoder):
        width = sum(
            len(levels) + bucket
            for levels, bucket in map(
                lambda i: _one_hot_columns(encoder, i), range(len(encoder.categories_))
            )
        )
    rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([rows, width])


def _convert_imputed_codes(scope: Any, operator: Any, container: Any) -> None:
    """Every text column in one lookup: each value is prefixed with its column's position
    ("3\x1fYes"), so that one LabelEncoder holds the codes of all columns. Three to six nodes
    in all, however many columns."""
    from onnx import TensorProto
    from skl2onnx.operator_converters.common import concatenate_variables
    from sklearn.preprocessing import OneHotEncoder

    step = operator.raw_operator
    imputer, encoder = step.imputer, step.encoder
    width = len(encoder.categories_)

    def constant(key: str, dtype: int, values: list[Any], shape: list[int]) -> str:
        output = scope.get_unique_variable_name(key)
        container.add_initializer(output, dtype, shape, values)
        return output

    def node(op_type: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        output = output or scope.get_unique_variable_name(op_type.lower())
        name = scope.get_unique_operator_name(op_type)
        container.add_node(op_type, inputs, output, name=name, **attrs)
        return output

    def key(i: int, level: Any) -> str:
        return f"{i}\x1f{level}"

    prefixes = [key(i, "").encode("utf-8") for i in range(width)]
    text = concatenate_variables(scope, operator.inputs, container)
    keyed = node("StringConcat", [constant("prefix", TensorProto.STRING, prefixes, [1, width]), text])
    ml = {"op_domain": "ai.onnx.ml", "op_version": 2}
    output = operator.outputs[0].full_name
    if not isinstance(encoder, OneHotEncoder):
        codes, unknown = {}, float(encoder.unknown_value)
        for i, levels in enumerate(encoder.categories_):
            column = {key(i, level): float(j) for j, level in enumerate(levels)}
            column[key(i, imputer.missing_values)] = column.get(key(i, imputer.statistics_[i]), unknown)
            codes |= column
        node(
            "LabelEncoder",
            [keyed],
            output,
            keys_strings=list(codes),
            values_floats=list(codes.values()),
            default_float=unknown,
            **ml,
        )
        return
    codes, buckets, offset = {}, [], 0
    for i in range(width):
        frequent, bucket = _one_hot_columns(encoder, i)
        column = {key(i, level): offset + j for j, level in enumerate(frequent)}
        if bucket:
            column |= {key(i, level): offset + len(frequent) for level in encoder.infrequent_categories_[i]}
        unknown = offset + len(frequent) if bucket and encoder.handle_unknown != "ignore" else -1
        column[key(i, imputer.missing_values)] = column.get(key(i, imputer.statistics_[i]), unknown)
        codes |= column
        buckets.append(unknown)
        offset += len(frequent) + bucket
    index = node(
        "LabelEncoder",
        [keyed],
        keys_strings=list(codes),
        values_int64s=list(codes.values()),
        default_int64=-1,
        **ml,
    )
    if any(bucket >= 0 for bucket in buckets):  # unknown levels go to their column's bucket
        none = constant("minus_one", TensorProto.INT64, [-1], [1])
        fallback = constant("buckets", TensorProto.INT64, buckets, [1, width])
        index = node("Where", [node("Equal", [index, none]), fallback, index])
    hot = node("OneHotEncoder", [index], cats_int64s=list(range(offset)), zeros=1, op_domain="ai.onnx.ml")
    columns_axis = constant("axis", TensorProto.INT64, [1], [1])
    node("ReduceSum", [hot, columns_axis], output, keepdims=0)  # [rows, columns, width] -> [rows, width]


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
    the output to read (class probabilities, or predicted values); the blocks' column order."""
    import onnx
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    _register_converters()
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
    return model, outputs[1] if classification else outputs[0], numbers, texts


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
        expected[label] = reference.predict_frame(frame)
        if np.isnan(_output(*expected[label])).any():
            raise ParityError(f"the scikit-learn pipeline answers NaN on the {label} rows")
    scale = 1.0 if classification else max(1.0, float(np.abs(_output(*expected["test"])).mean()))

    answers = served.predict_rows(api_rows(shaken, schema))
    if classification:
        names = [str(c) for c in reference.classes]
        api = [a["prediction"] for a in answers], np.array(
            [[a["probabilities"][n] for n in names] for a in answers]
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
        model, output, numeric, categorical = to_onnx(
            reference.pipeline, numeric, categorical, classification
        )
    except Exception as exc:  # converters fail in many ways (unknown estimator, shapes, options)
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        log.warning("%s cannot be converted to ONNX; serving scikit-learn: %s", meta["champion"], reason)
        _write(out_dir, manifest | {"format": "sklearn", "reason": reason}, None)
        return {"runtime": "sklearn", "reason": reason}

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ONNX_FILE
        path.write_bytes(model.SerializeToString())
        manifest |= {
            "format": "onnx",
            "file": ONNX_FILE,
            "sha256": sha256(path),
            "inputs": {"numeric": numeric, "categorical": categorical},
            "output": output,
            "opsets": OPSETS,
            "versions": {name: version(name) for name in ("skl2onnx", "onnxruntime")},
        }
        served = Predictor(None, meta, manifest, onnx_scorer(path, manifest))
        checks = check_parity(reference, served, test, seed)
        worst = max(checks.items(), key=lambda item: item[1]["max_difference"])
        report = {"runtime": "onnx", "tolerance": TOLERANCE, "checks": checks}
        if worst[1]["max_difference"] > TOLERANCE:
            what = "probability" if classification else "relative prediction"
            raise ParityError(
                f"ONNX and scikit-learn disagree on the {worst[0]} rows: largest {what} "
                f"difference {worst[1]['max_difference']:.2e} > {TOLERANCE:g}. A float64 step "
                "in front of trees (such as a scaler) often causes this; models/serving/ was "
                "left as it was"
            )
        manifest["parity"] = {name: check["max_difference"] for name, check in checks.items()}
        _write(out_dir, manifest, path)
    return report


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
