"""The evaluation as documents a reader takes in within two minutes.

`draw_figures` writes the plots (plots.py) and pairs each with one sentence read off its
numbers; `write_documents` renders reports/report.html (self-contained: images embedded),
reports/README.md (the portfolio write-up) and reports/model_card.md from the Jinja2
templates in templates/. Every number shown is formatted by `fmt`, so the documents agree
with reports/metrics.json to the digits they print.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from sklearn.metrics import confusion_matrix

from . import plots
from .evaluate import Evaluation
from .metrics import LABELS, LOWER_IS_BETTER, calibration_points, curve_points, threshold_sweep
from .tables import write_text

TEMPLATES = Path(__file__).parent / "templates"
# Metrics on a 0-1 scale: differences are told in points (hundredths).
UNIT_SCALE = {
    *("accuracy", "balanced_accuracy", "precision", "recall", "f1", "f1_macro", "f1_weighted"),
    *("roc_auc", "pr_auc", "r2", "r2_log"),
}


@dataclass
class Plot:
    file: str
    title: str
    caption: str


def fmt(value: float) -> str:
    """The one number format of the documents: 4 decimals, fewer for large values."""
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:,.1f}"
    return f"{value:.4f}"


def label(metric: str) -> str:
    return LABELS.get(metric, metric)


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


def headline(ev: Evaluation) -> str:
    m, metric = ev.metrics, ev.meta["primary_metric"]
    value = m["test"][metric]
    text = f"The champion, {m['champion']}, reaches {label(metric)} {fmt(value)}"
    if metric in m["intervals"]:
        low, high = m["intervals"][metric]["low"], m["intervals"][metric]["high"]
        text += f" (95% interval {fmt(low)} to {fmt(high)})"
    text += f" on {m['test_rows']:,} held-out test rows"
    others = {f: s[metric] for f, s in m["candidates"].items() if metric in s}
    comparisons = []
    if "linear" in others:
        comparisons.append(compare(metric, value, others["linear"], "the linear model"))
    elif others:
        best = max(others, key=lambda f: others[f] * (-1 if metric in LOWER_IS_BETTER else 1))
        comparisons.append(compare(metric, value, others[best], f"the best other candidate, {best}"))
    if metric in m["baseline"]:
        comparisons.append(compare(metric, value, m["baseline"][metric], "the naive baseline"))
    return text + (": " + " and ".join(comparisons) if comparisons else "") + "."


def read_learning_curve(curve: Any, metric: str) -> str:
    if len(curve) < 2:
        return "Too few training rows to draw a learning curve."
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    train_end, valid_end = curve["train_score"].iloc[-1], curve["validation_score"].iloc[-1]
    scale = 1.0 if metric in UNIT_SCALE else max(abs(valid_end), 1e-12)
    gap = sign * (train_end - valid_end) / scale
    step = sign * (valid_end - curve["validation_score"].iloc[-2]) / scale
    name, rows = label(metric), curve["train_size"]
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


def _classification_plots(ev: Evaluation, folder: Path) -> list[Plot]:
    meta, result, m = ev.meta, ev.champion, ev.metrics
    classes = [str(c) for c in meta["classes"]]
    binary = len(classes) == 2
    target, out = meta["target"], []
    positive = f"{target} = {classes[-1]}"
    counts = confusion_matrix(result.y, result.y_pred, labels=np.arange(len(classes)))
    suffix = f" (threshold {m['threshold']:.2f})" if binary else ""
    plots.confusion_matrix(counts, classes, f"Confusion matrix, test split{suffix}", folder / "confusion_matrix.png")
    if binary:
        tp, actual, flagged = counts[1, 1], counts[1].sum(), counts[:, 1].sum()
        caption = (
            f"Of the {actual:,} test rows with {positive}, the model flags {tp:,} "
            f"({tp / max(actual, 1):.0%}, the recall); {tp / max(flagged, 1):.0%} of its "
            f"{flagged:,} flags are right (the precision) at threshold {m['threshold']:.2f}."
        )
    else:
        off = counts.copy()
        np.fill_diagonal(off, 0)
        i, j = np.unravel_index(off.argmax(), off.shape)
        caption = f"{m['test']['accuracy']:.0%} of test rows are classed correctly"
        caption += (
            f"; the most frequent confusion is {classes[i]} taken for {classes[j]} ({off[i, j]:,} rows)."
            if off[i, j]
            else "."
        )
    out.append(Plot("confusion_matrix.png", "Confusion matrix", caption))

    scored = {meta["champion"]: result} | ev.candidates
    averaged = "" if binary else " (one-vs-rest, micro-averaged)"
    for kind, name, title in (("roc", "roc.png", "ROC curves"), ("pr", "precision_recall.png", "Precision-recall curves")):
        points = {family: curve_points(kind, s.y, s.output) for family, s in scored.items()}
        subject = positive if binary else "every class"
        plots.curves(kind, points, meta["champion"], f"{title} for {subject}, test split{averaged}", folder / name)
        champion = points[meta["champion"]]
        if kind == "roc":
            caption = f"The champion's ROC AUC is {fmt(champion['area'])}; a random ranking scores 0.5000."
            others = {f: p["area"] for f, p in points.items() if f != meta["champion"]}
            if others:
                best = max(others, key=others.get)
                caption += f" It is {compare('roc_auc', champion['area'], others[best], best)} ({fmt(others[best])}), the best other candidate."
        else:
            lift = champion["area"] / max(champion["prevalence"], 1e-12)
            caption = (
                f"Average precision {fmt(champion['area'])} against {fmt(champion['prevalence'])} for "
                f"a random ranking (the share of positives): {lift:.1f} times better than chance."
            )
        out.append(Plot(name, title, caption))

    calibration = calibration_points(result.y, result.output)
    if binary:
        x, y = f"Predicted probability of {positive}", f"Observed share of {positive}"
    else:
        x, y = "Confidence in the predicted class", "Share of rows predicted correctly"
    plots.calibration(calibration, x, y, "Calibration on the test split (10 quantile bins)", folder / "calibration.png")
    out.append(Plot("calibration.png", "Calibration", read_calibration(calibration["ece"])))

    if binary:
        sweep = threshold_sweep(result.y, result.output[:, 1])
        chosen = m["threshold"]
        plots.thresholds(sweep, chosen, f"Decision threshold (probability of {positive})", "Precision, recall and F1 against the threshold, test split", folder / "threshold.png")
        best = int(np.argmax(sweep["f1"]))
        caption = (
            f"At the chosen threshold {chosen:.2f}, precision is {fmt(m['test']['precision'])} "
            f"and recall {fmt(m['test']['recall'])}; on the test split F1 would peak at "
            f"{sweep['threshold'][best]:.2f} (F1 {fmt(sweep['f1'][best])}). A lower threshold "
            f"finds more {positive} at the cost of more false alarms."
        )
        out.append(Plot("threshold.png", "Precision and recall against the threshold", caption))
    return out


def _regression_plots(ev: Evaluation, folder: Path) -> list[Plot]:
    result, target, m = ev.champion, ev.meta["target"], ev.metrics["test"]
    unit = ev.settings.get("target_unit")
    quantity = f"{target} ({unit})" if unit else target
    money = f" {unit}" if unit else ""
    residual = result.y - result.output
    plots.predicted_vs_actual(result.y, result.output, quantity, f"Predicted against actual {target}, test split", folder / "predicted_vs_actual.png")
    caption = (
        f"R² {fmt(m['r2'])}: the predictions explain {max(m['r2'], 0):.0%} of the variance of "
        f"{target}; the typical error (MAE) is {fmt(m['mae'])}{money}."
    )
    out = [Plot("predicted_vs_actual.png", "Predicted against actual", caption)]

    plots.residuals(result.output, residual, quantity, "Residuals against predictions, test split", folder / "residuals.png")
    spread = np.corrcoef(result.output, np.abs(residual))[0, 1] if len(residual) > 2 else 0.0
    trend = (
        "their spread grows with the predicted value: errors are roughly proportional, so a "
        "log target may suit"
        if spread > 0.3
        else "their spread stays about even across the range"
    )
    caption = f"Residuals average {fmt(float(residual.mean()))}{money} (the bias); {trend}."
    out.append(Plot("residuals.png", "Residuals against predictions", caption))

    plots.residual_distribution(residual, quantity, "Distribution of residuals, test split", folder / "residual_distribution.png")
    half, most = np.quantile(np.abs(residual), [0.5, 0.9])
    caption = f"Half of the predictions are within ±{fmt(half)}{money} of the truth, 90% within ±{fmt(most)}{money}."
    out.append(Plot("residual_distribution.png", "Distribution of residuals", caption))
    return out


def _shared_plots(ev: Evaluation, folder: Path) -> list[Plot]:
    metric, top_n, out = ev.meta["primary_metric"], ev.settings["top_n"], []
    ranking = ev.permutation.head(top_n)
    plots.bars(
        ranking["column"], ranking["importance"],
        f"Permutation importance on the test split (top {len(ranking)} of {len(ev.permutation)} columns)",
        f"Loss of {label(metric)} when the column is shuffled", folder / "permutation_importance.png",
        errors=ranking["std"],
    )
    top = [f"`{c}`" for c in ranking["column"].head(3)]
    small = int((ev.permutation["importance"] < 0.001 * max(1.0, abs(ev.metrics["test"][metric]))).sum())
    caption = (
        f"Shuffling {top[0]} costs the most {label(metric)} ({fmt(ranking['importance'].iloc[0])})"
        + (f", then {' and '.join(top[1:])}" if len(top) > 1 else "")
        + f"; {small} of {len(ev.permutation)} columns change it by less than 0.1%."
    )
    out.append(Plot("permutation_importance.png", "Permutation importance", caption))

    if ev.model_importance is not None:
        board, kind = ev.model_importance
        board = board.head(top_n)
        plots.bars(
            board["feature"], board["importance"],
            f"{ev.meta['champion']}'s own importance ({kind}), top {len(board)} encoded inputs",
            "Share of the model's total importance", folder / "model_importance.png", percent=True,
        )
        caption = (
            f"The {ev.meta['champion']} model's own importance ({kind}) ranks `{board['feature'].iloc[0]}` "
            f"first with {board['importance'].iloc[0]:.0%} of the total. It counts encoded inputs, so "
            "a column one-hot encoded into many levels spreads over several bars."
        )
        out.append(Plot("model_importance.png", "The model's own importance", caption))

    curve, folds = ev.learning, ev.settings["learning_curve_folds"]
    if len(curve):
        plots.learning_curve(curve, label(metric), f"Learning curve ({folds}-fold CV on the training split)", folder / "learning_curve.png")
        out.append(Plot("learning_curve.png", "Learning curve", read_learning_curve(curve, metric)))

    if ev.segments is not None:
        seg = ev.segments
        table = seg["table"]
        is_rate = seg["measure"] == "error rate"
        show = (lambda v: f"{v:.0%}") if is_rate else fmt
        plots.bars(
            table["segment"], table["error"],
            f"{seg['measure'].capitalize()} by {plots.short(seg['column'])}, test split",
            seg["measure"].capitalize(), folder / "error_by_segment.png",
            notes=[f"{r:,} rows" for r in table["rows"]],
            reference=(seg["overall"], f"overall {show(seg['overall'])}"), percent=is_rate,
        )
        worst, best = table.iloc[0], table.iloc[-1]
        caption = (
            f"The {seg['measure']} is highest for `{seg['column']}` = {worst['segment']} "
            f"({show(worst['error'])} over {worst['rows']:,} rows) against {show(seg['overall'])} "
            f"overall, and lowest for {best['segment']} ({show(best['error'])})."
        )
        out.append(Plot("error_by_segment.png", f"Error by {seg['column']}", caption))
    return out


def draw_figures(ev: Evaluation, folder: Path) -> list[Plot]:
    """Write every PNG into folder; return them with titles and one-sentence readings."""
    folder.mkdir(parents=True, exist_ok=True)
    specific = _regression_plots if ev.champion.y_pred is None else _classification_plots
    return specific(ev, folder) + _shared_plots(ev, folder)


SENSITIVE = ("gender", "female", "male", "sex", "age", "senior", "race", "ethnic", "religion")


def _metric_rows(ev: Evaluation) -> list[dict[str, str]]:
    m, cv = ev.metrics, ev.meta.get("cv") or {}
    order = [*m["intervals"], *m["test"]]
    rows = []
    for metric in dict.fromkeys(name for name in order if name in m["test"]):
        interval = m["intervals"].get(metric)
        rows.append(
            {
                "name": label(metric),
                "key": metric,
                "test": fmt(m["test"][metric]),
                "interval": f"{fmt(interval['low'])} to {fmt(interval['high'])}" if interval else "",
                "baseline": fmt(m["baseline"][metric]) if metric in m["baseline"] else "",
                "cv": f"{fmt(cv[metric]['mean'])} ± {fmt(cv[metric]['std'])}" if metric in cv else "",
            }
        )
    return rows


def _leaderboard(ev: Evaluation) -> dict[str, list]:
    board, metric, m = ev.leaderboard, ev.meta["primary_metric"], ev.metrics
    names = [c.removesuffix("_mean") for c in board.columns if c.endswith("_mean")]
    header = ["model", *(f"CV {label(n)}" for n in names), f"test {label(metric)}", "fit time (s)"]
    rows = []
    for _, row in board.iterrows():
        family = str(row["model"])
        is_champion = family == m["champion"]
        tested = m["test"] if is_champion else m["candidates"].get(family, {})
        cells = [family + (" (champion)" if is_champion else "")]
        cells += [f"{fmt(row[f'{n}_mean'])} ± {fmt(row[f'{n}_std'])}" for n in names]
        cells += [fmt(tested[metric]) if metric in tested else "", f"{row['fit_seconds']:.2f}"]
        rows.append(cells)
    return {"header": header, "rows": rows}


def _facts(ev: Evaluation) -> list[tuple[str, str]]:
    meta, m = ev.meta, ev.metrics
    problem = meta["problem_type"]
    task = {"binary": "binary classification", "multiclass": "multiclass classification"}
    what = f"{task.get(problem, 'regression')} of `{meta['target']}`"
    if problem == "binary":
        what += f" (positive class {meta['positive_class']}, threshold {m['threshold']:.2f})"
    tracked = meta.get("mlflow") or {}
    return [
        ("Task", what),
        ("Champion", f"{m['champion']}, chosen by cross-validated {label(meta['primary_metric'])}"),
        ("Trained", str(meta.get("trained_at", ""))),
        ("Git commit", meta.get("git_commit") or "none (not a git repository, or no commit)"),
        ("MLflow run", tracked.get("run_id") or "not logged"),
    ]


def _dataset(ev: Evaluation) -> list[tuple[str, str]]:
    d = ev.dataset
    engineered = len(ev.meta["features"]["numeric"]) + len(ev.meta["features"]["categorical"])
    engineered -= d["numeric"] + d["categorical"]
    rows = [
        ("Source", f"`{d['source']}`"),
        ("Rows", f"{d['train_rows']:,} training, {d['test_rows']:,} test (held out)"),
        ("Feature columns", f"{d['numeric']} numeric, {d['categorical']} categorical"
         + (f", plus {engineered} engineered" if engineered > 0 else "")),
        ("Missing cells", f"{d['missing_share']:.1%}"),
    ]
    if "class_shares" in d:
        shares = ", ".join(f"{c} {s:.1%}" for c, s in d["class_shares"].items())
        rows.append((f"Classes of `{d['target']}`", shares))
    else:
        s = d["target_stats"]
        rows.append((f"`{d['target']}`", f"mean {fmt(s['mean'])}, median {fmt(s['median'])}, "
                     f"range {fmt(s['min'])} to {fmt(s['max'])}"))
    if d["dropped"]:
        dropped = "; ".join(f"`{c}` ({reason})" for c, reason in d["dropped"].items())
        rows.append(("Dropped columns", dropped))
    return rows


def _notes(ev: Evaluation) -> list[str]:
    s, d = ev.settings, ev.dataset
    baseline = "the training mean" if ev.champion.y_pred is None else "the training class shares (it always predicts the majority class)"
    return [
        f"The champion was picked by cross-validation on the training split; the {d['test_rows']:,} "
        "test rows were held out until this stage, so the test numbers are honest estimates.",
        f"Intervals: 95% percentile bootstrap over {s['bootstrap_rounds']:,} resamples of the test rows.",
        f"Baseline: a model that ignores the features and predicts {baseline}.",
        f"The other candidates on the test split were {ev.candidates_source}.",
        f"Permutation importance: {s['permutation_repeats']} shuffles per original column, through "
        "the same prediction path as the API, so engineered features count toward their source columns.",
    ]


def _limitations(ev: Evaluation, plots_: list[Plot]) -> list[str]:
    m, meta, d = ev.metrics, ev.meta, ev.dataset
    notes = []
    metric = meta["primary_metric"]
    if metric in m["intervals"]:
        low, high = m["intervals"][metric]["low"], m["intervals"][metric]["high"]
        notes.append(
            f"With {m['test_rows']:,} test rows the {label(metric)} is known only to within "
            f"{fmt(low)} to {fmt(high)}; differences between candidates smaller than that are noise."
        )
    shares = d.get("class_shares") or {}
    if shares and min(shares.values()) < 0.2:
        rare = min(shares, key=shares.get)
        notes.append(
            f"The classes are imbalanced ({rare} is {shares[rare]:.1%} of rows): accuracy flatters "
            "the model; read balanced accuracy, recall and PR AUC."
        )
    notes += [p.caption for p in plots_ if p.file in {"calibration.png", "learning_curve.png", "error_by_segment.png"}]
    columns = list(ev.meta["schema"]["columns"])
    sensitive = [c for c in columns if any(word in c.lower() for word in SENSITIVE)]
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
    target, problem = meta["target"], meta["problem_type"]
    if problem == "binary":
        return (
            f"Rank records by their probability of `{target}` = {meta['positive_class']} and flag "
            f"those at or above {m['threshold']:.2f}, so that a person can act on the flagged ones first."
        )
    if problem == "multiclass":
        return f"Suggest the most likely `{target}` among {len(meta['classes'])} classes, with a probability for each."
    unit = ev.settings.get("target_unit")
    return f"Estimate `{target}`" + (f" in {unit}" if unit else "") + " from the other columns of a record."


def context(ev: Evaluation, figures: list[Plot]) -> dict[str, Any]:
    meta = ev.meta
    return {
        "project": meta["project"]["name"],
        "description": meta["project"].get("description", ""),
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
        "model_params": meta.get("model_params") or {},
        "features": meta["features"],
        "model_uri": (meta.get("mlflow") or {}).get("model_uri") or "",
    }


def _html_inline(text: str) -> Markup:
    """Escape text for HTML, then show `code` spans as <code>."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def _md_cell(text: object) -> str:
    """Text inside a Markdown table cell: a pipe would end the cell, a newline the row."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["inline"] = _html_inline
    env.filters["cell"] = _md_cell
    return env


def write_documents(
    ev: Evaluation, figures: list[Plot], figures_dir: Path, html: Path, readme: Path, card: Path
) -> None:
    """Render report.html (images embedded), README.md and model_card.md."""
    env, values = environment(), context(ev, figures)
    images = {
        p.file: base64.b64encode((figures_dir / p.file).read_bytes()).decode("ascii") for p in figures
    }
    write_text(env.get_template("report.html.j2").render(values, images=images), html)
    for template, path in (("README.md.jinja", readme), ("model_card.md.jinja", card)):
        relative = Path(os.path.relpath(figures_dir, path.parent)).as_posix()
        write_text(env.get_template(template).render(values, figures=relative), path)
