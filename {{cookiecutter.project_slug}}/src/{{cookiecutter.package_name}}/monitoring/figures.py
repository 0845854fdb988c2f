"""The monitoring report's plots, on the evaluation's drawing surface (evaluation/canvas.py):
drift scores, train-against-now distributions of the columns that moved most and of the
predictions, and the rows and the primary metric over time. Each returns a `Plot` with a
one-sentence reading of its numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.ticker import PercentFormatter

from ..evaluation import canvas, charts
from ..evaluation.canvas import CHAMPION_COLOR, OTHER_COLORS, REFERENCE, Plot, short
from .check import Monitoring
from .verdict import Judged

SHOWN_COLUMNS = 6  # distributions drawn, highest drift score first
TOP_SCORES = 20  # columns on the drift score chart


def scores(result: Monitoring, folder: Path) -> Plot:
    top = result.features[:TOP_SCORES]
    limit = result.settings.psi
    charts.bars(
        [j.drift.name for j in top],
        [j.score for j in top],
        f"Drift score (PSI) against the training split, top {len(top)} of {len(result.features)}",
        "Population stability index",
        folder / "drift_scores.png",
        notes=["crossed" if j.crossed else "" for j in top],
        reference=(limit, f"threshold {limit:g}"),
    )
    crossed = [f"`{j.drift.name}`" for j in result.features if j.crossed]
    first = top[0]
    caption = (
        f"`{first.drift.name}` moved most (PSI {first.score:.3f}); "
        + (f"{len(crossed)} crossed a threshold: {', '.join(crossed[:5])}." if crossed
           else "no column crossed a threshold.")
    )  # fmt: skip
    return Plot("drift_scores.png", "Drift scores", caption)


def distribution(judged: Judged, file: str, folder: Path, reference: str) -> Plot:
    """Shares per bin, the reference split against now, side by side."""
    d = judged.drift
    keep = [i for i, (a, b) in enumerate(zip(d.train_shares, d.now_shares, strict=True)) if a or b]
    names = [short(d.bins[i], 24) for i in keep]
    before = np.array(d.train_shares)[keep]
    after = np.array(d.now_shares)[keep]
    fig, ax = canvas.figure(6.8, max(2.8, 1.0 + 0.34 * len(keep)))
    y = np.arange(len(keep))[::-1]
    ax.barh(y + 0.2, before, height=0.4, color=OTHER_COLORS[-1], label=reference)
    ax.barh(y - 0.2, after, height=0.4, color=CHAMPION_COLOR, label="now")
    ax.set_yticks(y, names, fontsize=8)
    status = "crossed" if judged.crossed else "within thresholds"
    canvas.style(ax, f"{short(d.name, 40)}: PSI {d.psi:.3f} ({status})", "Share of rows", "")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(axis="y", visible=False)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    canvas.save(fig, folder / file)
    moved = int(np.argmax(np.abs(after - before)))
    caption = (
        f"The bin that changed most is {names[moved]}: {before[moved]:.0%} of {reference} rows, "
        f"{after[moved]:.0%} now. {'; '.join(judged.reasons) or 'No threshold crossed'}."
    )
    return Plot(file, f"{d.name}: {reference} against now", caption)


def over_time(result: Monitoring, folder: Path) -> Plot | None:
    """Rows per period and, with outcomes, the primary metric per period."""
    if result.times is None:
        return None
    times = result.times
    hourly = times.max() - times.min() < np.timedelta64(2, "D")
    periods = times.dt.floor("h" if hourly else "D").dt.tz_localize(None)
    counts = periods.value_counts().sort_index()
    perf = result.performance
    by_period = perf.by_period if perf is not None else None
    rows = 2 if by_period is not None else 1
    fig, axes = canvas.figure(6.8, 2.8 * rows + 0.6, nrows=rows, sharex=True, squeeze=False)
    unit = "hour" if hourly else "day"
    volume = axes[0][0]
    volume.bar(counts.index, counts.to_numpy(), width=(1 / 24 if hourly else 0.8) * 0.9,
               color=CHAMPION_COLOR)  # fmt: skip
    canvas.style(volume, f"Rows scored per {unit}", "", "Rows")
    caption = (
        f"{len(times):,} rows over {len(counts)} {unit}s; the busiest {unit} had {counts.max():,}."
    )
    if by_period is not None:
        ax, metric = axes[1][0], perf.primary
        ax.plot(by_period["period"].dt.tz_localize(None), by_period["value"], marker="o",
                color=CHAMPION_COLOR, label="on the outcomes")  # fmt: skip
        if metric in perf.test:
            ax.axhline(perf.test[metric], **REFERENCE, label=f"test split {perf.test[metric]:.3f}")
        canvas.style(
            ax, f"{metric} per {unit} on the rows with outcomes", f"Time (UTC, per {unit})", metric
        )
        ax.legend(fontsize=8, frameon=False)
        low, high = by_period["value"].min(), by_period["value"].max()
        caption += f" {metric} per {unit} ranges from {low:.3f} to {high:.3f}."
    fig.autofmt_xdate()
    canvas.save(fig, folder / "over_time.png")
    return Plot("over_time.png", "Over time", caption)


def draw(result: Monitoring, folder: Path) -> list[Plot]:
    """Every plot of the report, written into folder."""
    plots = [scores(result, folder)]
    plots.append(distribution(result.prediction, "prediction.png", folder, "test split"))
    for i, judged in enumerate(result.features[:SHOWN_COLUMNS]):
        plots.append(distribution(judged, f"column_{i}.png", folder, "training split"))
    timeline = over_time(result, folder)
    return plots + ([timeline] if timeline else [])
