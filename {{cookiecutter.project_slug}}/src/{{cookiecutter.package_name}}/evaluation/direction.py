"""Which way each metric improves. Kept apart from metrics.py (scikit-learn) so that the
register stage compares scores without importing scikit-learn."""

from __future__ import annotations

LOWER_IS_BETTER = {"log_loss", "brier", "rmse", "mae", "mape", "rmse_log", "mae_log"}


def better(metric: str, a: float, b: float) -> bool:
    """True when score a beats score b."""
    return a < b if metric in LOWER_IS_BETTER else a > b
