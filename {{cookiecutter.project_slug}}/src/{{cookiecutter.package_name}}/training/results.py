"""A tuning worker's best cross-validation results, kept for the process that refits.

The study in the shared storage holds each trial's params and score; the blend and the
decision threshold also need the best trial's out-of-fold answers, which stay with the
worker that ran it. Each worker saves the results it keeps of each family (its best, and the
runners-up the blend may draw on) as
`<folder>/<study>/<trial number>.npz`: plain arrays (numbers and names), read back with
allow_pickle=False, so loading one runs no code. A result from another machine is not here:
the refitting process then cross-validates the best params again (the folds and the seeds
are the same, so it is the same result)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..files import atomic_write
from .crossval import CvResult, OutOfFold

log = logging.getLogger(__name__)


def result_path(folder: Path, study: str, number: int) -> Path:
    return folder / study / f"{number}.npz"


def save_result(result: CvResult, path: Path) -> None:
    names = list(result.cv)  # in the scorers' order, as the leaderboard's columns
    arrays = {
        "metrics": np.array(names, dtype=str),
        "means": np.array([result.cv[name][0] for name in names], dtype=float),
        "stds": np.array([result.cv[name][1] for name in names], dtype=float),
        "rows": result.oof.rows,
        "output": result.oof.output,
        "fold": result.oof.fold,
        "trees": np.array(-1 if result.trees is None else result.trees),
        "timing": np.array([result.fit_rows, result.fit_seconds, result.predict_ms_per_row]),
    }

    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.savez(handle, **arrays)

    atomic_write(path, write)


def load_result(path: Path, rows: int) -> CvResult | None:
    """A saved result, or None when it is missing or does not fit the tuning rows."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            metrics = [str(name) for name in saved["metrics"]]
            means, stds = saved["means"], saved["stds"]
            oof = OutOfFold(saved["rows"], saved["output"], saved["fold"])
            trees, timing = int(saved["trees"]), saved["timing"]
    except (OSError, KeyError, ValueError) as exc:
        log.warning("%s: unreadable (%s); cross-validating its params again", path, exc)
        return None
    if len(oof.rows) != len(oof.output) or (len(oof.rows) and int(oof.rows.max()) >= rows):
        log.warning("%s: made on other rows; cross-validating its params again", path)
        return None
    return CvResult(
        cv={name: (float(m), float(s)) for name, m, s in zip(metrics, means, stds, strict=True)},
        oof=oof,
        trees=None if trees < 0 else trees,
        fit_rows=float(timing[0]),
        fit_seconds=float(timing[1]),
        predict_ms_per_row=float(timing[2]),
    )
