"""The evaluation plots with one sentence each, read off the numbers they show.

`draw_figures` draws every plot that fits the problem (charts.py does the drawing) and
returns them with a title and a caption. `fmt` is the one number format of the documents,
so they agree with reports/metrics.json to the digits they print.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

from . import charts
from .analysis import Evaluation
from .curves import calibration_points, curve_points, threshold_sweep
from .diagnostics import SegmentErrors
from .wording import compare, fmt, in_text, label, read_calibration, read_learning_curve


@dataclass
class Plot:
    file: str
    title: str
    caption: str


def _positive(ev: Evaluation) -> str:
    """The positive class as the plots name it: "churn = Yes"."""
    return f"{ev.meta.target} = {ev.meta.classes[-1]}"


def _confusion(ev: Evaluation, folder: Path) -> Plot:
    result, m = ev.champion, ev.metrics
    classes = [str(c) for c in ev.meta.classes]
    binary = len(classes) == 2
    suffix = f" (threshold {m['threshold']:.2f})" if binary else ""
    charts.confusion_matrix(
        result.y,
        result.y_pred,
        classes,
        f"Confusion matrix, test split{suffix}",
        folder / "confusion_matrix.png",
    )
    counts = confusion_matrix(result.y, result.y_pred, labels=np.arange(len(classes)))
    if binary:
        tp, actual, flagged = counts[1, 1], counts[1].sum(), counts[:, 1].sum()
        caption = (
            f"Of the {actual:,} test rows with {_positive(ev)}, the model flags {tp:,} "
            f"({tp / max(actual, 1):.0%}, the recall); {tp / max(flagged, 1):.0%} of its "
            f"{flagged:,} flags are right (the precision) at threshold {m['threshold']:.2f}."
        )
    else:
        off = counts.copy()
        np.fill_diagonal(off, 0)
        i, j = np.unravel_index(off.argmax(), off.shape)
        caption = f"{m['test']['accuracy']:.0%} of test rows are classed correctly"
        caption += (
            f"; the most frequent confusion is {classes[i]} taken for {classes[j]} "
            f"({off[i, j]:,} row{'s' if off[i, j] > 1 else ''})."
            if off[i, j]
            else "."
        )
    return Plot("confusion_matrix.png", "Confusion matrix", caption)


def _curve(ev: Evaluation, folder: Path, kind: str, name: str, title: str) -> Plot:
    """ROC ("roc") or precision-recall ("pr") curves of every candidate, the champion bold."""
    champion, binary = ev.meta.champion, len(ev.meta.classes) == 2
    scored = {champion: ev.champion} | ev.candidates
    points = {family: curve_points(kind, s.y, s.output) for family, s in scored.items()}
    subject = f" for {_positive(ev)}" if binary else ""
    averaged = "" if binary else " (one-vs-rest, micro-averaged)"
    charts.curves(kind, points, champion, f"{title}{subject}, test split{averaged}", folder / name)
    ours = points[champion]
    if kind == "pr":
        lift = ours["area"] / max(ours["prevalence"], 1e-12)
        caption = (
            f"Average precision {fmt(ours['area'])} against {fmt(ours['prevalence'])} for a "
            f"random ranking (the share of positives): {lift:.1f} times better than chance."
        )
        return Plot(name, title, caption)
    caption = (
        f"The champion's{' micro-averaged' if averaged else ''} ROC AUC is "
        f"{fmt(ours['area'])}; a random ranking scores 0.5000."
    )
    others = {f: p["area"] for f, p in points.items() if f != champion}
    if others:
        best = max(others, key=others.get)
        versus = compare("roc_auc", ours["area"], others[best], best)
        caption += f" It is {versus} ({fmt(others[best])}), the best other candidate."
    return Plot(name, title, caption)


def _calibration(ev: Evaluation, folder: Path) -> Plot:
    calibration = calibration_points(ev.champion.y, ev.champion.output)
    if len(ev.meta.classes) == 2:
        x, y = f"Predicted probability of {_positive(ev)}", f"Observed share of {_positive(ev)}"
    else:
        x, y = "Confidence in the predicted class", "Share of rows predicted correctly"
    title = "Calibration on the test split (10 quantile bins)"
    charts.calibration(calibration, x, y, title, folder / "calibration.png")
    return Plot("calibration.png", "Calibration", read_calibration(calibration["ece"]))


def _threshold(ev: Evaluation, folder: Path) -> Plot:
    result, m, positive = ev.champion, ev.metrics, _positive(ev)
    sweep = threshold_sweep(result.y, result.output[:, 1])
    chosen = m["threshold"]
    charts.thresholds(
        sweep,
        chosen,
        f"Decision threshold (probability of {positive})",
        "Precision, recall and F1 against the threshold, test split",
        folder / "threshold.png",
    )
    best = int(np.argmax(sweep["f1"]))
    caption = (
        f"At the chosen threshold {chosen:.2f}, precision is {fmt(m['test']['precision'])} "
        f"and recall {fmt(m['test']['recall'])}; on the test split F1 would peak at "
        f"{sweep['threshold'][best]:.2f} (F1 {fmt(sweep['f1'][best])}). A lower threshold "
        f"finds more {positive} at the cost of more false alarms."
    )
    return Plot("threshold.png", "Precision and recall against the threshold", caption)


def _classification_plots(ev: Evaluation, folder: Path) -> list[Plot]:
    out = [
        _confusion(ev, folder),
        _curve(ev, folder, "roc", "roc.png", "ROC curves"),
        _curve(ev, folder, "pr", "precision_recall.png", "Precision-recall curves"),
        _calibration(ev, folder),
    ]
    if len(ev.meta.classes) == 2:
        out.append(_threshold(ev, folder))
    return out


def _regression_plots(ev: Evaluation, folder: Path) -> list[Plot]:
    result, target, m = ev.champion, ev.meta.target, ev.metrics["test"]
    unit = ev.settings.target_unit
    quantity = f"{target} ({unit})" if unit else target
    money = f" {unit}" if unit else ""
    residual = result.y - result.output
    charts.predicted_vs_actual(
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

    charts.residuals(
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

    charts.residual_distribution(
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


def _permutation(ev: Evaluation, folder: Path) -> Plot:
    metric, ranking = ev.meta.primary_metric, ev.permutation.head(ev.settings.top_n)
    charts.bars(
        ranking["column"],
        ranking["importance"],
        f"Permutation importance, test split (top {len(ranking)} of {len(ev.permutation)} columns)",
        f"How much {in_text(metric)} worsens when the column is shuffled",
        folder / "permutation_importance.png",
        errors=ranking["std"],
    )
    top = [f"`{c}`" for c in ranking["column"].head(3)]
    strongest = ranking["importance"].iloc[0]
    small = int((ev.permutation["importance"] < 0.01 * strongest).sum())
    caption = (
        f"Shuffling {top[0]} worsens {in_text(metric)} the most (by {fmt(strongest)})"
        + (f", then {' and '.join(top[1:])}" if len(top) > 1 else "")
        + f"; {small} of {len(ev.permutation)} columns have under 1% of that effect."
    )
    return Plot("permutation_importance.png", "Permutation importance", caption)


def _model_importance(ev: Evaluation, folder: Path, board: pd.DataFrame, kind: str) -> Plot:
    board, champion = board.head(ev.settings.top_n), ev.meta.champion
    charts.bars(
        board["feature"],
        board["importance"],
        f"{champion}'s own importance ({kind}), top {len(board)} encoded inputs",
        "Share of the model's total importance",
        folder / "model_importance.png",
        percent=True,
    )
    caption = (
        f"The {champion} model's own importance ({kind}) ranks "
        f"`{board['feature'].iloc[0]}` first with {board['importance'].iloc[0]:.0%} of the "
        "total. It counts encoded inputs, so a column one-hot encoded into many levels "
        "spreads over several bars."
    )
    return Plot("model_importance.png", "The model's own importance", caption)


def _learning(ev: Evaluation, folder: Path) -> Plot:
    metric, folds = ev.meta.primary_metric, ev.settings.learning_curve_folds
    title = f"Learning curve ({folds}-fold CV on the training split)"
    charts.learning_curve(ev.learning, label(metric), title, folder / "learning_curve.png")
    return Plot("learning_curve.png", "Learning curve", read_learning_curve(ev.learning, metric))


def _segments(ev: Evaluation, folder: Path, seg: SegmentErrors) -> Plot:
    is_rate, unit = seg.measure == "error rate", ev.settings.target_unit
    show = (lambda v: f"{v:.0%}") if is_rate else fmt
    table = seg.table
    charts.bars(
        table["segment"],
        table["error"],
        f"{seg.measure.capitalize()} by {charts.short(seg.column)}, test split",
        seg.measure.capitalize() + (f" ({unit})" if unit and not is_rate else ""),
        folder / "error_by_segment.png",
        notes=[f"{r:,} rows" for r in table["rows"]],
        reference=(seg.overall, f"overall {show(seg.overall)}"),
        percent=is_rate,
    )
    worst, best = table.iloc[0], table.iloc[-1]
    caption = (
        f"The {seg.measure} is highest for `{seg.column}` = {worst['segment']} "
        f"({show(worst['error'])} over {worst['rows']:,} rows) against {show(seg.overall)} "
        f"overall, and lowest for {best['segment']} ({show(best['error'])})."
    )
    return Plot("error_by_segment.png", f"Error by {seg.column}", caption)


def _shared_plots(ev: Evaluation, folder: Path) -> list[Plot]:
    out = [_permutation(ev, folder)]
    if ev.model_importance is not None:
        out.append(_model_importance(ev, folder, *ev.model_importance))
    if len(ev.learning):
        out.append(_learning(ev, folder))
    if ev.segments is not None:
        out.append(_segments(ev, folder, ev.segments))
    return out


def draw_figures(ev: Evaluation, folder: Path) -> list[Plot]:
    """Write every PNG into folder; return them with titles and one-sentence readings."""
    folder.mkdir(parents=True, exist_ok=True)
    specific = _regression_plots if ev.champion.y_pred is None else _classification_plots
    return specific(ev, folder) + _shared_plots(ev, folder)
