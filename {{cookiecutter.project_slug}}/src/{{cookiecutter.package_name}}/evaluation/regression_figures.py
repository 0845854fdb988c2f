"""The regression plots, one sentence each: actual against predicted, residuals, their spread."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import error_charts
from .analysis import Evaluation
from .canvas import Plot
from .wording import fmt


def regression_plots(ev: Evaluation, folder: Path) -> list[Plot]:
    """Actual against predicted, residuals against predictions, and the residuals' spread."""
    result, target, m = ev.champion, ev.meta.target, ev.metrics["test"]
    unit = ev.settings.target_unit
    quantity = f"{target} ({unit})" if unit else target
    money = f" {unit}" if unit else ""
    residual = result.y - result.output
    error_charts.predicted_vs_actual(
        result.y,
        result.output,
        quantity,
        f"Actual against predicted {target}, test split",
        folder / "predicted_vs_actual.png",
    )
    caption = (
        f"R² {fmt(m['r2'])}: the predictions explain {max(m['r2'], 0):.0%} of the variance of "
        f"{target}; the typical error (MAE) is {fmt(m['mae'])}{money}."
    )
    out = [Plot("predicted_vs_actual.png", "Actual against predicted", caption)]

    error_charts.residuals(
        result.output,
        residual,
        quantity,
        "Residuals against predictions, test split",
        folder / "residuals.png",
    )
    spread = np.corrcoef(result.output, np.abs(residual))[0, 1] if len(residual) > 2 else 0.0
    proportional = (
        "as the log target assumes"
        if ev.meta.target_transform == "log"
        else "so a log target may suit"
    )
    trend = (
        f"their spread grows with the predicted value: errors are roughly proportional, "
        f"{proportional}"
        if spread > 0.3
        else "their spread stays about even across the range"
    )
    caption = f"Residuals average {fmt(float(residual.mean()))}{money} (the bias); {trend}."
    out.append(Plot("residuals.png", "Residuals against predictions", caption))

    error_charts.residual_distribution(
        residual,
        quantity,
        "Distribution of residuals, test split",
        folder / "residual_distribution.png",
    )
    half, most = np.quantile(np.abs(residual), [0.5, 0.9])
    caption = (
        f"Half of the predictions are within ±{fmt(half)}{money} of the truth, "
        f"90% within ±{fmt(most)}{money}."
    )
    out.append(Plot("residual_distribution.png", "Distribution of residuals", caption))
    return out
