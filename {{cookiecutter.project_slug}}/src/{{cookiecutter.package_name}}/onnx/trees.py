"""Tree ensembles converted to answer exactly as their libraries do: LightGBM and forests
(random or extra trees) in float64, XGBoost adding its trees in its own order."""

from __future__ import annotations

from typing import Any

import numpy as np


def convert_lightgbm(scope: Any, operator: Any, container: Any) -> None:
    """onnxmltools' LightGBM converter, corrected where the graph would answer otherwise.

    LightGBM compares float64 values with float64 split points and adds its trees up in
    float64, where the converted trees use float32 for both: a value between a split point
    and its float32 rounding took the other branch (on Ames' longitudes, 0.2% of a price)
    and the sum of hundreds of trees drifted. The trees here keep float64 split points and
    leaf values and read the inputs as float64 (`_Float64Trees`). And a feature without gaps
    in training reads a gap as 0.0 in LightGBM, while the converted tree would follow the
    node's default branch: the graph turns those gaps into 0.0 first.
    """
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import (
        convert_lightgbm as onnxmltools_lightgbm,
    )

    gapless = _gapless_features(operator.raw_operator.booster_)
    onnxmltools_lightgbm(scope, operator, _Float64Trees(scope, container, gapless))


def convert_forest_regressor(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx's random forest (or extra trees) regressor, averaging its trees in float64 as
    scikit-learn does (in float32, a log price drifted by 8e-6 over 300 trees)."""
    from skl2onnx.operator_converters.random_forest import (
        convert_sklearn_random_forest_regressor_converter as convert,
    )

    convert(scope, operator, _Float64Trees(scope, container))


def convert_xgboost_regressor(scope: Any, operator: Any, container: Any) -> None:
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
