"""ONNX converters for the pipeline steps skl2onnx does not convert, or converts slowly.

- LightGBM and XGBoost models: onnxmltools' converters, registered with skl2onnx; LightGBM's
  made to decide as LightGBM does (`_convert_lightgbm`), XGBoost's regressor to add up its
  trees in XGBoost's order (`_convert_xgboost_regressor`);
- RandomForestRegressor: skl2onnx's converter, averaging in float64 as scikit-learn does;
- SimpleImputer(add_indicator=True): the imputed columns, then the missing-value flags;
- OneHotEncoder(handle_unknown="infrequent_if_exist"): unknown levels go to the infrequent
  bucket, as in scikit-learn (skl2onnx refuses them);
- TransformedTargetRegressor(inverse_func=np.exp): the regressor, then exp;
- ImputedCodes: a text imputer followed by an ordinal or one-hot encoder, as one lookup for all
  columns instead of about seven nodes per column, which makes a single-row call several
  times cheaper.

Each is checked by the `export` stage's parity test, raw row in, answer out.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def register_converters() -> None:
    """Teach skl2onnx the parts of our pipelines it does not know by itself."""
    from lightgbm import LGBMClassifier, LGBMRegressor
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder
    from xgboost import XGBClassifier, XGBRegressor

    classifier_options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    for model, alias, convert in [
        (LGBMClassifier, "LightGbmLGBMClassifier", _convert_lightgbm),
        (XGBClassifier, "XGBoostXGBClassifier", convert_xgboost),
    ]:
        update_registered_converter(
            model,
            alias,
            calculate_linear_classifier_output_shapes,
            convert,
            options=classifier_options,
        )
    for model, alias, convert in [
        (LGBMRegressor, "LightGbmLGBMRegressor", _convert_lightgbm),
        (XGBRegressor, "XGBoostXGBRegressor", _convert_xgboost_regressor),
    ]:
        update_registered_converter(model, alias, calculate_linear_regressor_output_shapes, convert)
    update_registered_converter(
        RandomForestRegressor,
        "SklearnRandomForestRegressor",
        calculate_linear_regressor_output_shapes,
        _convert_forest_regressor,
        options={"decision_path": [True, False], "decision_leaf": [True, False]},
    )
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


def _convert_lightgbm(scope: Any, operator: Any, container: Any) -> None:
    """onnxmltools' LightGBM converter, corrected where the graph would answer otherwise.

    LightGBM compares float64 values with float64 split points and adds its trees up in
    float64, where the converted trees use float32 for both: a value between a split point
    and its float32 rounding took the other branch (on Ames' longitudes, 0.2% of a price)
    and the sum of hundreds of trees drifted. The trees here keep float64 split points and
    leaf values and read the inputs as float64 (`_Float64Trees`). And a feature without gaps
    in training reads a gap as 0.0 in LightGBM, while the converted tree would follow the
    node's default branch: the graph turns those gaps into 0.0 first.
    """
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm

    gapless = _gapless_features(operator.raw_operator.booster_)
    convert_lightgbm(scope, operator, _Float64Trees(scope, container, gapless))


def _convert_forest_regressor(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx's random forest regressor, averaging its trees in float64 as scikit-learn
    does (in float32, a log price drifted by 8e-6 over 300 trees)."""
    from skl2onnx.operator_converters.random_forest import (
        convert_sklearn_random_forest_regressor_converter as convert,
    )

    convert(scope, operator, _Float64Trees(scope, container))


def _convert_xgboost_regressor(scope: Any, operator: Any, container: Any) -> None:
    """onnxmltools' XGBoost converter, adding the trees up in XGBoost's order.

    XGBoost adds its trees to the base score one by one in float32; the converted ensemble
    adds the trees first and the base score last, which rounds differently: on Ames, 1.3e-5 of
    a log price. With the base score folded into the first tree's leaves, the order is
    XGBoost's own.
    """
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost

    convert_xgboost(scope, operator, _XGBoostTrees(container))


def _gapless_features(booster: Any) -> list[bool]:
    """Per feature: whether LightGBM reads a gap in it as 0.0 (no gaps seen in training)."""
    gapless = [False] * booster.num_feature()
    pending = [tree["tree_structure"] for tree in booster.dump_model()["tree_info"]]
    while pending:
        node = pending.pop()
        if "split_feature" not in node:
            continue
        if node["decision_type"] == "<=" and node["missing_type"] == "None":
            gapless[node["split_feature"]] = True
        pending += [node["left_child"], node["right_child"]]
    return gapless


class _Proxy:
    """A converter's container, passed on to a converter so that we can edit one node."""

    def __init__(self, container: Any) -> None:
        self._container = container

    def __getattr__(self, name: str) -> Any:
        return getattr(self._container, name)


class _Float64Trees(_Proxy):
    """Tree-ensemble nodes with float64 split points, leaf values and input (ai.onnx.ml 3),
    and, where `gapless` says so, gaps in the input read as 0.0."""

    TREES = ("TreeEnsembleRegressor", "TreeEnsembleClassifier")
    NUMBERS = ("nodes_values", "target_weights", "class_weights", "base_values")

    def __init__(self, scope: Any, container: Any, gapless: list[bool] | None = None) -> None:
        super().__init__(container)
        self._scope, self._gapless = scope, gapless

    def add_node(self, op_type: str, inputs: Any, outputs: Any, *args: Any, **attrs: Any) -> Any:
        if op_type in self.TREES:
            from onnx import TensorProto, helper

            for key in self.NUMBERS:
                if key in attrs:
                    values = [float(value) for value in attrs.pop(key)]
                    attrs[f"{key}_as_tensor"] = helper.make_tensor(
                        key, TensorProto.DOUBLE, [len(values)], values
                    )
            if attrs.get("op_version") is not None:
                attrs["op_version"] = max(attrs["op_version"], 3)
            features = inputs[0] if isinstance(inputs, list) else inputs
            if self._gapless and any(self._gapless):
                features = self._gaps_as_zero(features, self._gapless)
            inputs = [self._node("Cast", [features], to=TensorProto.DOUBLE)]
        return self._container.add_node(op_type, inputs, outputs, *args, **attrs)

    def _node(self, op_type: str, inputs: list[str], **attrs: Any) -> str:
        output = self._scope.get_unique_variable_name(op_type.lower())
        name = self._scope.get_unique_operator_name(op_type)
        self._container.add_node(op_type, inputs, output, name=name, **attrs)
        return output

    def _gaps_as_zero(self, features: str, gapless: list[bool]) -> str:
        from onnx import TensorProto

        mask = self._scope.get_unique_variable_name("gapless")
        zero = self._scope.get_unique_variable_name("zero")
        self._container.add_initializer(mask, TensorProto.BOOL, [1, len(gapless)], gapless)
        self._container.add_initializer(zero, TensorProto.FLOAT, [], [0.0])
        gaps = self._node("And", [self._node("IsNaN", [features]), mask])
        return self._node("Where", [gaps, zero, features])


class _XGBoostTrees(_Proxy):
    """The regressor's tree-ensemble node with the base score in the first tree's leaves."""

    def add_node(self, op_type: str, inputs: Any, outputs: Any, *args: Any, **attrs: Any) -> Any:
        base = attrs.get("base_values")
        if op_type == "TreeEnsembleRegressor" and base is not None and len(base) == 1:
            first, start = min(attrs["target_treeids"]), np.float32(base[0])
            attrs["target_weights"] = [
                float(start + np.float32(weight)) if tree == first else weight
                for tree, weight in zip(
                    attrs["target_treeids"], attrs["target_weights"], strict=True
                )
            ]
            attrs["base_values"] = [0.0]
        return self._container.add_node(op_type, inputs, outputs, *args, **attrs)


def _kept(imputer: Any) -> np.ndarray:
    """The input columns a fitted SimpleImputer keeps: it drops those never seen filled."""
    empty = [isinstance(value, float) and np.isnan(value) for value in imputer.statistics_]
    return np.flatnonzero(~np.array(empty, dtype=bool))


def _imputer_shape(operator: Any) -> None:
    from skl2onnx.shape_calculators.imputer import calculate_sklearn_imputer_output_shapes

    calculate_sklearn_imputer_output_shapes(operator)
    imputer = operator.raw_operator
    flags = len(imputer.indicator_.features_) if imputer.add_indicator else 0
    operator.outputs[0].type.shape[1] = len(_kept(imputer)) + flags


def _convert_imputer(scope: Any, operator: Any, container: Any) -> None:
    """Numeric SimpleImputer as scikit-learn computes it: without the columns it drops (no
    value seen in training) and with the add_indicator flags, neither of which skl2onnx does."""
    from onnx import TensorProto
    from skl2onnx.common.data_types import StringTensorType
    from skl2onnx.operator_converters.common import concatenate_variables
    from skl2onnx.operator_converters.imputer_op import convert_sklearn_imputer

    imputer = operator.raw_operator
    kept = _kept(imputer)
    plain = not imputer.add_indicator and len(kept) == len(imputer.statistics_)
    if isinstance(operator.inputs[0].type, StringTensorType) and not plain:
        raise NotImplementedError("a text SimpleImputer that drops columns or adds flags")
    if plain:
        convert_sklearn_imputer(scope, operator, container)
        return
    missing = imputer.missing_values
    if not (isinstance(missing, float) and np.isnan(missing)):
        raise NotImplementedError("SimpleImputer is converted for missing_values=NaN only")

    def node(op_type: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        output = output or scope.get_unique_variable_name(op_type.lower())
        name = scope.get_unique_operator_name(op_type)
        container.add_node(op_type, inputs, output, name=name, **attrs)
        return output

    def columns(values: np.ndarray) -> str:
        output = scope.get_unique_variable_name("columns")
        container.add_initializer(output, TensorProto.INT64, [len(values)], values.tolist())
        return output

    inputs = concatenate_variables(scope, operator.inputs, container)
    output = operator.outputs[0].full_name
    selected = inputs
    if len(kept) < len(imputer.statistics_):
        selected = node("Gather", [inputs, columns(kept)], axis=1)
    statistics = imputer.statistics_[kept].astype(np.float32)
    imputed = node(
        "Imputer",
        [selected],
        None if imputer.add_indicator else output,
        op_domain="ai.onnx.ml",
        imputed_value_floats=statistics,
        replaced_value_float=float("nan"),
    )
    if imputer.add_indicator:
        flagged = imputer.indicator_.features_.astype(np.int64)
        flags = node("Gather", [node("IsNaN", [inputs]), columns(flagged)], axis=1)
        node("Concat", [imputed, node("Cast", [flags], to=TensorProto.FLOAT)], output, axis=1)


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

    one, middle_axis = (
        constant("one", TensorProto.FLOAT, [1.0]),
        constant("axis", TensorProto.INT64, [1]),
    )
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
        "Concat",
        parts,
        operator.outputs[0].full_name,
        axis=1,
        name=scope.get_unique_operator_name("Concat"),
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
    kept = _kept(imputer)  # the encoder's columns: those the imputer did not drop
    width = len(kept)

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
    if width < len(imputer.statistics_):
        text = node(
            "Gather", [text, constant("kept", TensorProto.INT64, kept.tolist(), [width])], axis=1
        )
    keyed = node(
        "StringConcat", [constant("prefix", TensorProto.STRING, prefixes, [1, width]), text]
    )
    ml = {"op_domain": "ai.onnx.ml", "op_version": 2}
    output = operator.outputs[0].full_name
    if not isinstance(encoder, OneHotEncoder):
        codes, unknown = {}, float(encoder.unknown_value)
        for i, levels in enumerate(encoder.categories_):
            column = {key(i, level): float(j) for j, level in enumerate(levels)}
            column[key(i, imputer.missing_values)] = column.get(
                key(i, imputer.statistics_[kept[i]]), unknown
            )
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
            column |= {
                key(i, level): offset + len(frequent) for level in encoder.infrequent_categories_[i]
            }
        unknown = offset + len(frequent) if bucket and encoder.handle_unknown != "ignore" else -1
        column[key(i, imputer.missing_values)] = column.get(
            key(i, imputer.statistics_[kept[i]]), unknown
        )
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
    hot = node(
        "OneHotEncoder", [index], cats_int64s=list(range(offset)), zeros=1, op_domain="ai.onnx.ml"
    )
    columns_axis = constant("axis", TensorProto.INT64, [1], [1])
    # [rows, columns, width] -> [rows, width]: each column lights its own range of outputs.
    node("ReduceSum", [hot, columns_axis], output, keepdims=0)
