"""The drawing surface every evaluation plot shares: colours, figure size, titles, axes, saving.

`Figure` objects are used rather than pyplot's, so no global state is involved (PNG files are
rendered by Agg). Long names are shortened; axes of large quantities show 1,234,567.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

CHAMPION_COLOR = "#1f4e79"
OTHER_COLORS = ["#e07b39", "#4e9a5f", "#8e6bb5", "#c44e52", "#8c8c8c"]
REFERENCE_COLOR = "#9a9a9a"
REFERENCE = {"linestyle": "--", "color": REFERENCE_COLOR}  # chance, perfect and zero lines
SCATTER = {"s": 10, "alpha": 0.45, "color": CHAMPION_COLOR, "edgecolors": "none"}
DPI = 110
NAME_WIDTH = 32  # characters of a category or column name shown on an axis


@dataclass
class Plot:
    """A drawn PNG (its file name in the figures folder) as the documents show it."""

    file: str
    title: str
    caption: str


def short(name: object, width: int = NAME_WIDTH) -> str:
    """The name as text, cut to width characters with an ellipsis."""
    text = str(name)
    return text if len(text) <= width else text[: width - 1] + "…"


def figure(width: float = 6.6, height: float = 4.4, **grid) -> tuple[Figure, object]:
    """A figure in inches with its axes (subplots(**grid)), laid out to fit its labels."""
    drawn = Figure(figsize=(width, height), layout="constrained")
    return drawn, drawn.subplots(**grid)


def save(figure: Figure, path: Path) -> None:
    """Write the figure as a PNG on a white background, making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI, facecolor="white")


def style(ax: object, title: str, xlabel: str, ylabel: str) -> None:
    """Our look: a wrapped title on the left, axis labels, a light grid, no top or right spine."""
    ax.set_title("\n".join(textwrap.wrap(title, 64)), fontsize=11, loc="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def thousands(ax_axis: object, values: np.ndarray) -> None:
    """1,234,567 instead of 1.23e6 on axes of large quantities."""
    if np.nanmax(np.abs(values)) >= 10_000:
        ax_axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
