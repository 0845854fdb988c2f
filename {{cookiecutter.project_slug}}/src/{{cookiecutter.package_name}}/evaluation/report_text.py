"""What the documents say, built from the evaluation: the headline sentence, the tables of
metrics, candidates, facts and data, and the context the templates read (the notes,
limitations and intended use come from `report_notes`)."""

from __future__ import annotations

from typing import Any

from .analysis import Evaluation
from .canvas import Plot
from .direction import LOWER_IS_BETTER
from .report_notes import blend_row, intended_use, limitations, notes
from .wording import compare, fmt, in_text, label


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
    blend = blend_row(ev)
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


def _facts(ev: Evaluation) -> list[tuple[str, str]]:
    meta, m = ev.meta, ev.metrics
    problem = meta.problem_type
    task = {"binary": "binary classification", "multiclass": "multiclass classification"}
    what = f"{task.get(problem, 'regression')} of `{meta.target}`"
    if problem == "binary":
        what += f" (positive class {meta.positive_class}, threshold {m['threshold']:.2f})"
    champion = m["champion"]
    blend = blend_row(ev)
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


def context(ev: Evaluation, figures: list[Plot]) -> dict[str, Any]:
    meta = ev.meta
    tempered = [] if meta.temperature is None else [("Probability temperature", meta.temperature)]
    shift = meta.class_shift or []
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
        "notes": notes(ev),
        "limitations": limitations(ev, figures),
        "intended_use": intended_use(ev),
        "model_params": {
            name: value
            for name, value in meta.model_params.items()
            if name not in {"enabled", "n_trials"}  # switches of the search, not the model
        },
        "choices": [
            ("Class weights", meta.class_weight),
            ("Target transform", meta.target_transform),
            *[(name, f"{value:.2f}") for name, value in tempered],
            *[("Class shift", ", ".join(f"{value:+.2f}" for value in shift))] * bool(shift),
        ],
        "features": meta.features.model_dump(),
    }
