"""Quantile bins of a column on any scale: scikit-learn's KBinsDiscretizer, fitted on the
column times a power of two when its values span less than 1.

KBinsDiscretizer drops a bin narrower than 1e-8 in the column's own units. On a column of
acoustic measures around 1e-21 (`pd_speech`, 753 columns) it dropped every bin, and the
one-hot step behind it then failed, taking the linear family with it. Scaled so that its
values span between 1 and 2, the column keeps the bins its quantiles give.

Multiplying by a power of two is exact in float64 and float32 alike, and so is dividing the
edges back: the fitted edges are the quantiles of the column itself, in its own units, and
`transform` and the ONNX graph (`onnx.convert.float32_bin_edges`) bin them as they bin any
other column's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.preprocessing import KBinsDiscretizer


def powers_of_two(X: np.ndarray) -> np.ndarray:
    """Per column, the power of two that brings its span (max - min) to [1, 2) when the span
    is under 1; 1 for a wider column or a constant one. The columns come imputed: no gaps."""
    with np.errstate(invalid="ignore"):
        span = X.max(axis=0) - X.min(axis=0)
    scale = np.ones(X.shape[1])
    narrow = np.isfinite(span) & (span > 0) & (span < 1)
    scale[narrow] = np.exp2(-np.floor(np.log2(span[narrow])))
    return scale


class ScaledBins(KBinsDiscretizer):
    """KBinsDiscretizer whose too-narrow-bin rule is relative to the column's span."""

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> ScaledBins:
        X = np.asarray(X, dtype=np.float64)
        scale = powers_of_two(X)
        super().fit(X * scale, y, sample_weight=sample_weight)
        edges = np.empty(len(self.bin_edges_), dtype=object)  # one array per column
        edges[:] = [e / s for e, s in zip(self.bin_edges_, scale, strict=True)]
        self.bin_edges_ = edges
        return self
