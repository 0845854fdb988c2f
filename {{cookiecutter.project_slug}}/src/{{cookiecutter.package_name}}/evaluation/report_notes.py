"""The documents' prose: the notes on method, the limitations and the intended use (and the
blend's row of the leaderboard, which the headline and the facts read too)."""

from __future__ import annotations

import re

from .analysis import Evaluation
from .canvas import Plot
from .wording import (
    fmt,
    in_text,
    method_notes,
    read_learning_curve,
    runner_up_note,
    temperature_note,
)

# Words in a column name that suggest a protected attribute (matched as whole words).
SENSITIVE = {
    *("age", "gender", "sex", "female", "male", "senior", "race", "ethnicity", "ethnic"),
    *("religion", "nationality", "marital", "disability", "pregnant"),
}

# A test score this close to perfect is more often a leak than a model: a column computed from
# the target with others (openintro's hfi: its score is the mean of two columns it holds, R²
# 0.99999) passes validate's check, which judges each column alone. Or the task needs no model.
NEAR_PERFECT = {"regression": ("r2", 0.999), "binary": ("roc_auc", 0.999)}
NEAR_PERFECT_CLASSES = ("accuracy", 0.999)


def blend_row(ev: Evaluation) -> tuple[str, str, str] | None:
    """The blend's name, members and verdict, from the leaderboard; None without a blend."""
    board = ev.leaderboard
    if "members" not in board:
        return None
    rows = board[board["members"].fillna("") != ""]
    if rows.empty:
        return None
    row = rows.iloc[0]
    return str(row["model"]), str(row["members"]), str(row["note"])


def _candidates_note(ev: Evaluation) -> str:
    """Which rows the other candidates on the test split learned from."""
    note = "The other candidates on the test split are the pipelines the `train` stage fitted"
    if ev.meta.temperature is not None:
        note = f"{note}, their probabilities calibrated and cut as the champion's,"
    board, rows = ev.leaderboard, ev.dataset["train_rows"]
    fitted = board["refit_rows"] if "refit_rows" in board else board["model"].iloc[:0]
    sampled = fitted[(fitted > 0) & (fitted < rows)]
    if sampled.empty:
        return note + "."
    return (
        f"{note} on the search's sample of {int(sampled.max()):,} rows (`train.search."
        f"max_rows`); only the champion learned from all {rows:,}, so their test scores "
        "understate what they would reach on every row."
    )


def notes(ev: Evaluation) -> list[str]:
    s, d = ev.settings, ev.dataset
    baseline = (
        "the training mean"
        if ev.champion.y_pred is None
        else "the training class shares (it always predicts the majority class)"
    )
    notes = [
        "The champion was picked by cross-validation on the training split; the "
        f"{d['test_rows']:,} test rows were held out until this stage, so the test numbers are "
        "honest estimates.",
        f"Baseline: a model that ignores the features and predicts {baseline}.",
        _candidates_note(ev),
        *method_notes(ev.budget, s),
    ]
    blend = blend_row(ev)
    if blend is not None:
        notes.append(
            f"The {blend[0]} ({blend[1]}) averages the best trials' answers"
            f"{runner_up_note(blend[1])} with weights "
            "chosen on their out-of-fold answers; its CV scores are nested (each fold blended "
            f"with weights chosen on the other folds). {blend[2][:1].upper()}{blend[2][1:]}."
        )
    if averaged := ev.meta.fold_means:
        named = ", ".join(f"{name} ({folds} fits)" for name, folds in averaged.items())
        notes.append(
            f"Averaged over its folds: {named} answers with the mean of the pipelines its "
            "cross-validation scored, one per fold, each fitted on the other folds' rows, "
            "instead of one refit on every row (`training/bagging.py` says why)."
        )
    threshold = ev.metrics.get("threshold")
    if threshold is not None and abs(threshold - 0.5) > 1e-9:
        notes.append(
            "Cross-validated accuracy and F1 use scikit-learn's default cut-off of 0.50; the test "
            f"split uses the chosen threshold {threshold:.2f}."
        )
    if failed := ev.meta.failed_families:
        notes.append(
            f"No fit of {', '.join(failed)} succeeded on this table, so "
            f"{'it is' if len(failed) == 1 else 'they are'} not on the leaderboard "
            "(the train stage's log names the error)."
        )
    tempered = temperature_note(ev.meta.temperature, ev.meta.class_shift)
    return notes + [tempered] * (tempered is not None)


def limitations(ev: Evaluation, plots_: list[Plot]) -> list[str]:
    m, meta, d = ev.metrics, ev.meta, ev.dataset
    notes = []
    metric = meta.primary_metric
    if metric in m["intervals"]:
        low, high = m["intervals"][metric]["low"], m["intervals"][metric]["high"]
        notes.append(
            f"With {m['test_rows']:,} test rows the {in_text(metric)} is known only to within "
            f"{fmt(low)} to {fmt(high)}; differences between candidates smaller than that are "
            "noise."
        )
    if near := near_perfect(meta.problem_type, m["test"]):
        notes.append(
            f"The test {near} is near perfect: before trusting it, check that no column is "
            "computed from the target or recorded after the outcome. Validate's leakage check "
            "judges each column alone, not a sum or a ratio of several."
        )
    shares = d.get("class_shares") or {}
    if shares and min(shares.values()) < 0.2:
        rare = min(shares, key=shares.get)
        notes.append(
            f"The classes are imbalanced ({rare} is {shares[rare]:.1%} of rows): accuracy flatters "
            "the model; read balanced accuracy and the recall of each class."
        )
    notes += [
        p.caption
        for p in plots_
        if p.file in {"calibration.png", "learning_curve.png", "error_by_segment.png"}
    ]
    if len(ev.learning) < 2:
        notes.append(read_learning_curve(ev.learning, metric))
    columns = list(ev.meta.table_schema.columns)
    sensitive = [c for c in columns if SENSITIVE & set(re.split(r"[^a-z0-9]+", c.lower()))]
    if sensitive:
        named = ", ".join(f"`{c}`" for c in sensitive)
        notes.append(
            f"The features include {named}, which may describe protected groups: no fairness "
            "audit has been done; compare error rates across these groups before any use."
        )
    else:
        notes.append("No fairness audit across groups of people has been done.")
    notes.append(
        f"The model learned from `{d['source']}` as it was; other populations, periods or "
        "products may behave differently. Inputs must follow schema.yaml; values outside the "
        "training ranges are extrapolated."
    )
    return notes


def near_perfect(problem: str, test: dict[str, float]) -> str | None:
    """The test metric and its value, as text, when it is at NEAR_PERFECT; else None."""
    name, floor = NEAR_PERFECT.get(problem, NEAR_PERFECT_CLASSES)
    value = test.get(name)
    return f"{in_text(name)} ({fmt(value)})" if value is not None and value >= floor else None


def intended_use(ev: Evaluation) -> str:
    meta, m = ev.meta, ev.metrics
    target, problem = meta.target, meta.problem_type
    if problem == "binary":
        return (
            f"Rank records by their probability of `{target}` = {meta.positive_class} and flag "
            f"those at or above {m['threshold']:.2f}, so that a person can act on the flagged "
            "ones first."
        )
    if problem == "multiclass":
        count = len(meta.classes)
        return f"Suggest the most likely `{target}` among {count} classes, with a probability each."
    unit = ev.settings.target_unit
    return (
        f"Estimate `{target}`"
        + (f" in {unit}" if unit else "")
        + " from the other columns of a record."
    )
