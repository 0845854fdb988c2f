"""One monitor run's numbers: every feature's drift against the training split, the
predictions' drift against the test split's, the performance on the outcomes, the verdict.

Both sides go through the served feature path's cleaning (`ModelInput.typed`): numbers as
floats, levels as training spelt them, a date as the parts the model sees ("<column>__month"),
so a value sent as "$1,234" and one stored as 1234.0 are the same value. The predictions are
compared with the model's answers on the test split, which the model did not learn from: its
answers on training rows are sharper than on any new rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ..config import MonitorParams
from ..serving.predictor import Predictor
from .current import Current
from .drift import ColumnDrift, categorical_drift, numeric_drift
from .performance import Performance, measure
from .verdict import EXIT_CODES, Judged, degraded, judge, ranked, verdict


@dataclass
class Monitoring:
    verdict: str
    rows: int
    source: str
    model_version: str
    features: list[Judged]  # highest drift score first
    prediction: Judged
    performance: Performance | None
    performance_note: str
    unknown_outcomes: int
    times: pd.Series | None  # when each judged row was scored (the log's rows)
    settings: MonitorParams
    created_at: str

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def summary(self) -> dict[str, Any]:
        """reports/monitoring/summary.json."""
        performance = None
        if self.performance is not None:
            p = self.performance
            performance = {
                "rows": p.rows, "primary_metric": p.primary, "metrics": p.metrics,
                "intervals": p.intervals, "test": p.test, "degraded": self.verdict == "degraded",
                "reason": self.performance_note, "unknown_request_ids": self.unknown_outcomes,
            }  # fmt: skip
        return {
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "rows": self.rows,
            "source": self.source,
            "model_version": self.model_version,
            "created_at": self.created_at,
            "features": [judged.summary() for judged in self.features],
            "prediction": self.prediction.summary(),
            "performance": performance,
            "thresholds": self.settings.model_dump(),
        }


def feature_drift(
    predictor: Predictor, train: pd.DataFrame, now: pd.DataFrame, cfg: MonitorParams
) -> list[ColumnDrift]:
    """Each model input column's drift (dates: each part the model sees)."""
    before, after = predictor.inputs.typed(train), predictor.inputs.typed(now)
    return [
        numeric_drift(name, values, after[name], cfg.bins)
        if values.dtype.kind == "f"
        else categorical_drift(name, values, after[name], cfg.max_levels)
        for name, values in before.items()
    ]


def prediction_drift(
    predictor: Predictor, test: pd.DataFrame, current: Current, cfg: MonitorParams
) -> ColumnDrift:
    """The answers' drift: a binary model's probability of its positive class, a multiclass
    model's predicted class, a regression's predicted value."""
    labels, proba = predictor.predict_frame(test)
    if proba is None:
        return numeric_drift("prediction", labels, current.labels, cfg.bins)
    if proba.shape[1] == 2:
        name = f"probability of {predictor.class_names[1]}"
        return numeric_drift(name, proba[:, 1], current.proba[:, 1], cfg.bins)
    before = [str(label) for label in labels]
    after = [str(label) for label in current.labels]
    return categorical_drift("predicted class", before, after, cfg.max_levels)


def monitor(
    predictor: Predictor,
    train: pd.DataFrame,
    test: pd.DataFrame,
    current: Current,
    report: dict[str, Any],
    cfg: MonitorParams,
    seed: int,
    unknown_outcomes: int = 0,
) -> Monitoring:
    """Every check on the judged rows, and the verdict."""
    features = ranked(feature_drift(predictor, train, current.frame, cfg), cfg)
    prediction = judge(prediction_drift(predictor, test, current, cfg), cfg, cfg.prediction_psi)
    performance = measure(current, predictor, report, cfg.bootstrap_rounds, seed)
    worse, note = degraded(performance, cfg) if performance else (False, "no outcomes")
    return Monitoring(
        verdict=verdict(features, prediction, worse),
        rows=len(current.frame),
        source=current.source,
        model_version=predictor.version,
        features=features,
        prediction=prediction,
        performance=performance,
        performance_note=note,
        unknown_outcomes=unknown_outcomes,
        times=current.times,
        settings=cfg,
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
