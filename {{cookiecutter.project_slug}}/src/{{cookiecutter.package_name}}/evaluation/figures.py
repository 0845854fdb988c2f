"""The evaluation plots with one sentence each, read off the numbers they show.

`draw_figures` draws every plot that fits the problem (charts.py does the drawing) and
returns them with a title and a caption. `fmt` is the one number format of the documents,
so they agree with reports/metrics.json to the digits they print.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix

from . import charts
from .analysis import Evaluation
from .curves import calibration_points, curve_points, threshold_sweep
from .wording import compare, fmt, in_text, label, read_calibration, read_learning_curve


@dataclass
class Plot:
    file: str
    title: str
    caption: str


def _classification_plots(ev: Evaluation, folder: Path) -> list[Plot]:
    meta, result, m = ev.meta, ev.champion, ev.metrics
    classes = [str(c) for c in meta.classes]
    binary = len(classes) == 2
    target, out = meta.target, []
    positive = f"{target} = {classes[-1]}"
    counts = confusion_matrix(result.y, result.y_pred, labels=np.arange(len(classes)))
    suffix = f" (threshold {m['threshold']:.2f})" if binary else ""
    charts.confusion_matrix(
        result.y,
        result.y_pred,
        classes,
        f"Confusion matrix, test split{suffix}",
        folder / "confusion_matrix.png",
    )
    if binary:
        tp, actual, flagged = counts[1, 1], counts[1].sum(), counts[:, 1].sum()
        caption = (
            f"Of the {actual:,} test rows with {positive}, the model flags {tp:,} "
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
    out.append(Plot("confusion_matrix.png", "Confusion matrix", caption))

    scored = {meta.champion: result} | ev.candidates
    averaged = "" if binary else " (one-vs-rest, micro-averaged)"
    for kind, name, title in (
        ("roc", "roc.png", "ROC curves"),
        ("pr", "precision_recall.png", "Precision-recall curves"),
    ):
        points = {family: curve_points(kind, s.y, s.output) for family, s in scored.items()}
        subject = f" for {positive}" if binary else ""
        charts.curves(
            kind,
            points,
            meta.champion,
            f"{title}{subject}, test split{averaged}",
            folder / name,
        )
        champion = points[meta.champion]
        if kind == "roc":
            caption = (
                f"The champion's{' micro-averaged' if averaged else ''} ROC AUC is "
                f"{fmt(champion['area'])}; "
                "a random ranking scores 0.5000."
            )
            others = {f: p["area"] for f, p in points.items() if f != meta.champion}
            if others:
                best = max(others, key=others.get)
                versus = compare("roc_auc", champion["area"], others[best], best)
                caption += f" It is {versus} ({fmt(others[best])}), the best other candidate."
        else:
            lift = champion["area"] / max(champion["prevalence"], 1e-12)
            caption = (
                f"Average precision {fmt(champion['area'])} against "
                f"{fmt(champion['prevalence'])} for a random ranking (the share of positives): "
                f"{lift:.1f} times better than chance."
            )
        out.append(Plot(name, title, caption))

    calibration = calibration_points(result.y, result.output)
    if binary:
        x, y = f"Predicted probability of {positive}", f"Observed share of {positive}"
    else:
        x, y = "Confidence in the predicted class", "Share of rows predicted correctly"
    charts.calibration(
        calibration,
        x,
        y,
        "Calibration on the test split (10 quantile bins)",
        folder / "calibration.png",
    )
    out.append(Plot("calibration.png", "Calibration", read_calibration(calibration["ece"])))

    if binary:
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
        out.append(Plot("threshold.png", "Precision and recall against the threshold", caption))
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


def _shared_plots(ev: Evaluation, folder: Path) -> list[Plot]:
    metric, top_n, out = ev.meta.primary_metric, ev.settings.top_n, []
    ranking = ev.permutation.head(top_n)
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
    out.append(Plot("permutation_importance.png", "Permutation importance", caption))

    if ev.model_importance is not None:
        board, kind = ev.model_importance
        board = board.head(top_n)
        charts.bars(
            board["feature"],
            board["importance"],
            f"{ev.meta.champion}'s own importance ({kind}), top {len(board)} encoded inputs",
            "Share of the model's total importance",
            folder / "model_importance.png",
            percent=True,
        )
        caption = (
            f"The {ev.meta.champion} model's own importance ({kind}) ranks "
            f"`{board['feature'].iloc[0]}` first with {board['importance'].iloc[0]:.0%} of the "
            "total. It counts encoded inputs, so a column one-hot encoded into many levels "
            "spreads over several bars."
        )
        out.append(Plot("model_importance.png", "The model's own importance", caption))

    curve, folds = ev.learning, ev.settings.learning_curve_folds
    if len(curve):
        charts.learning_curve(
            curve,
            label(metric),
            f"Learning curve ({folds}-fold CV on the training split)",
            folder / "learning_curve.png",
        )
        out.append(Plot("learning_curve.png", "Learning curve", read_learning_curve(curve, metric)))

    if ev.segments is not None:
        seg = ev.segments
        table = seg["table"]
        is_rate = seg["measure"] == "error rate"
        unit = ev.settings.target_unit
        show = (lambda v: f"{v:.0%}") if is_rate else fmt
        charts.bars(
            table["segment"],
            table["error"],
            f"{seg['measure'].capitalize()} by {charts.short(seg['column'])}, test split",
            seg["measure"].capitalize() + (f" ({unit})" if unit and not is_rate else ""),
            folder / "error_by_segment.png",
            notes=[f"{r:,} rows" for r in table["rows"]],
            reference=(seg["overall"], f"overall {show(seg['overall'])}"),
            percent=is_rate,
        )
        worst, best = table.iloc[0], table.iloc[-1]
        caption = (
            f"The {seg['measure']} is highest for `{seg['column']}` = {worst['segment']} "
            f"({show(worst['error'])} over {worst['rows']:,} rows) against {show(seg['overall'])} "
            f"overall, and lowest for {best['segment']} ({show(best['error'])})."
        )
        out.append(Plot("error_by_segment.png", f"Error by {seg['column']}", caption))
    return out


def draw_figures(ev: Evaluation, folder: Path) -> list[Plot]:
    """Write every PNG into folder; return them with titles and one-sentence readings."""
    folder.mkdir(parents=True, exist_ok=True)
    specific = _regression_plots if ev.champion.y_pred is None else _classification_plots
    return specific(ev, folder) + _shared_plots(ev, folder)
