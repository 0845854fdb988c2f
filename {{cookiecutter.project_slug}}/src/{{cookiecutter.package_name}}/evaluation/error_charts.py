"""The regression error plots: actual against predicted, residuals, and their spread.

scikit-learn's PredictionErrorDisplay draws the scatters on our axes; canvas.py gives them our look.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.ticker import AutoLocator
from sklearn import metrics as skm

from . import canvas
from .canvas import CHAMPION_COLOR, OTHER_COLORS, REFERENCE, SCATTER


def predicted_vs_actual(
    actual: np.ndarray, predicted: np.ndarray, quantity: str, title: str, path: Path
) -> None:
    """Actual values up against predictions across (scikit-learn's orientation)."""
    fig, ax = canvas.figure(6.0, 5.6)
    skm.PredictionErrorDisplay.from_predictions(
        actual,
        predicted,
        kind="actual_vs_predicted",
        subsample=None,
        ax=ax,
        scatter_kwargs=SCATTER,
        line_kwargs=REFERENCE | {"label": "actual = prediction"},
    )
    canvas.style(ax, title, f"Predicted {quantity}", f"Actual {quantity}")
    for axis, values in ((ax.xaxis, predicted), (ax.yaxis, actual)):
        axis.set_major_locator(AutoLocator())  # round ticks, not five from min to max
        canvas.thousands(axis, values)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    canvas.save(fig, path)


def residuals(
    predicted: np.ndarray, residual: np.ndarray, quantity: str, title: str, path: Path
) -> None:
    """Residuals against predictions, with their median in bins to show a trend."""
    fig, ax = canvas.figure()
    skm.PredictionErrorDisplay.from_predictions(
        predicted + residual,
        predicted,
        kind="residual_vs_predicted",
        subsample=None,
        ax=ax,
        scatter_kwargs=SCATTER,
        line_kwargs=REFERENCE,
    )
    edges = np.unique(np.quantile(predicted, np.linspace(0, 1, 11)))
    ids = np.clip(np.searchsorted(edges[1:-1], predicted), 0, len(edges) - 2)
    centres = [np.median(predicted[ids == i]) for i in range(len(edges) - 1) if np.any(ids == i)]
    medians = [np.median(residual[ids == i]) for i in range(len(edges) - 1) if np.any(ids == i)]
    ax.plot(centres, medians, color=OTHER_COLORS[0], marker="o", label="median residual per decile")
    canvas.style(ax, title, f"Predicted {quantity}", f"Actual minus predicted {quantity}")
    canvas.thousands(ax.xaxis, predicted)
    canvas.thousands(ax.yaxis, residual)
    ax.legend(fontsize=8, frameon=False)
    canvas.save(fig, path)


def residual_distribution(residual: np.ndarray, quantity: str, title: str, path: Path) -> None:
    """A histogram of the residuals with zero marked."""
    fig, ax = canvas.figure()
    ax.hist(residual, bins=40, color=CHAMPION_COLOR, alpha=0.8)
    ax.axvline(0, **REFERENCE)
    canvas.style(ax, title, f"Residual of {quantity}: actual minus predicted", "Rows")
    canvas.thousands(ax.xaxis, residual)
    canvas.save(fig, path)
