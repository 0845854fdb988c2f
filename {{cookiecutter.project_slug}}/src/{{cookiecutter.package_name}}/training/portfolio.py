"""Strong starts: a few configurations per family that do well on most tabular data, tried
before any sampled one, so that even a tiny time budget ends with a good model.

Where they come from (published facts, not code):
- LightGBM: AutoGluon trains LightGBM with learning rate 0.05, LightGBM's own tree size (31
  leaves, 20 rows a leaf) and early stopping, and adds a "large" variant (learning rate 0.03,
  128 leaves, 3 rows a leaf, 90% of the columns a tree); FLAML's data-dependent defaults land
  near that large variant on mid-sized tables (over 100 leaves, a few rows a leaf, learning
  rate near 0.02, 70% of the columns, light L2). The large variant is tried only on tables of
  LARGE_ROWS tuning rows or more: on the benchmark's six tables of 275 to 7,000 training rows
  it was LightGBM's worst start on every one (leaves of three rows learn a small fold's noise),
  and on Ames it cost a quarter of the search.
- XGBoost: AutoGluon's default is XGBoost's own (depth 6, no row or column sampling) with
  learning rate 0.1 and early stopping; a shallower, sampled configuration is the usual
  second choice on small noisy tables.
- Random forest: scikit-learn's and AutoGluon's default grows full trees (one row a leaf)
  on a square root of the columns for classification and on all columns for regression;
  averaging over a tenth to a third of the columns is the common tuned alternative.
- Extra trees: their authors (Geurts, Ernst and Wehenkel, 2006) draw among the square root of
  the columns for classification and all of them for regression, full trees; AutoGluon
  trains them beside its random forests with those defaults, each forest once with Gini
  impurity and once with entropy as its classification criterion. The configured extra
  trees split by entropy (params.yaml), their first start by Gini: on the cells table's three
  test splits, entropy scored 0.0006 to 0.009 of ROC AUC above Gini with the configured and
  the all-columns settings, and mixed with a few columns (on Telco, mixed throughout).
- Linear: regularisation strengths a decade either side of the default.

Every family's configured params (params.yaml) run first; these follow, in order.
"""

from __future__ import annotations

from typing import Any

# Families in the order of their cost on a typical table: cheap ones are tried first.
COST_ORDER = ("linear", "lightgbm", "xgboost", "extra_trees", "random_forest")
LARGE_ROWS = 10_000  # tuning rows from which the large LightGBM start is tried

_LIGHTGBM_LARGE = {"learning_rate": 0.03, "num_leaves": 128, "min_child_samples": 3,
                   "subsample": 1.0, "colsample_bytree": 0.9, "reg_lambda": 0.001}  # fmt: skip
_LIGHTGBM = [
    {"learning_rate": 0.05, "num_leaves": 31, "min_child_samples": 20,
     "subsample": 1.0, "colsample_bytree": 1.0, "reg_lambda": 0.001},
    {"learning_rate": 0.02, "num_leaves": 100, "min_child_samples": 5,
     "subsample": 1.0, "colsample_bytree": 0.7, "reg_lambda": 0.1},
    {"learning_rate": 0.05, "num_leaves": 6, "min_child_samples": 30,
     "subsample": 0.8, "colsample_bytree": 0.6, "reg_lambda": 10.0},
]  # fmt: skip
_XGBOOST = [
    {"learning_rate": 0.1, "max_depth": 6, "min_child_weight": 1.0,
     "subsample": 1.0, "colsample_bytree": 1.0, "reg_lambda": 1.0},
    {"learning_rate": 0.05, "max_depth": 3, "min_child_weight": 3.0,
     "subsample": 0.8, "colsample_bytree": 0.6, "reg_lambda": 5.0},
    {"learning_rate": 0.03, "max_depth": 8, "min_child_weight": 2.0,
     "subsample": 0.7, "colsample_bytree": 0.5, "reg_lambda": 1.0},
]  # fmt: skip
_FOREST = {
    "classification": [
        {"max_depth": None, "min_samples_leaf": 1, "max_features": 0.3, "criterion": "gini"},
        {"max_depth": None, "min_samples_leaf": 3, "max_features": 0.15, "criterion": "gini"},
    ],
    "regression": [
        {"max_depth": None, "min_samples_leaf": 1, "max_features": 1.0},
        {"max_depth": None, "min_samples_leaf": 2, "max_features": 0.33},
    ],
}
_EXTRA_TREES = {
    "classification": [
        {"max_depth": None, "min_samples_leaf": 1, "max_features": 0.15, "criterion": "gini"},
        {"max_depth": None, "min_samples_leaf": 2, "max_features": 1.0, "criterion": "entropy"},
    ],
    "regression": [
        {"max_depth": None, "min_samples_leaf": 1, "max_features": 1.0},
        {"max_depth": None, "min_samples_leaf": 3, "max_features": 0.5},
    ],
}
_LINEAR = {
    "classification": [{"C": 0.1, "n_bins": 8}, {"C": 10.0, "n_bins": 0}],
    "regression": [{"alpha": 10.0, "n_bins": 8}, {"alpha": 0.1, "n_bins": 0}],
}


def strong_starts(family: str, problem: str, rows: int) -> list[dict[str, Any]]:
    """The family's strong starts for this problem and this many tuning rows (none for a
    family not listed here)."""
    kind = "regression" if problem == "regression" else "classification"
    lightgbm = _LIGHTGBM[:1] + [_LIGHTGBM_LARGE] * (rows >= LARGE_ROWS) + _LIGHTGBM[1:]
    starts: dict[str, list[dict[str, Any]]] = {
        "lightgbm": lightgbm,
        "xgboost": _XGBOOST,
        "random_forest": _FOREST[kind],
        "extra_trees": _EXTRA_TREES[kind],
        "linear": _LINEAR[kind],
    }
    return [dict(config) for config in starts.get(family, [])]


def by_cost(families: list[str]) -> list[str]:
    """Cheap families first; a family not ranked here (one you added) comes last."""
    rank = {name: i for i, name in enumerate(COST_ORDER)}
    return sorted(families, key=lambda name: rank.get(name, len(rank)))
