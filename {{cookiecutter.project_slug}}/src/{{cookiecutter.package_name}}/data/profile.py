"""The data profile `validate` writes: per-column statistics, target, leakage, a few plots."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from ..files import write_json, write_text
from .cleaning import as_text, mean_words
from .schema import MISSING_TEXT, STRING_KINDS, Schema

log = logging.getLogger(__name__)
TOP_LEVELS = 5


def _column_stats(name: str, spec: Any, raw: pd.Series, clean: pd.Series) -> dict[str, Any]:
    missing = (as_text(raw) == MISSING_TEXT) if spec.kind in STRING_KINDS else clean.isna()
    stats: dict[str, Any] = {
        "kind": spec.kind,
        "missing_share": round(float(missing.mean()), 4),
        "unique": int(clean[~missing].nunique()),
    }
    if spec.kind == "numeric":
        present = clean.dropna()
        if len(present):
            stats |= {
                "min": float(present.min()),
                "median": float(present.median()),
                "mean": round(float(present.mean()), 4),
                "max": float(present.max()),
            }
    elif spec.kind in STRING_KINDS:
        top = clean[~missing].value_counts().head(TOP_LEVELS)
        stats["top"] = {str(k): int(v) for k, v in top.items()}
        if spec.kind == "text":
            stats["mean_words"] = round(mean_words(clean[~missing].astype(str)), 2)
    else:
        present = clean.dropna()
        if len(present):
            stats |= {"first": str(present.min()), "last": str(present.max())}
    return stats


def profile(
    raw: pd.DataFrame, frame: pd.DataFrame, schema: Schema, duplicates: int, leaks: dict
) -> dict[str, Any]:
    """Everything the profile shows, as JSON-ready data."""
    labelled = raw[raw[schema.target].notna()].reset_index(drop=True)
    target = frame[schema.target]
    if schema.problem_type == "regression":
        described = target.astype(float).describe()
        target_summary = {k: round(float(v), 4) for k, v in described.items()}
    else:
        target_summary = {str(k): int(v) for k, v in target.value_counts().items()}
    return {
        "rows_raw": len(raw),
        "rows_without_target": int(len(raw) - len(labelled)),
        "rows_valid": len(frame),
        "duplicate_rows": duplicates,
        "problem_type": schema.problem_type,
        "target": {"name": schema.target, "distribution": target_summary},
        "dropped_columns": schema.dropped,
        "possible_leakage": leaks,
        "columns": {
            name: _column_stats(name, spec, labelled[name], frame[name])
            for name, spec in schema.columns.items()
        },
    }


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Data profile",
        "",
        f"{report['rows_valid']} valid rows of {report['rows_raw']} "
        f"({report['rows_without_target']} without a target, dropped); "
        f"{report['duplicate_rows']} exact duplicate rows. Problem: {report['problem_type']}, "
        f"target `{report['target']['name']}`.",
        "",
        "![Missing values](missing_values.png) ![Target](target.png)",
        "",
    ]
    if report["possible_leakage"]:
        leaks = ", ".join(f"`{k}` ({v})" for k, v in report["possible_leakage"].items())
        lines += [f"**Possible leakage**: {leaks} alone predict the target.", ""]
    if report["dropped_columns"]:
        lines += ["Dropped columns:", ""]
        lines += [f"- `{k}`: {v}" for k, v in report["dropped_columns"].items()]
        lines.append("")
    lines += ["| column | kind | missing | unique | summary |", "|---|---|---|---|---|"]
    for name, stats in report["columns"].items():
        if "top" in stats:
            summary = ", ".join(f"{k} ({v})" for k, v in stats["top"].items())
            if "mean_words" in stats:
                summary = f"{stats['mean_words']:g} words a value; commonest: {summary}"
        elif "median" in stats:
            summary = f"{stats['min']:g} … {stats['median']:g} … {stats['max']:g}"
        else:
            summary = f"{stats.get('first', '')} … {stats.get('last', '')}"
        summary = summary.replace("|", "\\|")
        lines.append(
            f"| `{name}` | {stats['kind']} | {stats['missing_share']:.1%} | {stats['unique']} "
            f"| {summary} |"
        )
    return "\n".join(lines) + "\n"


def _plots(report: dict[str, Any], frame: pd.DataFrame, schema: Schema, folder: Path) -> None:
    from matplotlib.figure import Figure

    shares = pd.Series({k: v["missing_share"] for k, v in report["columns"].items()})
    shares = shares[shares > 0].sort_values().tail(25)
    fig = Figure(figsize=(7, max(2.5, 0.3 * len(shares) + 1)))
    ax = fig.subplots()
    if shares.empty:
        ax.text(0.5, 0.5, "No missing values", ha="center", va="center", fontsize=12)
        ax.set_axis_off()
    else:
        # Positions with labels: names that read as numbers ("2019") stay names.
        labels = [str(i) for i in shares.index]
        ax.barh(range(len(labels)), shares.to_numpy() * 100, tick_label=labels, color="#4c72b0")
        ax.set_xlabel("missing values (% of rows)")
    ax.set_title("Missing values by column (top 25)")
    fig.tight_layout()
    fig.savefig(folder / "missing_values.png", dpi=100)

    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    target = frame[schema.target]
    if schema.problem_type == "regression":
        ax.hist(target.astype(float), bins=40, color="#4c72b0")
        ax.set_xlabel(schema.target)
        ax.set_ylabel("rows")
    else:
        counts = target.astype(str).value_counts().head(20)
        labels = list(counts.index)
        ax.bar(range(len(labels)), counts.to_numpy(), tick_label=labels, color="#4c72b0")
        ax.set_ylabel("rows")
        ax.tick_params(axis="x", rotation=30)
    ax.set_title(f"Target: {schema.target}")
    fig.tight_layout()
    fig.savefig(folder / "target.png", dpi=100)


def write_profile(
    report: dict[str, Any], frame: pd.DataFrame, schema: Schema, folder: Path
) -> None:
    """data_profile.json, data_profile.md and two plots in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    _plots(report, frame, schema, folder)
    write_json(report, folder / "data_profile.json")
    write_text(_markdown(report), folder / "data_profile.md")
