"""ONNX converters for the pipeline steps skl2onnx does not convert, or converts slowly.

- LightGBM and XGBoost models: onnxmltools' converters, registered with skl2onnx; LightGBM's
  made to decide as LightGBM does (`convert_lightgbm`), XGBoost's regressor to add up its
  trees in XGBoost's order (`convert_xgboost_regressor`);
- RandomForestRegressor and ExtraTreesRegressor: skl2onnx's converter, averaging in float64
  as scikit-learn does;
- SimpleImputer(add_indicator=True): the imputed columns, then the missing-value flags
  (any SimpleImputer: only with keep_empty_features=True, else it drops columns);
- KBinsDiscretizer and ScaledBins (`training.bins`): every column's bins at once (`bins`);
- OneHotEncoder(handle_unknown="infrequent_if_exist"): unknown levels go to the infrequent
  bucket, as in scikit-learn (skl2onnx refuses them);
- TransformedTargetRegressor(inverse_func=np.exp): the regressor, then exp;
- ImputedCodes: a text imputer followed by an ordinal or one-hot encoder, as one lookup for all
  columns instead of about seven nodes per column, which makes a single-row call several
  times cheaper.

Each is checked by the `export` stage's parity test, raw row in, answer out.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..training.bins import ScaledBins
from .bins import bins_shape, convert_bins
from .encoders import convert_imputer, convert_one_hot, imputer_shape, one_hot_shape
from .imputed_codes import ImputedCodes, convert_imputed_codes, imputed_codes_shape
from .trees import convert_forest_regressor, convert_lightgbm, convert_xgboost_regressor

CLASSIFIER_OPTIONS = {"nocl": [True, False], "zipmap": [True, False, "columns"]}


def register_converters() -> None:
    """Teach skl2onnx the parts of our pipelines it does not know by itself.

    A booster's converters are registered only when its library is loaded: unpickling the
    model imports the library of the model it holds, so exporting a forest or a linear model
    pays for neither LightGBM nor XGBoost."""
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import calculate_linear_regressor_output_shapes
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder

    if "lightgbm" in sys.modules:
        _register_lightgbm()
    if "xgboost" in sys.modules:
        _register_xgboost()
    for forest in (RandomForestRegressor, ExtraTreesRegressor):
        update_registered_converter(
            forest,
            f"Sklearn{forest.__name__}",
            calculate_linear_regressor_output_shapes,
            convert_forest_regressor,
            options={"decision_path": [True, False], "decision_leaf": [True, False]},
        )
    update_registered_converter(
        SimpleImputer, "SklearnSimpleImputer", imputer_shape, convert_imputer
    )
    for bins in (KBinsDiscretizer, ScaledBins):
        update_registered_converter(bins, f"Sklearn{bins.__name__}", bins_shape, convert_bins)
    update_registered_converter(
        OneHotEncoder, "SklearnOneHotEncoder", one_hot_shape, convert_one_hot
    )
    update_registered_converter(
        ImputedCodes, "ImputedCodes", imputed_codes_shape, convert_imputed_codes
    )
    update_registered_converter(
        TransformedTargetRegressor,
        "SklearnTransformedTargetRegressor",
        calculate_linear_regressor_output_shapes,
        _convert_log_target,
    )


def _register_lightgbm() -> None:
    from lightgbm import LGBMClassifier, LGBMRegressor
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    update_registered_converter(
        LGBMClassifier,
        "LightGbmLGBMClassifier",
        calculate_linear_classifier_output_shapes,
        convert_lightgbm,
        options=CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        LGBMRegressor,
        "LightGbmLGBMRegressor",
        calculate_linear_regressor_output_shapes,
        convert_lightgbm,
    )


def _register_xgboost() -> None:
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )
    from xgboost import XGBClassifier, XGBRegressor

    update_registered_converter(
        XGBClassifier,
        "XGBoostXGBClassifier",
        calculate_linear_classifier_output_shapes,
        convert_xgboost,
        options=CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        XGBRegressor,
        "XGBoostXGBRegressor",
        calculate_linear_regressor_output_shapes,
        convert_xgboost_regressor,
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
