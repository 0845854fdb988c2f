"""The champion's curves as tables, for `dvc plots show` and `dvc plots diff`.

They are kept in git, so their size is bounded: a curve keeps at most MAX_CURVE_POINTS
evenly spaced points (more than a plot can show), and a table of one row per test row
(confusion pairs, predictions) keeps at most `evaluate.sample_rows` evenly spaced rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import Evaluation
from .curves import calibration_points, curve_points, threshold_sweep

MAX_CURVE_POINTS = 2000


def thin(table: pd.DataFrame, rows: int) -> pd.DataFrame:
    """At most `rows` evenly spaced rows of the table, the first and the last among them."""
    if len(table) <= rows:
        return table
    keep = np.unique(np.linspace(0, len(table) - 1, rows).round().astype(int))
    return table.iloc[keep].reset_index(drop=True)


def plot_data(ev: Evaluation) -> dict[str, pd.DataFrame]:
    """The champion's curves as tables, for `dvc plots show` and `dvc plots diff`."""
    result, classes, per_row = ev.champion, ev.meta.classes, ev.settings.sample_rows
    tables = {
        "learning_curve.csv": ev.learning,
        "importance.csv": ev.permutation[["column", "importance"]],
    }
    if result.y_pred is None:
        predictions = pd.DataFrame(
            {"actual": result.y, "predicted": result.output, "residual": result.y - result.output}
        )
        tables["predictions.csv"] = thin(predictions, per_row)
        return tables
    names = np.array([str(c) for c in classes], dtype=object)
    roc, pr = (
        curve_points("roc", result.y, result.output),
        curve_points("pr", result.y, result.output),
    )
    calibration = calibration_points(result.y, result.output)
    curves = {
        "roc.csv": pd.DataFrame({"fpr": roc["fpr"], "tpr": roc["tpr"]}),
        "precision_recall.csv": pd.DataFrame(
            {"recall": pr["recall"], "precision": pr["precision"]}
        ),
    }
    if result.output.shape[1] == 2:
        curves["threshold.csv"] = pd.DataFrame(threshold_sweep(result.y, result.output[:, 1]))
    confusion = pd.DataFrame({"actual": names[result.y], "predicted": names[result.y_pred]})
    tables |= {name: thin(table, MAX_CURVE_POINTS) for name, table in curves.items()}
    tables |= {
        "confusion.csv": thin(confusion, per_row),
        "calibration.csv": pd.DataFrame(
            {"predicted": calibration["predicted"], "observed": calibration["observed"]}
        ),
    }
    return tables
