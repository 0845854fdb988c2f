"""What the documents say, built from the evaluation: the headline sentence, the tables of
metrics, candidates, facts and data, the notes, limitations and intended use."""

from __future__ import annotations

import re
from typing import Any

from .analysis import Evaluation
from .canvas import Plot
from .direction import LOWER_IS_BETTER
from .wording import (
    compare,
    fmt,
    in_text,
    label,
    method_notes,
    runner_up_note,
    temperature_note,
)

# Words in a column name that suggest a protected attribute (matched as whole words).
SENSITIVE = {
    *("age", "gender", "sex", "female", "male", "senior", "race", "ethnicity", "ethnic"),
    *("religion", "nationality", "marital", "disability", "pregnant"),
}


def headline(ev: Evaluation) -> str:
    m, metric = ev.metrics, ev.meta.primary_metric
    value = m["test"][metric]
    text = f"The champion, {m['champion']}, reaches {in_text(metric)} {fmt(value)}"
    if metric in m["intervals"]:
        low, high = m["intervals"][metric]["low"], m["intervals"][metric]["high"]
        text += f" (95% interval {fmt(low)} to {fmt(high)})"
    text += f" on {m['test_rows']:,} held-out test rows"
    others = {f: s[metric] for f, s in m["candidates"].items() if metric in s}
    comparisons = []
    blend = _blend(ev)
    if "linear" in others and not (blend and blend[0] == m["champion"]):
        comparisons.append(compare(metric, value, others["linear"], "the linear model"))
    elif others:  # a blend is told against the best of the models it averages
        best = max(others, key=lambda f: others[f] * (-1 if metric in LOWER_IS_BETTER else 1))
        comparisons.append(
            compare(metric, value, others[best], f"{best} (the best other candidate)")
        )
    if metric in m["baseline"]:
        comparisons.append(compare(metric, value, m["baseline"][metric], "the naive baseline"))
    return text + (": " + " and ".join(comparisons) if comparisons else "") + "."


def _metric_rows(ev: Evaluation) -> list[dict[str, str]]:
    m, cv = ev.metrics, ev.meta.cv
    order = [*m["intervals"], *m["test"]]
    rows = []
    for metric in dict.fromkeys(name for name in order if name in m["test"]):
        interval = m["intervals"].get(metric)
        rows.append(
            {
                "name": label(metric),
                "key": metric,
                "test": fmt(m["test"][metric]),
                "interval": f"{fmt(interval['low'])} to {fmt(interval['high'])}"
                if interval
                else "",
                "baseline": fmt(m["baseline"][metric]) if metric in m["baseline"] else "",
                "cv": f"{fmt(cv[metric].mean)} ± {fmt(cv[metric].std, cv[metric].mean)}"
                if metric in cv
                else "",
            }
        )
    return rows


def _leaderboard(ev: Evaluation) -> dict[str, list]:
    board, metric, m = ev.leaderboard, ev.meta.primary_metric, ev.metrics
    names = [c.removesuffix("_mean") for c in board.columns if c.endswith("_mean")]
    header = ["model", *(f"CV {label(n)}" for n in names), f"test {label(metric)}", "fit time (s)"]
    rows = []
    for _, row in board.iterrows():
        family, members = str(row["model"]), row.get("members")
        is_champion = family == m["champion"]
        tested = m["test"] if is_champion else m["candidates"].get(family, {})
        named = f"{family} ({members})" if isinstance(members, str) and members else family
        cells = [named + (" (champion)" if is_champion else "")]
        cells += [
            f"{fmt(row[f'{n}_mean'])} ± {fmt(row[f'{n}_std'], row[f'{n}_mean'])}" for n in names
        ]
        cells += [fmt(tested[metric]) if metric in tested else "", f"{row['fit_seconds']:.2f}"]
        rows.append(cells)
    return {"header": header, "rows": rows}


def _blend(ev: Evaluation) -> tuple[str, str, str] | None:
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


def _facts(ev: Evaluation) -> list[tuple[str, str]]:
    meta, m = ev.meta, ev.metrics
    problem = meta.problem_type
    task = {"binary": "binary classification", "multiclass": "multiclass classification"}
    what = f"{task.get(problem, 'regression')} of `{meta.target}`"
    if problem == "binary":
        what += f" (positive class {meta.positive_class}, threshold {m['threshold']:.2f})"
    champion = m["champion"]
    blend = _blend(ev)
    if blend is not None and blend[0] == champion:
        champion += f" ({blend[1]}), a weighted average of the best candidates' answers"
    return [
        ("Task", what),
        ("Champion", f"{champion}, chosen by cross-validated {label(meta.primary_metric)}"),
        ("Trained", meta.trained_at),
        ("Git commit", meta.git_commit or "none (not a git repository, or no commit)"),
        ("MLflow run", meta.mlflow.run_id or "not logged"),
    ]


def _dataset(ev: Evaluation) -> list[tuple[str, str]]:
    d = ev.dataset
    kinds = f"{d['numeric']} numeric, {d['categorical']} categorical"
    if d.get("text"):
        kinds += f", {d['text']} free text"
    if d.get("datetime"):
        kinds += f", {d['datetime']} date"
    inputs = len(ev.meta.features.numeric) + len(ev.meta.features.categorical)
    given = d["numeric"] + d["categorical"] + d.get("text", 0)
    if not d.get("datetime") and inputs > given:
        kinds += f", plus {inputs - given} engineered"
    rows = [
        ("Source", f"`{d['source']}`"),
        ("Rows", f"{d['train_rows']:,} training, {d['test_rows']:,} test (held out)"),
        ("Feature columns", kinds),
        ("Missing cells", f"{d['missing_share']:.1%}"),
    ]
    if "class_shares" in d:
        shares = ", ".join(f"{c} {s:.1%}" for c, s in d["class_shares"].items())
        rows.append((f"Classes of `{d['target']}`", shares))
    else:
        s = d["target_stats"]
        rows.append(
            (
                f"`{d['target']}`",
                f"mean {fmt(s['mean'])}, median {fmt(s['median'])}, "
                f"range {fmt(s['min'])} to {fmt(s['max'])}",
            )
        )
    if d["dropped"]:
        dropped = "; ".join(f"`{c}` ({reason})" for c, reason in d["dropped"].items())
        rows.append(("Dropped columns", dropped))
    return rows


def _notes(ev: Evaluation) -> list[str]:
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
    blend = _blend(ev)
    if blend is not None:
        notes.append(
            f"The {blend[0]} ({blend[1]}) averages the best trials' answers"
            f"{runner_up_note(blend[1])} with weights "
            "chosen on their out-of-fold answers; its CV scores are nested (each fold blended "
            f"with weights chosen on the other folds). {blend[2][:1].upper()}{blend[2][1:]}."
        )
    threshold = ev.metrics.get("threshold")
    if threshold is not None and abs(threshold - 0.5) > 1e-9:
        notes.append(
            "Cross-validated accuracy and F1 use scikit-learn's default cut-off of 0.50; the test "
            f"split uses the chosen threshold {threshold:.2f}."
        )
    tempered = temperature_note(ev.meta.temperature)
    return notes + [tempered] * (tempered is not None)


def _limitations(ev: Evaluation, plots_: list[Plot]) -> list[str]:
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


def _intended_use(ev: Evaluation) -> str:
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


def context(ev: Evaluation, figures: list[Plot]) -> dict[str, Any]:
    meta = ev.meta
    tempered = [] if meta.temperature is None else [("Probability temperature", meta.temperature)]
    return {
        "project": meta.project.name,
        "description": meta.project.description,
        "summary": headline(ev),
        "facts": _facts(ev),
        "dataset": _dataset(ev),
        "metrics": _metric_rows(ev),
        "per_class": ev.metrics.get("per_class"),
        "leaderboard": _leaderboard(ev),
        "plots": figures,
        "notes": _notes(ev),
        "limitations": _limitations(ev, figures),
        "intended_use": _intended_use(ev),
        "model_params": {
            name: value
            for name, value in meta.model_params.items()
            if name not in {"enabled", "n_trials"}  # switches of the search, not the model
        },
        "choices": [
            ("Class weights", meta.class_weight),
            ("Target transform", meta.target_transform),
            *[(name, f"{value:.2f}") for name, value in tempered],
        ],
        "features": meta.features.model_dump(),
    }
