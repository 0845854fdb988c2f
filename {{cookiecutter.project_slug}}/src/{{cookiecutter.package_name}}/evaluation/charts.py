"""The classifier plots, the learning curve and the bar chart as PNG files.

Each function takes plain numbers and a path and writes one figure. scikit-learn's Displays draw
where it has one, on our axes (canvas.py); our titles, labels, colours and reference lines go on
top. The threshold sweep and the bars have no Display. Every plot has a title, axis labels with
units, and names instead of indices; long names are shortened, long lists cut to the top N.
Regression's error plots are in error_charts.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter
from sklearn import metrics as skm
from sklearn.calibration import CalibrationDisplay
from sklearn.model_selection import LearningCurveDisplay

from . import canvas
from .canvas import CHAMPION_COLOR, OTHER_COLORS, REFERENCE, short

CURVE_AXES = {  # x and y labels of the ROC and precision-recall plots
    "roc": ("False positive rate (share of negatives flagged)", "True positive rate (recall)"),
    "pr": ("Recall (share of positives found)", "Precision (share of flags that are right)"),
}


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str], title: str, path: Path
) -> None:
    """Counts and shares of each actual class, side by side; classes name the codes 0..k-1."""
    k = len(classes)
    size = min(3.2 + 0.45 * k, 12.0)
    fig, (left, right) = canvas.figure(2 * size + 1.4, size + 0.6, ncols=2)
    names = [short(c, 20) for c in classes]
    for ax, normalize, subtitle, pattern in (
        (left, None, "Counts (rows)", ","),
        (right, "true", "Share of actual class", ".0%"),
    ):
        skm.ConfusionMatrixDisplay.from_predictions(
            y_true,
            y_pred,
            labels=np.arange(k),
            normalize=normalize,
            display_labels=names,
            include_values=k <= 15,
            values_format=pattern,
            cmap="Blues",
            ax=ax,
            im_kw={"vmin": 0},
            text_kw={"fontsize": 9},
        )
        ax.set(xlabel="Predicted class", ylabel="Actual class")
        ax.set_title(subtitle, fontsize=10, loc="left")
        if k > 4:
            ax.set_xticks(range(k), names, rotation=45, ha="right")
    fig.suptitle(title, fontsize=11, x=0.01, ha="left")
    canvas.save(fig, path)


def curves(
    kind: str,
    models: Mapping[str, Mapping[str, np.ndarray]],
    champion: str,
    title: str,
    path: Path,
) -> None:
    """ROC (kind "roc") or precision-recall ("pr") curves: the champion bold, the others thin.

    models holds each model's curve_points; its "truth" and "scores" are what is drawn."""
    fig, ax = canvas.figure(6.6, 5.2)
    roc, others = kind == "roc", iter(OTHER_COLORS)
    ordered = sorted(models, key=lambda name: name != champion)
    for name in ordered:
        truth, bold = models[name]["truth"], name == champion
        chance = 0.5 if roc else truth.mean()  # a random ranking's area: AUC 0.5, AP prevalence
        drawn = (skm.RocCurveDisplay if roc else skm.PrecisionRecallDisplay).from_predictions(
            truth,
            models[name]["scores"],
            ax=ax,
            plot_chance_level=name == ordered[-1],  # drawn once, last in the legend
            chance_level_kw=REFERENCE | {"label": f"random ranking: {chance:.3f}"},
        )
        # Styled here rather than in the call: scikit-learn 1.7 moved style keywords into
        # curve_kwargs, so a keyword for one version is an error or a warning in another.
        area = f"AUC {drawn.roc_auc:.3f}" if roc else f"AP {drawn.average_precision:.3f}"
        drawn.line_.set(
            color=CHAMPION_COLOR if bold else next(others),
            linewidth=2.4 if bold else 1.2,
            zorder=3 if bold else 2,
            label=f"{name}{' (champion)' if bold else ''}: {area}",
        )
    canvas.style(ax, title, *CURVE_AXES[kind])
    ax.set(xlim=(0, 1), ylim=(0, 1.02), aspect="auto")
    ax.legend(loc="lower right" if roc else "upper right", fontsize=8, frameon=False)
    canvas.save(fig, path)


def calibration(
    points: Mapping[str, np.ndarray], xlabel: str, ylabel: str, title: str, path: Path
) -> None:
    """Observed frequency against predicted probability, with the spread of predictions below.

    points are calibration_points; their "hits" (0/1) and "confidence" are what is drawn."""
    fig, (ax, hist) = canvas.figure(6.6, 5.6, nrows=2, height_ratios=[3, 1], sharex=True)
    ax.plot([0, 1], [0, 1], **REFERENCE, label="perfectly calibrated")
    CalibrationDisplay.from_predictions(
        points["hits"], points["confidence"], n_bins=10, strategy="quantile", ax=ax, ref_line=False
    ).line_.set(marker="o", color=CHAMPION_COLOR, label="champion")
    canvas.style(ax, title, "", ylabel)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    hist.hist(points["confidence"], bins=20, range=(0, 1), color=CHAMPION_COLOR, alpha=0.6)
    canvas.style(hist, "", xlabel, "Rows")
    hist.set_xlim(0, 1)
    canvas.save(fig, path)


def thresholds(
    sweep: Mapping[str, np.ndarray], chosen: float, xlabel: str, title: str, path: Path
) -> None:
    """Precision, recall and F1 of the positive class against the decision threshold."""
    fig, ax = canvas.figure()
    for name, color in (
        ("precision", OTHER_COLORS[0]),
        ("recall", OTHER_COLORS[1]),
        ("f1", CHAMPION_COLOR),
    ):
        ax.plot(sweep["threshold"], sweep[name], color=color, label=name.replace("f1", "F1"))
    ax.axvline(chosen, **REFERENCE, label=f"chosen threshold {chosen:.2f}")
    canvas.style(ax, title, xlabel, "Score (0 to 1)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, frameon=False)
    canvas.save(fig, path)


def learning_curve(curve: pd.DataFrame, metric: str, title: str, path: Path) -> None:
    """Training and validation scores (mean ± one standard deviation over folds)."""
    fig, ax = canvas.figure()
    # The Display takes scores per fold and draws their mean ± std: two "folds" at mean - std
    # and mean + std have exactly the mean and (population) std that curve holds.
    folds = {
        kind: np.column_stack([curve[f"{kind}_score"] + s * curve[f"{kind}_std"] for s in (-1, 1)])
        for kind in ("train", "validation")
    }
    drawn = LearningCurveDisplay(
        train_sizes=curve["train_size"].to_numpy(),
        train_scores=folds["train"],
        test_scores=folds["validation"],
    ).plot(ax=ax, line_kw={"marker": "o"}, fill_between_kw={"alpha": 0.15})
    styles = [
        (OTHER_COLORS[0], "training rows (fit)"),
        (CHAMPION_COLOR, "validation rows (held out)"),
    ]
    for line, band, (color, label) in zip(drawn.lines_, drawn.fill_between_, styles, strict=True):
        line.set(color=color, label=label)
        band.set(color=color)
    canvas.style(ax, title, "Training set size (rows)", metric)
    canvas.thousands(ax.xaxis, curve["train_size"].to_numpy())
    canvas.thousands(ax.yaxis, folds["validation"])  # an error in the target's unit can be large
    ax.legend(fontsize=8, frameon=False)
    canvas.save(fig, path)


def bars(
    names: Sequence[object],
    values: Sequence[float],
    title: str,
    xlabel: str,
    path: Path,
    errors: Sequence[float] | None = None,
    notes: Sequence[str] | None = None,
    reference: tuple[float, str] | None = None,
    percent: bool = False,
) -> None:
    """Horizontal bars, the first name on top; optional error bars, notes and a reference line."""
    n = len(names)
    fig, ax = canvas.figure(6.8, max(2.6, 0.9 + 0.32 * n))
    positions = np.arange(n)[::-1]
    ax.barh(
        positions,
        values,
        xerr=errors,
        color=CHAMPION_COLOR,
        alpha=0.85,
        height=0.7,
        error_kw={"ecolor": "#444444", "capsize": 2, "linewidth": 0.8},
    )
    ax.set_yticks(positions, [short(name) for name in names], fontsize=9)
    if reference is not None:
        ax.axvline(reference[0], linestyle="--", color=OTHER_COLORS[0], label=reference[1])
        ax.legend(fontsize=8, frameon=False, loc="lower right")
    if notes is not None:
        for y, value, note in zip(positions, values, notes, strict=True):
            ax.text(
                value,
                y,
                f"  {note}",
                va="center",
                fontsize=8,
                color="#333333",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.8},
            )
        ax.set_xlim(right=max(values) * 1.25 if max(values) > 0 else 1)
    canvas.style(ax, title, xlabel, "")
    ax.grid(axis="y", visible=False)
    canvas.thousands(ax.xaxis, np.asarray(values, dtype=float))
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    canvas.save(fig, path)
