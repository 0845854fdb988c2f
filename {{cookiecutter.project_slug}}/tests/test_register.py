"""Registration is gated: beat the naive baseline, and do not fall behind the champion."""

from {{ cookiecutter.package_name }}.tracking.registry import decide

SPLIT = "abc"


def test_a_model_no_better_than_naive_is_not_registered():
    ok, reason = decide("roc_auc", 0.5, 0.5, None, SPLIT, 0.0)
    assert not ok and "naive" in reason


def test_first_champion_is_registered():
    assert decide("rmse", 10.0, 20.0, None, SPLIT, 0.0)[0]


def test_worse_than_registered_champion_on_same_split_is_refused():
    current = {"test_split_sha256": SPLIT, "primary_metric": "rmse", "test_rmse": "9.0"}
    ok, reason = decide("rmse", 10.0, 20.0, current, SPLIT, 0.0)
    assert not ok and "worse" in reason
    assert decide("rmse", 10.0, 20.0, current, SPLIT, 1.5)[0]  # within the tolerance


def test_a_champion_from_another_split_does_not_block():
    current = {"test_split_sha256": "other", "primary_metric": "roc_auc", "test_roc_auc": "0.99"}
    assert decide("roc_auc", 0.8, 0.5, current, SPLIT, 0.0)[0]
