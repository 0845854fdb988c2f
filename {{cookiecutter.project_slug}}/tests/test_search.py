"""The search: strong starts inside their spaces, a trial budget that repeats itself, the
boosters' chosen number of trees carried to the refit, the tuning sample, the drop rule."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import TrainParams
from {{ cookiecutter.package_name }}.errors import StageError
from {{ cookiecutter.package_name }}.parallel import fit_pool
from {{ cookiecutter.package_name }}.train import search_note
from {{ cookiecutter.package_name }}.training.bins import ScaledBins
from {{ cookiecutter.package_name }}.training.budget import Budget, process_age
from {{ cookiecutter.package_name }}.training.crossval import CvResult, OutOfFold, cross_validate
from {{ cookiecutter.package_name }}.training.growth import MIN_ROUNDS, PROBE, Growth
from {{ cookiecutter.package_name }}.training.leaderboard import leaderboard
from {{ cookiecutter.package_name }}.training.portfolio import LARGE_ROWS, strong_starts
from {{ cookiecutter.package_name }}.training.preparation import prepare
from {{ cookiecutter.package_name }}.training.sampling import sample_rows
from {{ cookiecutter.package_name }}.training.schedule import Arm, Plateau, drop_hopeless, next_arm
from {{ cookiecutter.package_name }}.training.search import refit_estimate
from {{ cookiecutter.package_name }}.training.spaces import SPACES
from {{ cookiecutter.package_name }}.training.task import Setup
from {{ cookiecutter.package_name }}.training.trainer import train


def _inside(distribution, value) -> bool:
    choices = getattr(distribution, "choices", None)
    if choices is not None:
        return value in choices
    return distribution.low <= value <= distribution.high


@pytest.mark.parametrize("problem", ["binary", "multiclass", "regression"])
def test_every_strong_start_is_a_valid_config_inside_its_search_space(problem):
    import optuna

    models = TrainParams().models
    for family, space in SPACES.items():
        probe = optuna.create_study().ask()
        space(probe, problem)
        cfg = getattr(models, family)
        starts = strong_starts(family, problem, LARGE_ROWS)
        assert starts, family
        for start in starts:
            type(cfg).model_validate(cfg.model_dump() | start)  # a typo or a bad value fails
            assert set(start) == set(probe.distributions), (family, start)
            for name, value in start.items():
                assert _inside(probe.distributions[name], value), (family, name, value)


def test_the_large_lightgbm_start_waits_for_a_large_table():
    def leaves(rows):
        return [start["num_leaves"] for start in strong_starts("lightgbm", "binary", rows)]

    small, large = leaves(LARGE_ROWS - 1), leaves(LARGE_ROWS)
    assert max(small) < 128 <= max(large)
    assert len(large) == len(small) + 1


def _trees(pipeline) -> int:
    model = pipeline.named_steps["model"]
    booster = getattr(model, "regressor_", model)
    if hasattr(booster, "get_booster"):
        return booster.get_booster().num_boosted_rounds()
    return booster.booster_.current_iteration()


def test_a_trial_budget_repeats_itself_and_the_refit_keeps_the_chosen_trees(splits, schema, params):
    search = params.train.search.model_copy(update={"enabled": True, "n_trials": 7})
    cfg = params.train.model_copy(update={"search": search})
    runs = [
        train(splits[0], schema, cfg, params.data, params.split, params.seed, params.project)
        for _ in range(2)
    ]
    (first, candidates), (second, again) = runs
    assert first.meta.champion == second.meta.champion
    assert first.meta.model_params == second.meta.model_params
    assert [c.cv for c in candidates] == [c.cv for c in again]
    assert sum(len(c.trials) for c in candidates if c.blend is None) == 7
    boosters = [c for c in candidates if c.family in {"xgboost", "lightgbm"}]
    assert boosters
    for candidate in boosters:
        pipeline = candidate.pipeline if candidate.pipeline is not None else first.pipeline
        assert _trees(pipeline) == candidate.config["n_estimators"], candidate.family


def test_a_family_that_cannot_learn_the_table_is_dropped_with_its_error(
    splits, schema, params, caplog, monkeypatch
):
    """A family none of whose fits succeeds is dropped with its error; the other families go
    on. The error is the one scikit-learn's quantile bins raised on pd_speech's numbers near
    1e-20 before `training.bins` scaled them (an IndexError in the linear model's fit)."""

    def fail(*args, **kwargs):
        raise IndexError("index -1 is out of bounds for axis 0 with size 0")

    monkeypatch.setattr(ScaledBins, "fit", fail)
    frame, wide = splits[0], schema
    search = params.train.search.model_copy(update={"enabled": True, "n_trials": 6})
    cfg = params.train.model_copy(update={"search": search})
    predictor, candidates = train(
        frame, wide, cfg, params.data, params.split, params.seed, params.project
    )
    assert "linear" not in {c.family for c in candidates} and predictor.meta.champion
    assert "linear failed: IndexError" in caplog.text
    assert predictor.meta.failed_families == ["linear"]
    note = search_note(cfg, candidates, len(frame), predictor.meta.failed_families)
    assert "no fit of linear succeeded" in note
    alone = cfg.models.model_copy(
        update={name: getattr(cfg.models, name).model_copy(update={"enabled": name == "linear"})
                for name in type(cfg.models).model_fields}
    )  # fmt: skip
    with pytest.raises(StageError, match="no model family could learn this table: linear failed"):
        train(frame, wide, cfg.model_copy(update={"models": alone}), params.data, params.split,
              params.seed, params.project)  # fmt: skip


def test_a_forest_grows_the_trees_its_allowance_affords_the_same_in_every_fold():
    growth = Growth(fold_seconds=10.0)
    # 10 probe trees took 1 s and encoding 2 s: 8 s left at 0.1 s a tree.
    assert growth.fix(configured=100, prepare_seconds=2.0, probe_seconds=1.0) == 80
    assert growth.fix(configured=100, prepare_seconds=0.0, probe_seconds=9.0) == 80  # fixed
    assert Growth(1.0).fix(100, 5.0, 1.0) == PROBE  # no time: the probe stands
    assert Growth(1e6).fix(100, 0.0, 1.0) == 100  # never past the configured trees


def _forests(result_folds) -> list[int]:
    models = [fit.pipeline.named_steps["model"] for fit in result_folds]
    return [len(getattr(model, "regressor_", model).estimators_) for model in models]


def test_a_forest_trial_on_a_time_allowance_grows_fewer_trees_a_trial_budget_all(
    splits, schema, params, monkeypatch
):
    from {{ cookiecutter.package_name }}.training import crossval

    setup, _ = prepare(splits[0], schema, params.train, params.data, params.split, params.seed)
    cfg = params.train.models.extra_trees.model_copy(update={"n_estimators": 30})
    fits = []
    fitted = crossval._fitted
    monkeypatch.setattr(crossval, "_fitted", lambda *a: fits.append(fitted(*a)) or fits[-1])
    with fit_pool("test") as pool:
        short = cross_validate(setup, "extra_trees", cfg, pool, fold_seconds=0.0)
        full = cross_validate(setup, "extra_trees", cfg, pool)
    assert short.trees == PROBE and _forests(fits[0]) == [PROBE] * len(fits[0])
    assert full.trees is None and _forests(fits[1]) == [30] * len(fits[1])
    assert short.oof.output.shape == full.oof.output.shape


@pytest.mark.parametrize("family", ["xgboost", "lightgbm"])
def test_a_booster_fold_stops_at_its_time_limit_after_its_least_trees(
    family, splits, schema, params, monkeypatch
):
    from {{ cookiecutter.package_name }}.training import crossval

    setup, _ = prepare(splits[0], schema, params.train, params.data, params.split, params.seed)
    cfg = getattr(params.train.models, family)
    fits = []
    fitted = crossval._fitted
    monkeypatch.setattr(crossval, "_fitted", lambda *a: fits.append(fitted(*a)) or fits[-1])
    with fit_pool("test") as pool:
        cut = cross_validate(setup, family, cfg, pool, fold_seconds=0.0)
        free = cross_validate(setup, family, cfg, pool)
    assert all(fit.cut and len(fit.curve) == MIN_ROUNDS for fit in fits[0])
    assert cut.trees <= MIN_ROUNDS
    assert not any(fit.cut for fit in fits[1]) and free.trees > MIN_ROUNDS
    assert cut.oof.output.shape == free.oof.output.shape


def test_on_a_sample_only_the_champion_learns_from_every_row(splits, schema, params):
    search = params.train.search.model_copy(update={"enabled": True, "n_trials": 4})
    search = search.model_copy(update={"max_rows": len(splits[0]) // 2})
    cfg = params.train.model_copy(update={"search": search})
    predictor, candidates = train(
        splits[0], schema, cfg, params.data, params.split, params.seed, params.project
    )
    served = {predictor.meta.champion}
    blend = next((c for c in candidates if c.blend is not None and c.blend.kept), None)
    if blend is not None:
        served = set(blend.blend.weights)  # a family's runner-up ("lightgbm_2") among them
    trials = {t.name: t for c in candidates if c.blend is None for t in (c, *c.runners_up)}
    assert all(trials[name].refit_rows == len(splits[0]) for name in served)
    others = [c.refit_rows for c in candidates if c.blend is None and c.name not in served]
    assert others and all(0 < n < len(splits[0]) for n in others)
    board = leaderboard(candidates, predictor.meta.primary_metric)
    assert set(board.loc[board["model"].isin(served), "refit_rows"]) == {len(splits[0])}


def test_the_tuning_sample_keeps_every_class_whole_groups_and_the_latest_rows(
    splits, schema, params
):
    setup, _ = prepare(splits[0], schema, params.train, params.data, params.split, params.seed)
    n = len(setup.y)
    assert sample_rows(setup, n) is None  # small enough: every row
    rows = sample_rows(setup, 100)
    assert 90 <= len(rows) <= 130
    if setup.problem != "regression":
        assert set(setup.y[rows]) == set(setup.y)
    latest = sample_rows(replace(setup, strategy="time"), 100)
    assert list(latest) == list(range(n - 100, n))
    groups = np.arange(n) // 7
    grouped = sample_rows(replace(setup, strategy="group", groups=groups), 100)
    kept = set(groups[grouped])
    assert set(np.flatnonzero(np.isin(groups, list(kept)))) == set(grouped)


def _arm(family: str, mean: float, queued: int = 0) -> Arm:
    result = CvResult(
        cv={"roc_auc": (mean, 0.01)},
        oof=OutOfFold(np.arange(1), np.zeros(1), np.zeros(1, dtype=int)),
        trees=None,
        fit_rows=100.0,
        fit_seconds=1.0,
        predict_ms_per_row=0.0,
    )
    return Arm(family, cfg=None, study=None, queued=queued, best=result)


def test_the_refits_reserve_counts_a_fold_mean_and_the_longest_refit():
    """A linear classifier tuned on every row refits once per fold (four fits' worth of rows
    at five folds), and two at a time the refits take at least the longest one; on a sample
    the served families, the costliest at worst, refit on every row instead."""
    rows = 300
    features = pd.DataFrame({"amount": np.arange(rows, dtype=float)})
    y = np.arange(rows) % 2
    setup = Setup(features, y, "binary", ["amount"], [], "roc_auc", TrainParams(), "random", 0)
    arms = [_arm("linear", 0.80), _arm("lightgbm", 0.85)]  # 0.01 s a row each
    assert refit_estimate(arms, setup, refit_rows=rows) == pytest.approx(4 * 3.0)
    # Sampled: one fit each on the sample (3 s), both served on 1,000 rows (10 s each).
    assert refit_estimate(arms, setup, refit_rows=1000) == pytest.approx((10 + 10) / 2)
    assert refit_estimate(arms[1:], setup, refit_rows=rows) == pytest.approx(3.0)


def test_a_family_keeps_its_best_trials_best_first_for_the_blend():
    arm = _arm("lead", 0.80)
    means = (0.82, 0.79, 0.85, 0.81, 0.85)
    trials = [(f"t{i}", _arm("lead", mean).best) for i, mean in enumerate(means)]
    new_best = [arm.keep(cfg, result, "roc_auc", most=3) for cfg, result in trials]
    assert new_best == [True, False, True, False, False]  # a tie keeps the first best
    assert arm.best_cfg == "t2" and arm.best is trials[2][1]
    assert [cfg for cfg, _ in arm.runners_up] == ["t4", "t0"]  # the next two, best first
    assert not arm.keep("undefined", _arm("lead", float("nan")).best, "roc_auc", most=3)
    assert [cfg for cfg, _ in arm.runners_up] == ["t4", "t0"]  # an undefined score is last


def test_a_family_behind_the_leader_beyond_noise_is_dropped_once_its_starts_are_done():
    # Two standard errors of the leader over 5 folds: 2 * 0.01 / sqrt(5) = 0.0089.
    arms = [_arm("lead", 0.85), _arm("close", 0.845), _arm("far", 0.80), _arm("new", 0.83, 1)]
    drop_hopeless(arms, "roc_auc", folds=5)
    assert [arm.dropped is not None for arm in arms] == [False, False, True, False]


def test_a_family_three_times_beyond_noise_is_dropped_before_its_strong_starts():
    # 3 x 0.0089 = 0.0268: 0.02 behind waits for its starts, 0.03 behind does not.
    arms = [_arm("lead", 0.85), _arm("near", 0.83, 2), _arm("hopeless", 0.82, 2)]
    drop_hopeless(arms, "roc_auc", folds=5)
    assert [arm.dropped is not None for arm in arms] == [False, False, True]


def test_families_share_time_from_the_first_trial_so_slow_strong_starts_wait():
    arms = [_arm("lead", 0.85), _arm("slow", 0.84, queued=2), _arm("cheap", 0.83)]
    for arm, seconds in zip(arms, (10.0, 20.0, 4.0), strict=True):
        arm.study, arm.seconds, arm.durations = object(), seconds, [seconds]
    budget = Budget(seconds=1000.0, trials=None)
    assert next_arm(arms, budget, "roc_auc").family == "cheap"  # 4 s spent
    arms[2].seconds = 8.0
    assert next_arm(arms, budget, "roc_auc").family == "lead"  # 10 s count as 5
    arms[0].seconds = 30.0
    assert next_arm(arms, budget, "roc_auc").family == "cheap"  # slow's starts still wait
    arms[0].seconds, arms[2].seconds = 50.0, 25.0
    assert next_arm(arms, budget, "roc_auc").family == "slow"  # 20 s against 25 s each


def test_the_search_settles_after_patience_trials_without_a_gain_beyond_noise():
    arms = [_arm("lead", 0.85), _arm("other", 0.84, queued=1)]
    plateau = Plateau(patience=3)
    assert not plateau.settled(arms, "roc_auc", folds=5)  # the first best
    assert not plateau.settled(arms, "roc_auc", folds=5)
    arms[0] = _arm("lead", 0.852)  # a gain within noise (half of 0.0045) does not count
    assert not plateau.settled(arms, "roc_auc", folds=5)
    arms[0] = _arm("lead", 0.86)  # a real gain starts the count again
    assert not plateau.settled(arms, "roc_auc", folds=5)
    assert not plateau.settled(arms, "roc_auc", folds=5)
    assert not plateau.settled(arms, "roc_auc", folds=5)
    assert plateau.settled(arms, "roc_auc", folds=5)


def test_a_time_budget_counts_from_the_process_start(params):
    age = process_age()
    assert age > 0  # this test process started a while ago (Linux reads it from /proc)
    timed = params.train.search.model_copy(update={"enabled": True, "n_trials": None})
    budget = Budget.of(params.train.model_copy(update={"search": timed}))
    assert budget.timed and age <= budget.elapsed() < age + 5
    trials = timed.model_copy(update={"n_trials": 4})
    counted = Budget.of(params.train.model_copy(update={"search": trials}))
    assert counted.elapsed() < 5  # a trial budget ignores the clock
