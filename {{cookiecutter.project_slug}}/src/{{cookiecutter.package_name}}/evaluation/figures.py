"""The evaluation plots with one sentence each, read off the numbers they show.

`draw_figures` draws every plot that fits the problem and returns them with a title and a
caption: the classifier's (classifier_figures.py) or regression's (regression_figures.py), then
the ones every problem has, here: importance, learning curve, error by segment. `fmt` is the
one number format of the documents, so they agree with reports/metrics.json to their digits.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import canvas, charts
from .analysis import Evaluation
from .canvas import Plot
from .classifier_figures import classification_plots
from .diagnostics import SegmentErrors
from .regression_figures import regression_plots
from .wording import fmt, in_text, label, read_learning_curve


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
    metric, folds = ev.meta.primary_metric, ev.budget.learning_folds
    rows = "the training split"
    if ev.budget.learning_rows < ev.budget.learning_of:
        rows = f"{ev.budget.learning_rows:,} training rows"
    of = f" of {ev.learning_member}, the blend's heaviest member" if ev.learning_member else ""
    title = f"Learning curve{of} ({folds}-fold CV on {rows})"
    charts.learning_curve(ev.learning, label(metric), title, folder / "learning_curve.png")
    return Plot("learning_curve.png", "Learning curve", read_learning_curve(ev.learning, metric))


def _segments(ev: Evaluation, folder: Path, seg: SegmentErrors) -> Plot:
    is_rate, unit = seg.measure == "error rate", ev.settings.target_unit
    show = (lambda v: f"{v:.0%}") if is_rate else fmt
    table = seg.table
    charts.bars(
        table["segment"],
        table["error"],
        f"{seg.measure.capitalize()} by {canvas.short(seg.column)}, test split",
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
    if len(ev.learning) >= 2:  # one size (a tiny table) is no curve: the limitations say so
        out.append(_learning(ev, folder))
    if ev.segments is not None:
        out.append(_segments(ev, folder, ev.segments))
    return out


def draw_figures(ev: Evaluation, folder: Path) -> list[Plot]:
    """Write every PNG into folder; return them with titles and one-sentence readings."""
    folder.mkdir(parents=True, exist_ok=True)
    specific = regression_plots if ev.champion.y_pred is None else classification_plots
    return specific(ev, folder) + _shared_plots(ev, folder)
