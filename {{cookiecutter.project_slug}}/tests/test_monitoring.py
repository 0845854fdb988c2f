"""The monitor's statistics and verdict rules, on data whose answer is known; then the whole
check on the fixture model's own splits."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from {{ cookiecutter.package_name }}.config import MonitorParams
from {{ cookiecutter.package_name }}.monitoring.check import monitor
from {{ cookiecutter.package_name }}.monitoring.current import Current
from {{ cookiecutter.package_name }}.monitoring.drift import (
    MISSING,
    UNSEEN,
    categorical_drift,
    numeric_drift,
    psi,
)
from {{ cookiecutter.package_name }}.monitoring.performance import Performance
from {{ cookiecutter.package_name }}.monitoring.report import write_report
from {{ cookiecutter.package_name }}.monitoring.verdict import EXIT_CODES, degraded, judge

CFG = MonitorParams()
rng = np.random.default_rng(0)


def test_psi_matches_its_formula_and_is_zero_for_equal_shares():
    before, after = np.array([50, 30, 20]), np.array([30, 30, 40])
    p, q = before / 100, after / 100
    assert psi(before, after) == pytest.approx(np.sum((q - p) * np.log(q / p)))
    assert psi(before, before * 3) == 0.0


def test_a_shifted_number_drifts_and_a_resample_does_not():
    train = rng.normal(0, 1, 5000)
    same = numeric_drift("x", train, rng.normal(0, 1, 1000), CFG.bins)
    moved = numeric_drift("x", train, rng.normal(1, 1, 1000), CFG.bins)
    assert same.psi < 0.05 and not judge(same, CFG, CFG.psi).crossed
    assert moved.psi > 0.5 and moved.p_value < 1e-10 and judge(moved, CFG, CFG.psi).crossed
    expected = stats.ks_2samp(train, rng.normal(1, 1, 1000)).statistic
    assert moved.statistic == pytest.approx(expected, abs=0.05)


def test_number_bins_are_training_quantiles_with_a_bin_for_missing():
    train = np.arange(1000, dtype=float)
    now = np.r_[np.arange(500, dtype=float), [np.nan] * 500]
    drift = numeric_drift("x", train, now, 4)
    assert drift.bins[-1] == MISSING
    assert drift.train_shares == pytest.approx([0.25, 0.25, 0.25, 0.25, 0.0])
    assert drift.now_shares == pytest.approx([0.25, 0.25, 0, 0, 0.5], abs=0.001)
    assert drift.missing_now == 0.5
    assert "missing in 50% of rows" in judge(drift, CFG, CFG.psi).reasons[-1]


def test_unseen_levels_and_new_missing_values_of_a_category():
    train = np.array(["a"] * 600 + ["b"] * 400, dtype=object)
    now = np.array(["a"] * 50 + ["c"] * 30 + [""] * 20, dtype=object)
    drift = categorical_drift("plan", train, now, CFG.max_levels)
    assert drift.unseen == ["c"] and drift.unseen_share == pytest.approx(0.3)
    assert drift.now_shares[drift.bins.index(UNSEEN)] == pytest.approx(0.3)
    assert drift.missing_now == pytest.approx(0.2) and drift.missing_train == 0
    reasons = judge(drift, CFG, CFG.psi).reasons
    assert any("never seen in training: 'c'" in reason for reason in reasons)


def test_a_small_change_in_many_rows_is_significant_but_not_drift():
    train = np.array(["a"] * 50_000 + ["b"] * 50_000, dtype=object)
    now = np.array(["a"] * 52_000 + ["b"] * 48_000, dtype=object)
    drift = categorical_drift("plan", train, now, CFG.max_levels)
    assert drift.p_value < 1e-6 and drift.psi < 0.01
    assert not judge(drift, CFG, CFG.psi).crossed


def test_the_noise_of_a_few_rows_crosses_psi_but_not_the_test():
    train = rng.normal(0, 1, 5000)
    few = numeric_drift("x", train, rng.normal(0, 1, 12), CFG.bins)
    assert few.psi > CFG.psi and few.p_value > CFG.p_value
    assert not judge(few, CFG, CFG.psi).crossed


def performance(value: float, low: float, high: float, test: float, rows: int = 500):
    return Performance(
        rows, "roc_auc", {"roc_auc": value}, {"roc_auc": {"low": low, "high": high}},
        {"roc_auc": test}, {}, None,
    )  # fmt: skip


def test_degraded_needs_the_whole_interval_below_the_test_value():
    assert degraded(performance(0.70, 0.66, 0.74, 0.84), CFG)[0]
    assert not degraded(performance(0.80, 0.74, 0.86, 0.84), CFG)[0]  # within noise
    assert not degraded(performance(0.70, 0.66, 0.74, 0.84, rows=20), CFG)[0]  # too few
    assert EXIT_CODES == {"ok": 0, "drift": 3, "degraded": 4}


def current_from(predictor, frame: pd.DataFrame) -> Current:
    labels, proba = predictor.predict_frame(frame)
    truth = frame[predictor.meta.target]
    return Current(frame, labels, proba, "test", truth=truth)


def test_the_test_split_is_ok_and_a_shifted_copy_drifts(predictor, splits):
    train, test = splits
    report = {"test": {}, "intervals": {}}
    cfg = MonitorParams(min_rows=10)
    result = monitor(predictor, train, test, current_from(predictor, test), report, cfg, 0)
    assert result.verdict == "ok" and result.exit_code == 0
    numbers = [n for n, s in predictor.schema.columns.items() if s.kind == "numeric"]
    shifted = test.copy()
    shifted[numbers[0]] = shifted[numbers[0]] * 3 + shifted[numbers[0]].std() * 2
    result = monitor(predictor, train, test, current_from(predictor, shifted), report, cfg, 0)
    assert result.verdict == "drift" and result.exit_code == 3
    assert result.features[0].drift.name == numbers[0] and result.features[0].crossed
    summary = result.summary()
    assert summary["features"][0]["name"] == numbers[0] and summary["rows"] == len(test)


def test_the_report_is_one_page_with_its_plots_and_the_summary(predictor, splits, tmp_path):
    train, test = splits
    current = current_from(predictor, test)
    current.times = pd.Series(pd.date_range("2026-01-01", periods=len(test), freq="h", tz="UTC"))
    result = monitor(predictor, train, test, current, {"test": {}}, MonitorParams(min_rows=10), 0)
    write_report(result, "A project", tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    shown = min(len(result.features), 6)
    assert html.count('src="data:image/png;base64,') == 3 + shown  # scores, answers, time
    assert "<script" not in html and "http" not in html.split("<body>")[1]
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] == result.verdict and summary["rows"] == len(test)
    assert [f["name"] for f in summary["features"]] == [j.drift.name for j in result.features]
    assert summary["performance"]["rows"] == len(test)
