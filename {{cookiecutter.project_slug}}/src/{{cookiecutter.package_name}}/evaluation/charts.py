"""The evaluation plots as PNG files, drawn with matplotlib's object API.

Each function takes plain numbers and a path and writes one figure. `Figure` objects are
used directly rather than pyplot, so no global state or display backend is involved (PNG
files are rendered by Agg). Every plot has a title, axis labels with units, and names
instead of indices; long names are shortened and long lists cut to the top N.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

CHAMPION_COLOR = "#1f4e79"
OTHER_COLORS = ["#e07b39", "#4e9a5f", "#8e6bb5", "#c44e52", "#8c8c8c"]
REFERENCE_COLOR = "#9a9a9a"
DPI = 110
NAME_WIDTH = 32  # characters of a category or column name shown on an axis


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


def confusion_matrix(counts: np.ndarray, classes: Sequence[str], title: str, path: Path) -> None:
    """Counts and shares of each actual class, side by side."""
    k = len(classes)
    size = min(3.2 + 0.45 * k, 12.0)
    figure, (left, right) = _figure(2 * size + 1.4, size + 0.6, ncols=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.nan_to_num(counts / counts.sum(axis=1, keepdims=True))
    names = [short(c, 20) for c in classes]
    panels = [
        (left, counts, "Counts (rows)", "{:,.0f}"),
        (right, shares, "Share of actual class", "{:.0%}"),
    ]
    for ax, values, subtitle, pattern in panels:
        image = ax.imshow(values, cmap="Blues", vmin=0)
        ax.set_xticks(
            range(k), names, rotation=45 if k > 4 else 0, ha="right" if k > 4 else "center"
        )
        ax.set_yticks(range(k), names)
        ax.set_xlabel("Predicted class")
        ax.set_ylabel("Actual class")
        ax.set_title(subtitle, fontsize=10, loc="left")
        if k <= 15:
            top = values.max() or 1
            for (i, j), value in np.ndenumerate(values):
                color = "white" if value > top / 2 else "black"
                ax.text(
                    j, i, pattern.format(value), ha="center", va="center", color=color, fontsize=9
                )
        figure.colorbar(image, ax=ax, shrink=0.8)
    figure.suptitle(title, fontsize=11, x=0.01, ha="left")
    _save(figure, path)


def curves(
    kind: str,
    models: Mapping[str, Mapping[str, np.ndarray]],
    champion: str,
    title: str,
    path: Path,
) -> None:
    """ROC (kind "roc") or precision-recall ("pr") curves: the champion bold, the others thin."""
    figure, ax = _figure(6.6, 5.2)
    x, y = ("fpr", "tpr") if kind == "roc" else ("recall", "precision")
    others = iter(OTHER_COLORS)
    for name, points in sorted(models.items(), key=lambda item: item[0] != champion):
        is_champion = name == champion
        area = "AUC" if kind == "roc" else "AP"
        label = f"{name}{' (champion)' if is_champion else ''}: {area} {points['area']:.3f}"
        ax.plot(
            points[x],
            points[y],
            color=CHAMPION_COLOR if is_champion else next(others),
            linewidth=2.4 if is_champion else 1.2,
            label=label,
            zorder=3 if is_champion else 2,
            drawstyle="steps-post" if kind == "pr" else "default",
        )
    if kind == "roc":
        ax.plot(
            [0, 1], [0, 1], linestyle="--", color=REFERENCE_COLOR, label="random ranking: 0.500"
        )
        _style(
            ax,
            title,
            "False positive rate (share of negatives flagged)",
            "True positive rate (recall)",
        )
    else:
        prevalence = next(iter(models.values()))["prevalence"]
        ax.axhline(
            prevalence,
            linestyle="--",
            color=REFERENCE_COLOR,
            label=f"random ranking: {prevalence:.3f}",
        )
        _style(
            ax,
            title,
            "Recall (share of positives found)",
            "Precision (share of flags that are right)",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right" if kind == "roc" else "upper right", fontsize=8, frameon=False)
    _save(figure, path)


def calibration(
    points: Mapping[str, np.ndarray], xlabel: str, ylabel: str, title: str, path: Path
) -> None:
    """Observed frequency against predicted probability, with the spread of predictions below."""
    figure, (ax, hist) = _figure(6.6, 5.6, nrows=2, height_ratios=[3, 1], sharex=True)
    ax.plot([0, 1], [0, 1], linestyle="--", color=REFERENCE_COLOR, label="perfectly calibrated")
    ax.plot(
        points["predicted"], points["observed"], marker="o", color=CHAMPION_COLOR, label="champion"
    )
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
    ax.axvline(
        chosen, linestyle="--", color=REFERENCE_COLOR, label=f"chosen threshold {chosen:.2f}"
    )
    _style(ax, title, xlabel, "Score (0 to 1)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, frameon=False)
    _save(figure, path)


def learning_curve(curve: pd.DataFrame, metric: str, title: str, path: Path) -> None:
    """Training and validation scores (mean ± one standard deviation over folds)."""
    figure, ax = _figure()
    for column, color, label in (
        ("train", OTHER_COLORS[0], "training rows (fit)"),
        ("validation", CHAMPION_COLOR, "validation rows (held out)"),
    ):
        mean, std = curve[f"{column}_score"], curve[f"{column}_std"]
        ax.plot(curve["train_size"], mean, marker="o", color=color, label=label)
        ax.fill_between(curve["train_size"], mean - std, mean + std, color=color, alpha=0.15)
    _style(ax, title, "Training set size (rows)", metric)
    _thousands(ax.xaxis, curve["train_size"].to_numpy())
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
    figure, ax = _figure(6.0, 5.6)
    ax.scatter(actual, predicted, s=10, alpha=0.45, color=CHAMPION_COLOR, edgecolors="none")
    low, high = (
        np.nanmin([actual.min(), predicted.min()]),
        np.nanmax([actual.max(), predicted.max()]),
    )
    ax.plot(
        [low, high], [low, high], linestyle="--", color=REFERENCE_COLOR, label="prediction = actual"
    )
    _style(ax, title, f"Actual {quantity}", f"Predicted {quantity}")
    _thousands(ax.xaxis, actual)
    _thousands(ax.yaxis, predicted)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    _save(figure, path)


def residuals(
    predicted: np.ndarray, residual: np.ndarray, quantity: str, title: str, path: Path
) -> None:
    """Residuals against predictions, with their median in bins to show a trend."""
    figure, ax = _figure()
    ax.scatter(predicted, residual, s=10, alpha=0.45, color=CHAMPION_COLOR, edgecolors="none")
    ax.axhline(0, linestyle="--", color=REFERENCE_COLOR)
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
    ax.axvline(0, linestyle="--", color=REFERENCE_COLOR)
    _style(ax, title, f"Residual of {quantity}: actual minus predicted", "Rows")
    _thousands(ax.xaxis, residual)
    _save(figure, path)
