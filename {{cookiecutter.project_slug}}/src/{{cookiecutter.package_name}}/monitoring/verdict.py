"""The verdict: which columns crossed params.yaml's `monitor:` thresholds, whether the model
got worse on the true outcomes, and the exit code a scheduler or CI reacts to.

    ok        exit 0   nothing crossed a threshold
    drift     exit 3   a feature or the predictions moved beyond their thresholds
    degraded  exit 4   the primary metric on the outcomes is worse than on the test split
                       (degraded wins over drift: it is the one that costs)

Exit 1 is an error (one line says which input is wrong) and 2 a wrong command line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..config import MonitorParams
from ..evaluation.direction import LOWER_IS_BETTER
from .drift import ColumnDrift
from .performance import Performance

EXIT_CODES = {"ok": 0, "drift": 3, "degraded": 4}


@dataclass
class Judged:
    """A column's drift with its verdict; `score` (its PSI) ranks the columns."""

    drift: ColumnDrift
    crossed: bool
    reasons: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return self.drift.psi

    def summary(self) -> dict[str, Any]:
        found = asdict(self.drift)
        shown = {k: found[k] for k in found if k not in ("bins", "train_shares", "now_shares")}
        return {"name": self.drift.name, "score": round(self.score, 6), "crossed": self.crossed,
                "reasons": self.reasons, **shown}  # fmt: skip


def judge(drift: ColumnDrift, cfg: MonitorParams, psi_limit: float) -> Judged:
    """A column's drift against the thresholds; each threshold crossed gives a reason."""
    reasons = []
    if drift.psi >= psi_limit and drift.p_value < cfg.p_value:
        p = f"= {drift.p_value:.1e}" if drift.p_value > 0 else "< 1e-300"  # 0: underflow
        reasons.append(f"PSI {drift.psi:.2f} (threshold {psi_limit:g}), {drift.test} p {p}")
    if drift.unseen_share >= cfg.unseen_share:
        levels = ", ".join(repr(level) for level in drift.unseen[:3])
        reasons.append(
            f"{drift.unseen_share:.0%} of rows have levels never seen in training: {levels}"
        )
    rise = drift.missing_now - drift.missing_train
    if rise >= cfg.missing_share:
        reasons.append(
            f"missing in {drift.missing_now:.0%} of rows (training: {drift.missing_train:.0%})"
        )
    return Judged(drift, bool(reasons), reasons)


def ranked(drifts: list[ColumnDrift], cfg: MonitorParams) -> list[Judged]:
    """The features judged, highest drift score first."""
    return sorted((judge(d, cfg, cfg.psi) for d in drifts), key=lambda j: -j.score)


def degraded(performance: Performance, cfg: MonitorParams) -> tuple[bool, str]:
    """Whether the primary metric got worse beyond noise and tolerance, and why (or why not)."""
    metric, rows = performance.primary, performance.rows
    value, test = performance.metrics.get(metric), performance.test.get(metric)
    if value is None or test is None:
        return False, f"{metric} is not defined on these outcomes or on the test split"
    if rows < cfg.min_outcomes:
        return False, f"only {rows} outcomes, under monitor.min_outcomes ({cfg.min_outcomes})"
    lower = metric in LOWER_IS_BETTER
    interval = performance.intervals.get(metric, {"low": value, "high": value})
    best = interval["low"] if lower else interval["high"]
    margin = cfg.tolerance * abs(test)
    worse = best > test + margin if lower else best < test - margin
    side = "lower" if lower else "higher"
    told = (
        f"{metric} {value:.4f} on {rows:,} outcomes (95% interval {interval['low']:.4f} to "
        f"{interval['high']:.4f}) against {test:.4f} on the test split"
    )
    if worse:
        return (
            True,
            f"{told}: even the interval's {side} end is worse by more than {cfg.tolerance:.0%}",
        )
    return False, f"{told}: within noise and the {cfg.tolerance:.0%} tolerance"


def verdict(features: list[Judged], prediction: Judged | None, worse: bool) -> str:
    if worse:
        return "degraded"
    moved = any(j.crossed for j in features) or (prediction is not None and prediction.crossed)
    return "drift" if moved else "ok"
