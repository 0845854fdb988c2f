"""Preprocessing per family: scaled numbers and one-hot text for linear models, raw numbers
and ordinal codes for trees; for free-text columns also their words (`words`).

Every SimpleImputer keeps a column it never saw filled (keep_empty_features=True) as a
constant (0, or the missing level), which trees never split on and a linear model weighs
at 0, instead of dropping it: the output columns then match the input columns one for one,
as the ONNX converters (`onnx.encoders`) and LightGBM's categorical_feature positions expect.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import (
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)

from ..data.schema import MISSING_TEXT
from .bins import ScaledBins
from .words import WORDS_STEP, WordNames, words

MISSING_LEVEL = "(missing)"


def _median(**options: Any) -> SimpleImputer:
    return SimpleImputer(strategy="median", keep_empty_features=True, **options)


def _scaled_numbers(n_bins: int) -> Any:
    """Numbers for a linear model: imputed (with missing-value flags) and standardised, clipped
    to the range seen in training, so that one extreme row cannot get an extrapolated answer;
    with n_bins, also one-hot quantile bins of each column, so the model can bend with them
    (a U-shaped or saturating effect) instead of fitting one slope."""
    scaled = make_pipeline(
        _median(add_indicator=True),
        MinMaxScaler(clip=True),  # identity on training rows; caps new ones at their range
        StandardScaler(),
    )
    if n_bins < 2:
        return scaled
    bins = make_pipeline(
        _median(),
        ScaledBins(n_bins, encode="onehot-dense", strategy="quantile"),
    )
    return FeatureUnion([("scaled", scaled), ("bins", bins)])


def preprocessor(
    family: str,
    numeric: list[str],
    categorical: list[str],
    n_bins: int = 0,
    text: list[str] | tuple[str, ...] = (),
) -> ColumnTransformer:
    """Numbers, then one code (or one-hot block) per string column of `categorical`, then the
    words of each free-text column (`text`, a part of `categorical`: `training.words`)."""
    fill_text = SimpleImputer(
        missing_values=MISSING_TEXT,
        strategy="constant",
        fill_value=MISSING_LEVEL,
        keep_empty_features=True,
    )
    if family in SCALED:
        numbers = _scaled_numbers(n_bins)
        # Levels seen in under 1% of rows are grouped, so rare levels do not overfit.
        levels = make_pipeline(
            fill_text,
            OneHotEncoder(
                handle_unknown="infrequent_if_exist", min_frequency=0.01, max_categories=50
            ),
        )
    else:
        numbers = "passthrough" if family in NATIVE_NAN else _median()
        levels = make_pipeline(
            fill_text,
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float32),
        )
    steps = [("numeric", numbers, numeric), ("categorical", levels, categorical)]
    steps += [(f"{WORDS_STEP}{i}", words(family in SCALED), name) for i, name in enumerate(text)]
    return ColumnTransformer(
        steps,
        remainder="drop",
        # Words as a dense block for DENSE families (`words.TREE_WORDS` bounds its width).
        sparse_threshold=0.0 if family in DENSE else 0.3,
        verbose_feature_names_out=WordNames(text),
    )


SCALED = {"linear"}  # scaled numbers and one-hot categories; trees get neither


NATIVE_NAN = {"xgboost", "lightgbm"}  # learn where missing values go; no imputation


NATIVE_CATEGORIES = {"lightgbm"}  # splits on category codes directly


# Words as a dense block: XGBoost reads an entry absent from a sparse matrix as missing where
# the ONNX graph (dense) reads 0; scikit-learn's trees split sparse columns several times slower.
DENSE = {"xgboost", "random_forest", "extra_trees"}
