"""The leaderboard: every candidate's cross-validated scores, as CSV and Markdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..evaluation.metrics import better
from .crossval import OutOfFold


@dataclass
class Blend:
    """A blend's members and the verdict of its keep rule (`training.blend`)."""

    weights: dict[str, float]  # member name (`Candidate.name`) -> weight; they sum to 1
    best: str  # the best single family, the one to beat
    # CV primary metric, both nested: the blend's, the best single's picked on the other folds
    scores: tuple[float, float]
    wins: float  # share of bootstrap resamples of the out-of-fold rows the blend won
    needed: float  # the share it must win to be kept
    kept: bool

    def members(self) -> str:
        return " + ".join(f"{name} {weight:.2f}" for name, weight in self.weights.items())

    def verdict(self, metric: str) -> str:
        """Why the blend is, or is not, the champion."""
        if len(self.weights) < 2:
            return f"not kept: the selection weighs {next(iter(self.weights))} alone"
        ours, theirs = self.scores
        told = f"CV {metric} {ours:.4f} against {theirs:.4f}"
        told += f" for the best single model picked fold by fold ({self.best} overall)"
        won = f"better in {self.wins:.0%} of bootstrap resamples of the out-of-fold rows"
        if self.kept:
            return f"kept: {told}, {won}"
        if not better(metric, ours, theirs):
            return f"not kept: {told} (no better on the mean over folds), {won}"
        return f"not kept: {told}, {won}, not beyond noise (needs {self.needed:.0%})"


@dataclass
class Candidate:
    family: str
    config: dict[str, Any]
    cv: dict[str, tuple[float, float]]  # metric -> (mean, std) over folds
    fit_seconds: float
    predict_ms_per_row: float
    trials: pd.DataFrame | None = None  # the Optuna trials, when searched
    pipeline: Any = None  # fitted again after the search, for serving and evaluation
    refit_rows: int = 0  # the rows `pipeline` learned from (the tuning sample, or every row)
    oof: OutOfFold | None = None  # its out-of-fold answers on the tuning rows
    blend: Blend | None = None  # a blend of other candidates: its members and verdict
    # The family's next-best complete trials, best first (rank 2, 3, ...): more answers for
    # the blend to draw on, not on the leaderboard; refitted only when the blend weighs them.
    runners_up: list[Candidate] = field(default_factory=list)
    rank: int = 1  # 1: the family's best trial

    def served(self) -> set[str]:
        """The names of the trials this champion answers with: a blend's members, or itself."""
        return set(self.blend.weights) if self.blend else {self.name}

    @property
    def name(self) -> str:
        """The family for its best trial; "lightgbm_2" for its second best, and so on."""
        return self.family if self.rank == 1 else f"{self.family}_{self.rank}"


def champion_of(candidates: list[Candidate], metric: str) -> Candidate:
    best = candidates[0]
    for candidate in candidates[1:]:
        if better(metric, candidate.cv[metric][0], best.cv[metric][0]):
            best = candidate
    return best


def leaderboard(candidates: list[Candidate], metric: str) -> pd.DataFrame:
    rows = []
    for c in candidates:
        row: dict[str, Any] = {"model": c.family}
        for name, (mean, std) in c.cv.items():
            row[f"{name}_mean"], row[f"{name}_std"] = mean, std
        row["fit_seconds"] = c.fit_seconds
        row["predict_ms_per_row"] = c.predict_ms_per_row
        row["trials"] = 0 if c.trials is None else len(c.trials)
        row["refit_rows"] = c.refit_rows
        row["members"] = c.blend.members() if c.blend else ""
        row["note"] = c.blend.verdict(metric) if c.blend else ""
        rows.append(row)
    board = pd.DataFrame(rows)
    ascending = not better(metric, 1.0, 0.0)
    return board.sort_values(f"{metric}_mean", ascending=ascending).reset_index(drop=True)


def leaderboard_markdown(board: pd.DataFrame, metric: str, note: str) -> str:
    metrics = [c.removesuffix("_mean") for c in board.columns if c.endswith("_mean")]
    header = "| model | " + " | ".join(metrics) + " | fit (s) | predict (ms/row) | trials |"
    lines = [
        "# Leaderboard",
        "",
        f"Cross-validated on the training split ({note}); ranked by {metric}. "
        "Mean ± standard deviation over folds. Tuned and scored on the same folds, so these "
        "scores are slightly optimistic: the held-out test split in `metrics.json` is the "
        "unbiased one.",
        "",
        header,
        "|" + "---|" * (len(metrics) + 4),
    ]
    notes = []
    for _, row in board.iterrows():
        cells = [f"{row[f'{m}_mean']:.4f} ± {row[f'{m}_std']:.4f}" for m in metrics]
        timing = f"{row['fit_seconds']:.2f} | {row['predict_ms_per_row']:.4f} | {row['trials']}"
        model = f"{row['model']} ({row['members']})" if row["members"] else row["model"]
        lines.append(f"| {model} | " + " | ".join(cells) + f" | {timing} |")
        if row["note"]:
            notes.append(
                f"{row['model']}: {row['note']}. Its CV scores are nested: each fold's rows "
                "blended with weights chosen on the other folds."
            )
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"
