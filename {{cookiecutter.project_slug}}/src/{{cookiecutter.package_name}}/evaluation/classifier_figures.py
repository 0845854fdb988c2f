"""The classifier's plots, one sentence each: confusion, ROC and PR, calibration, threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix

from . import charts
from .analysis import Evaluation
from .canvas import Plot
from .curves import calibration_points, curve_points, threshold_sweep
from .wording import compare, fmt, read_calibration


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


def classification_plots(ev: Evaluation, folder: Path) -> list[Plot]:
    """Confusion matrix, ROC and PR curves, calibration, and for two classes the threshold."""
    out = [
        _confusion(ev, folder),
        _curve(ev, folder, "roc", "roc.png", "ROC curves"),
        _curve(ev, folder, "pr", "precision_recall.png", "Precision-recall curves"),
        _calibration(ev, folder),
    ]
    if len(ev.meta.classes) == 2:
        out.append(_threshold(ev, folder))
    return out
