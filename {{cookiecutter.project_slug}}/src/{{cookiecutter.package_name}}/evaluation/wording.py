"""How the documents say numbers: one number format, metric names in sentences, comparisons
and the one-sentence readings of the learning curve and the calibration."""

from __future__ import annotations

import re
from typing import Any

from ..config import EvaluateParams
from .budget import Budget
from .direction import LOWER_IS_BETTER
from .metrics import LABELS

UNIT_SCALE = {
    *("accuracy", "balanced_accuracy", "precision", "recall", "f1", "f1_macro", "f1_weighted"),
    *("roc_auc", "pr_auc", "r2", "r2_log"),
}


ORDINALS = {2: "second", 3: "third", 4: "fourth"}


def runner_up_note(members: str) -> str:
    """What a runner-up's name in a blend's members ("lightgbm 0.33 + extra_trees_2 0.67")
    means, as a clause; empty when every member is its family's best trial."""
    match = re.search(r"\b([a-z]\w*?)_(\d+) \d", members)
    if match is None:
        return ""
    family, rank = match[1], int(match[2])
    place = ORDINALS.get(rank, f"{rank}th")
    return f" ({family}_{rank}: the {place}-best {family} trial, refitted on every row)"


def temperature_note(temperature: float | None, shift: list[float] | None = None) -> str | None:
    """What calibrating the champion's probabilities did, for the report's notes (None: they
    were not calibrated)."""
    if temperature is None:
        return None
    own = (
        " The cross-validated log loss and Brier score are the model's own; the test split's "
        "are calibrated, as the service answers."
    )
    tempered = (
        "The champion's class probabilities are tempered: their logarithms divided by "
        f"{temperature:.2f}"
    )
    if not shift:
        return (
            f"{tempered}, fitted on its out-of-fold answers (`train.calibration`), which "
            f"changes no most probable class.{own}"
        )
    moved = ", ".join(f"{value:+.2f}" for value in shift)
    return (
        f"{tempered} and moved by a shift per class ({moved}), fitted on its out-of-fold "
        "answers (`train.calibration`): class weights trained the models as if the classes "
        "were equally common, and the shift brings the probabilities back to the classes' "
        f"real shares (a binary model's cut-off is chosen after it).{own}"
    )


def fmt(value: float, like: float | None = None) -> str:
    """The one number format of the documents: 4 decimals, fewer for large values.

    like: format with the digits of that number instead (a standard deviation as its mean)."""
    size = abs(value if like is None else like)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:,.1f}"
    return f"{value:.4f}"


def label(metric: str) -> str:
    return LABELS.get(metric, metric)


def in_text(metric: str) -> str:
    """The metric's name inside a sentence: 'log loss', but 'ROC AUC' and 'F1' as they are."""
    name = label(metric)
    return name[0].lower() + name[1:] if name[1:2].islower() else name


def compare(metric: str, a: float, b: float, other: str) -> str:
    """'3.1 points above the linear model' / '12.0% lower (better) than ...'."""
    if metric in UNIT_SCALE:
        points = abs(a - b) * 100
        shown = f"{points:.1f}" if points >= 1 else f"{points:.2f}"
        return f"{shown} points {'above' if a >= b else 'below'} {other}"
    if b == 0:
        return f"{fmt(a - b)} from {other}"
    verdict = "better" if (a < b) == (metric in LOWER_IS_BETTER) else "worse"
    return f"{abs(a - b) / abs(b):.1%} {'lower' if a < b else 'higher'} ({verdict}) than {other}"


def read_learning_curve(curve: Any, metric: str) -> str:
    if len(curve) < 2:
        return "Too few training rows to draw a learning curve."
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    train_end, valid_end = curve["train_score"].iloc[-1], curve["validation_score"].iloc[-1]
    scale = 1.0 if metric in UNIT_SCALE else max(abs(valid_end), 1e-12)
    gap = sign * (train_end - valid_end) / scale
    step = sign * (valid_end - curve["validation_score"].iloc[-2]) / scale
    name, rows = in_text(metric), curve["train_size"]
    if step > 0.005:
        return (
            f"Validation {name} still improves ({fmt(curve['validation_score'].iloc[-2])} to "
            f"{fmt(valid_end)}) between {rows.iloc[-2]:,} and {rows.iloc[-1]:,} training rows: "
            "more data would likely help."
        )
    if gap > 0.05:
        return (
            f"Training {name} ({fmt(train_end)}) stays well ahead of validation "
            f"({fmt(valid_end)}): the model partly memorises its training rows (variance); "
            "stronger regularisation or more data would narrow the gap."
        )
    return (
        f"Validation {name} levels off at {fmt(valid_end)}, with training close above it "
        f"({fmt(train_end)}): the two nearly converge, so more data would help little; better "
        "features or a more flexible model would help more (bias)."
    )


def read_calibration(ece: float) -> str:
    verdict = (
        "well calibrated"
        if ece < 0.02
        else "reasonably calibrated"
        if ece < 0.05
        else "poorly calibrated: treat the scores as a ranking, or calibrate them before "
        "reading them as risks"
    )
    return (
        f"Expected calibration error {fmt(ece)}: predicted probabilities are on average "
        f"{ece * 100:.1f} points from the observed rates, so the model is {verdict}."
    )


def method_notes(budget: Budget, settings: EvaluateParams) -> list[str]:
    """How the intervals, the importance and the learning curve were computed, saying what
    was sampled or cut (evaluate.sample_rows, learning_curve_rows, learning_curve_seconds,
    permutation_seconds)."""
    b, configured_rounds = budget, settings.bootstrap_rounds
    rounds = f"{b.bootstrap_rounds:,} resamples of the {b.permutation_of:,} test rows"
    if b.bootstrap_rounds < configured_rounds:
        rounds += f" (fewer than the {configured_rounds:,} set: the split is large)"
    shuffled = f"{b.permutation_repeats} shuffles per original column"
    if b.permutation_repeats < settings.permutation_repeats:
        shuffled += (
            f" (of the {settings.permutation_repeats} set: fewer on a large or wide split, and "
            "where scoring them, estimated from the model's time per row, would outlast "
            "evaluate.permutation_seconds)"
        )
    if b.permutation_rows < b.permutation_of:
        shuffled += f", on a random sample of {b.permutation_rows:,} of the test rows"
    notes = [
        f"Intervals: 95% percentile bootstrap over {rounds}.",
        f"Permutation importance: {shuffled}, through the same prediction path as the API, so "
        "engineered features count toward their source columns.",
    ]
    if b.learning_rows < b.learning_of:
        notes.append(
            f"Learning curve: refits on a random sample of {b.learning_rows:,} of the "
            f"{b.learning_of:,} training rows."
        )
    points, folds = settings.learning_curve_points, settings.learning_curve_folds
    if (b.learning_points, b.learning_folds) != (points, folds):
        notes.append(
            f"Learning curve: {b.learning_points} sizes and {b.learning_folds} folds (of the "
            f"{points} and {folds} set), so that its refits, estimated "
            "from the champion's refit time, stay within evaluate.learning_curve_seconds."
        )
    return notes
