"""The evaluation plots as PNG files, drawn by scikit-learn's Displays where it has one.

Each function takes plain numbers and a path and writes one figure. A Display draws on our
axes; our titles, labels, colours and reference lines go on top. The threshold sweep, bars
and residual histogram have no Display. `Figure` objects are used rather than pyplot's, so no
global state is involved (PNG files are rendered by Agg). Every plot has a title, axis labels
with units, and names instead of indices; long names are shortened, long lists cut to the top N.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import AutoLocator, FuncFormatter, PercentFormatter
from sklearn import metrics as skm
from sklearn.calibration import CalibrationDisplay
from sklearn.model_selection import LearningCurveDisplay

CHAMPION_COLOR = "#1f4e79"
OTHER_COLORS = ["#e07b39", "#4e9a5f", "#8e6bb5", "#c44e52", "#8c8c8c"]
REFERENCE_COLOR = "#9a9a9a"
REFERENCE = {"linestyle": "--", "color": REFERENCE_COLOR}  # chance, perfect and zero lines
SCATTER = {"s": 10, "alpha": 0.45, "color": CHAMPION_COLOR, "edgecolors": "none"}
DPI = 110
NAME_WIDTH = 32  # characters of a category or column name shown on an axis
CURVE_AXES = {  # x and y labels of the ROC and precision-recall plots
    "roc": ("False positive rate (share of negatives flagged)", "True positive rate (recall)"),
    "pr": ("Recall (share of positives found)", "Precision (share of flags that are right)"),
}


def short(name: object, width: int = NAME_WIDTH) -> str:
    text = str(name)
    return text if len(text) <= width else text[: width - 1] + "…"


def _figure(width: float = 6.6, height: float = 4.4, **grid) -> tuple[Figure, object]:
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.subplots(**grid)


def _save(figure: Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI, facecolor="white")


def _style(ax: object, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title("\n".join(textwrap.wrap(title, 64)), fontsize=11, loc="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def _thousands(ax_axis: object, values: np.ndarray) -> None:
    """1,234,567 instead of 1.23e6 on axes of large quantities."""
    if np.nanmax(np.abs(values)) >= 10_000:
        ax_axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str], title: str, path: Path
) -> None:
    """Counts and shares of each actual class, side by side; classes name the codes 0..k-1."""
    k = len(classes)
    size = min(3.2 + 0.45 * k, 12.0)
    figure, (left, right) = _figure(2 * size + 1.4, size + 0.6, ncols=2)
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
    figure.suptitle(title, fontsize=11, x=0.01, ha="left")
    _save(figure, path)


def curves(
    kind: str,
    models: Mapping[str, Mapping[str, np.ndarray]],
    champion: str,
    title: str,
    path: Path,
) -> None:
    """ROC (kind "roc") or precision-recall ("pr") curves: the champion bold, the others thin.

    models holds each model's curve_points; its "truth" and "scores" are what is drawn."""
    figure, ax = _figure(6.6, 5.2)
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
    _style(ax, title, *CURVE_AXES[kind])
    ax.set(xlim=(0, 1), ylim=(0, 1.02), aspect="auto")
    ax.legend(loc="lower right" if roc else "upper right", fontsize=8, frameon=False)
    _save(figure, path)


def calibration(
    points: Mapping[str, np.ndarray], xlabel: str, ylabel: str, title: str, path: Path
) -> None:
    """Observed frequency against predicted probability, with the spread of predictions below.

    points are calibration_points; their "hits" (0/1) and "confidence" are what is drawn."""
    figure, (ax, hist) = _figure(6.6, 5.6, nrows=2, height_ratios=[3, 1], sharex=True)
    ax.plot([0, 1], [0, 1], **REFERENCE, label="perfectly calibrated")
    CalibrationDisplay.from_predictions(
        points["hits"], points["confidence"], n_bins=10, strategy="quantile", ax=ax, ref_line=False
    ).line_.set(marker="o", color=CHAMPION_COLOR, label="champion")
    _style(ax, title, "", ylabel)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    hist.hist(points["confidence"], bins=20, range=(0, 1), color=CHAMPION_COLOR, alpha=0.6)
    _style(hist, "", xlabel, "Rows")
    hist.set_xlim(0, 1)
    _save(figure, path)


def thresholds(
    sweep: Mapping[str, np.ndarray], chosen: float, xlabel: str, title: str, path: Path
) -> None:
    """Precision, recall and F1 of the positive class against the decision threshold."""
    figure, ax = _figure()
    for name, color in (
        ("precision", OTHER_COLORS[0]),
        ("recall", OTHER_COLORS[1]),
        ("f1", CHAMPION_COLOR),
    ):
        ax.plot(sweep["threshold"], sweep[name], color=color, label=name.replace("f1", "F1"))
    ax.axvline(chosen, **REFERENCE, label=f"chosen threshold {chosen:.2f}")
    _style(ax, title, xlabel, "Score (0 to 1)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, frameon=False)
    _save(figure, path)


def learning_curve(curve: pd.DataFrame, metric: str, title: str, path: Path) -> None:
    """Training and validation scores (mean ± one standard deviation over folds)."""
    figure, ax = _figure()
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
    _style(ax, title, "Training set size (rows)", metric)
    _thousands(ax.xaxis, curve["train_size"].to_numpy())
    _thousands(ax.yaxis, folds["validation"])  # an error in the target's unit can be large
    ax.legend(fontsize=8, frameon=False)
    _save(figure, path)


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
    figure, ax = _figure(6.8, max(2.6, 0.9 + 0.32 * n))
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
    _style(ax, title, xlabel, "")
    ax.grid(axis="y", visible=False)
    _thousands(ax.xaxis, np.asarray(values, dtype=float))
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    _save(figure, path)


def predicted_vs_actual(
    actual: np.ndarray, predicted: np.ndarray, quantity: str, title: str, path: Path
) -> None:
    """Actual values up against predictions across (scikit-learn's orientation)."""
    figure, ax = _figure(6.0, 5.6)
    skm.PredictionErrorDisplay.from_predictions(
        actual,
        predicted,
        kind="actual_vs_predicted",
        subsample=None,
        ax=ax,
        scatter_kwargs=SCATTER,
        line_kwargs=REFERENCE | {"label": "actual = prediction"},
    )
    _style(ax, title, f"Predicted {quantity}", f"Actual {quantity}")
    for axis, values in ((ax.xaxis, predicted), (ax.yaxis, actual)):
        axis.set_major_locator(AutoLocator())  # round ticks, not five from min to max
        _thousands(axis, values)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    _save(figure, path)


def residuals(
    predicted: np.ndarray, residual: np.ndarray, quantity: str, title: str, path: Path
) -> None:
    """Residuals against predictions, with their median in bins to show a trend."""
    figure, ax = _figure()
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
    _style(ax, title, f"Predicted {quantity}", f"Actual minus predicted {quantity}")
    _thousands(ax.xaxis, predicted)
    _thousands(ax.yaxis, residual)
    ax.legend(fontsize=8, frameon=False)
    _save(figure, path)


def residual_distribution(residual: np.ndarray, quantity: str, title: str, path: Path) -> None:
    figure, ax = _figure()
    ax.hist(residual, bins=40, color=CHAMPION_COLOR, alpha=0.8)
    ax.axvline(0, **REFERENCE)
    _style(ax, title, f"Residual of {quantity}: actual minus predicted", "Rows")
    _thousands(ax.xaxis, residual)
    _save(figure, path)
