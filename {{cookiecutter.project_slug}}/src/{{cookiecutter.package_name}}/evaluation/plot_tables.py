"""The champion's curves as tables, for `dvc plots show` and `dvc plots diff`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import Evaluation
from .curves import calibration_points, curve_points, threshold_sweep


def plot_data(ev: Evaluation) -> dict[str, pd.DataFrame]:
    """The champion's curves as tables, for `dvc plots show` and `dvc plots diff`."""
    result, classes = ev.champion, ev.meta.classes
    tables = {
        "learning_curve.csv": ev.learning,
        "importance.csv": ev.permutation[["column", "importance"]],
    }
    if result.y_pred is None:
        tables["predictions.csv"] = pd.DataFrame(
            {"actual": result.y, "predicted": result.output, "residual": result.y - result.output}
        )
        return tables
    names = np.array([str(c) for c in classes], dtype=object)
    roc, pr = (
        curve_points("roc", result.y, result.output),
        curve_points("pr", result.y, result.output),
    )
    calibration = calibration_points(result.y, result.output)
    tables |= {
        "roc.csv": pd.DataFrame({"fpr": roc["fpr"], "tpr": roc["tpr"]}),
        "precision_recall.csv": pd.DataFrame(
            {"recall": pr["recall"], "precision": pr["precision"]}
        ),
        "confusion.csv": pd.DataFrame(
            {"actual": names[result.y], "predicted": names[result.y_pred]}
        ),
        "calibration.csv": pd.DataFrame(
            {"predicted": calibration["predicted"], "observed": calibration["observed"]}
        ),
    }
    if result.output.shape[1] == 2:
        sweep = threshold_sweep(result.y, result.output[:, 1])
        tables["threshold.csv"] = pd.DataFrame(sweep)
    return tables
