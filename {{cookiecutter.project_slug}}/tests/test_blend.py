"""The blend: greedy selection on out-of-fold answers, its keep rule, the fast metrics it
scores with, and the fitted estimator that averages its members as the selection did."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import BlendParams, TrainParams
from {{ cookiecutter.package_name }}.evaluation.bootstrap import WEIGHTED
from {{ cookiecutter.package_name }}.evaluation.diagnostics import curve_model
from {{ cookiecutter.package_name }}.evaluation.metrics import score
from {{ cookiecutter.package_name }}.training import blend as blend_module
from {{ cookiecutter.package_name }}.training.blend import (
    blended,
    fold_mean,
    picked,
    select,
    wins,
)
from {{ cookiecutter.package_name }}.training.crossval import OutOfFold, fold_scores
from {{ cookiecutter.package_name }}.training.gains import gain_of
from {{ cookiecutter.package_name }}.training.leaderboard import Candidate, leaderboard
from {{ cookiecutter.package_name }}.training.task import Setup
from {{ cookiecutter.package_name }}.training.voting import voting

ROWS = 2000
FOLDS = 5


def _world(seed: int, own: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A target and two calibrated models (each the target's expectation given what it
    sees): both see a shared part, and each its own part of size `own` that the other
    misses; what neither sees is noise. Their average is the better answer."""
    rng = np.random.default_rng(seed)
    shared, first, second = rng.normal(0, 1, (3, ROWS)) * [[1.0], [own], [own]]
    y = shared + first + second + rng.normal(0, 1, ROWS)
    return y, shared + first, shared + second


def _setup(y: np.ndarray) -> Setup:
    features = pd.DataFrame({"x": np.zeros(len(y))})
    return Setup(features, y, "regression", ["x"], [], "rmse", TrainParams(), "random", 0)


def _candidate(setup: Setup, family: str, output: np.ndarray) -> Candidate:
    """A candidate whose out-of-fold answers are `output`, scored on the usual folds."""
    fold = np.arange(len(output)) % FOLDS
    per_fold = [fold_scores(setup, setup.y[fold == n], output[fold == n]) for n in range(FOLDS)]
    cv = {m: (float(np.mean([f[m] for f in per_fold])), 0.0) for m in per_fold[0]}
    oof = OutOfFold(np.arange(len(output)), output, fold)
    return Candidate(family, {}, cv, fit_seconds=1.0, predict_ms_per_row=0.01, oof=oof)


def test_two_equally_good_models_share_the_weight_and_a_useless_one_gets_none():
    y, a, b = _world(1)
    useless = np.random.default_rng(1).normal(0, 1, ROWS)
    weights = select(np.stack([a, b, useless]), y, gain_of("regression", "rmse"), max_members=3)
    assert weights.sum() == pytest.approx(1.0) and (weights >= 0).all()
    # Each misses the other's own part, of the same size: half each is the best average.
    assert weights[0] == pytest.approx(0.5, abs=0.1) and weights[1] == pytest.approx(0.5, abs=0.1)
    assert weights[2] == 0


def test_a_member_under_a_tenth_of_the_weight_is_dropped_and_its_share_spread(monkeypatch):
    """A third model that sees a little of its own: the selection picks it once."""
    rng = np.random.default_rng(0)
    shared, first, second, third = rng.normal(0, 1, (4, ROWS))
    y = shared + first + second + 0.5 * third + rng.normal(0, 1, ROWS)
    outputs = np.stack([shared + first, shared + second, shared + third])
    gain = gain_of("regression", "rmse")
    monkeypatch.setattr(blend_module, "MIN_WEIGHT", 0.0)
    light = select(outputs, y, gain, max_members=3)
    assert 0 < light[2] < 0.1
    monkeypatch.undo()
    weights = select(outputs, y, gain, max_members=3)
    assert weights[2] == 0 and weights.sum() == pytest.approx(1.0)
    assert np.allclose(weights[:2], light[:2] / light[:2].sum())


def test_the_selection_weighs_at_most_max_members():
    rng = np.random.default_rng(2)
    shared, own = rng.normal(0, 1, ROWS), rng.normal(0, 1, (4, ROWS))
    y = shared + own.sum(axis=0)
    outputs = shared + own  # four models, each seeing its own part: all four would help
    weights = select(outputs, y, gain_of("regression", "rmse"), max_members=2)
    assert np.count_nonzero(weights) == 2


def test_a_blend_that_beats_the_best_single_model_beyond_noise_is_kept():
    y, a, b = _world(4)
    setup = _setup(y)
    candidates = [_candidate(setup, "a", a), _candidate(setup, "b", b)]
    best = min(candidates, key=lambda c: c.cv["rmse"][0])
    blend, kept = blended(setup, candidates, best, BlendParams())
    assert kept and blend.blend.kept and blend.blend.wins >= 0.95
    assert set(blend.blend.weights) == {"a", "b"}
    assert blend.cv["rmse"][0] < best.cv["rmse"][0]  # nested, and still better
    # The blend's out-of-fold answers are its members' answers averaged with its weights.
    expected = blend.blend.weights["a"] * a + blend.blend.weights["b"] * b
    assert np.allclose(blend.oof.output, expected)
    board = leaderboard([*candidates, blend], "rmse")
    assert board.loc[0, "model"] == "blend" and board.loc[0, "note"].startswith("kept")


def test_a_familys_runner_up_is_blended_under_its_own_name():
    """The family's second-best trial sees what its best misses: the blend weighs both."""
    y, a, b = _world(8)
    setup = _setup(y)
    best = _candidate(setup, "a", a)
    runner = replace(_candidate(setup, "a", b + 0.3), rank=2)  # worse alone, by its bias
    assert runner.cv["rmse"][0] > best.cv["rmse"][0]
    best.runners_up = [runner]
    blend, kept = blended(setup, [best], best, BlendParams())
    assert kept and set(blend.blend.weights) == {"a", "a_2"}
    assert "a_2_weight" in blend.config and "a_2 0." in blend.blend.members()


def test_a_blend_within_noise_or_of_one_member_is_not_kept_and_says_why():
    y, a, b = _world(5, own=0.05)  # the models differ little: averaging gains little
    setup = _setup(y)
    twins = [_candidate(setup, "a", a), _candidate(setup, "b", b)]
    best = min(twins, key=lambda c: c.cv["rmse"][0])
    blend, kept = blended(setup, twins, best, BlendParams())
    assert not kept and blend.blend.wins < 0.95
    assert blend.blend.verdict("rmse").startswith("not kept: CV rmse")
    noise = np.random.default_rng(5).normal(0, 1, ROWS)
    useless = [_candidate(setup, "a", a), _candidate(setup, "noise", noise)]
    blend, kept = blended(setup, useless, useless[0], BlendParams())
    assert not kept and blend.blend.verdict("rmse") == "not kept: the selection weighs a alone"
    assert blended(setup, useless, useless[0], BlendParams(enabled=False)) == (None, False)


def test_the_single_model_to_beat_is_picked_on_the_other_folds():
    """Ten trials as good as each other, each with its own errors: the one with the best CV
    owes part of it to luck on those very folds. Picked for each fold on the other folds, the
    best single model's CV is as honest as the nested blend's, and the blend is judged
    against that."""
    rng = np.random.default_rng(10)
    y = rng.normal(0, 1, ROWS)
    outputs = y + rng.normal(0, 1, (10, ROWS))
    setup = _setup(y)
    trials = [_candidate(setup, f"t{i}", output) for i, output in enumerate(outputs)]
    best = min(trials, key=lambda c: c.cv["rmse"][0])
    gain, fold = gain_of("regression", "rmse"), best.oof.fold
    honest = -fold_mean(gain, y, picked(outputs, y, fold, gain), fold)
    assert honest > best.cv["rmse"][0]  # worse than the luckiest trial's own CV
    blend, kept = blended(setup, trials, best, BlendParams())
    assert blend.blend.scores[1] == pytest.approx(honest)
    assert kept and "single model picked fold by fold (t" in blend.blend.verdict("rmse")


def test_the_keep_rule_resamples_whole_groups():
    """Rows of one group move together: a gain made in one group of five is noise, though
    it would look certain if the rows were resampled one by one."""
    y, single, _ = _world(6)
    groups = np.arange(ROWS) // 400
    blend = single.copy()
    blend[groups == 0] = y[groups == 0]  # better in one group only
    blend[groups == 1] += 0.5  # and worse in another
    gain, fold = gain_of("regression", "rmse"), np.arange(ROWS) % FOLDS
    assert wins(y, blend, single, np.arange(ROWS), fold, gain, seed=0) >= 0.95
    assert wins(y, blend, single, groups, fold, gain, seed=0) < 0.95


def _probabilities(score: np.ndarray) -> np.ndarray:
    positive = 1 / (1 + np.exp(-score))
    return np.column_stack([1 - positive, positive])


def test_the_keep_rule_scores_each_resample_fold_by_fold_as_the_cv_does():
    """Each fold's model answers on its own scale. One that ranks well within every fold
    but is shifted from fold to fold has the better CV (a mean over folds), though over the
    folds' rows pooled, a weaker model without the shifts ranks better."""
    rng = np.random.default_rng(9)
    fold = np.arange(ROWS) % FOLDS
    latent = rng.normal(0, 1, ROWS)
    y = (latent + rng.normal(0, 0.5, ROWS) > 0).astype(int)
    shifted = _probabilities(latent + rng.normal(0, 0.3, ROWS) + 3.0 * fold)
    steady = _probabilities(latent + rng.normal(0, 1.0, ROWS))
    gain = gain_of("binary", "roc_auc")
    assert gain(y, steady) > gain(y, shifted)  # pooled, the steady one looks better
    assert fold_mean(gain, y, shifted, fold) > fold_mean(gain, y, steady, fold)
    rows = np.arange(ROWS)
    assert wins(y, shifted, steady, rows, fold, gain, seed=0) >= 0.95
    assert wins(y, steady, shifted, rows, fold, gain, seed=0) < 0.05


@pytest.mark.parametrize(("problem", "metric"), sorted(WEIGHTED))
def test_the_fast_metrics_agree_with_scikit_learn(problem, metric):
    rng = np.random.default_rng(6)
    if problem == "regression":
        y, output = rng.normal(0, 1, 500), rng.normal(0, 1, 500)
    else:
        classes = 2 if problem == "binary" else 3
        y = rng.integers(0, classes, 500)
        output = rng.dirichlet(np.ones(classes), 500).round(2)  # ties, as trees answer
        output[:, -1] = 1 - output[:, :-1].sum(axis=1)
    sign = -1 if metric in {"rmse", "mae", "log_loss"} else 1
    predicted = output.argmax(axis=1) if output.ndim == 2 else None
    expected = score(problem, metric, y, output, predicted)
    assert sign * gain_of(problem, metric)(y, output) == pytest.approx(expected, rel=1e-9)


def test_the_fitted_blend_averages_its_members_probabilities_with_its_weights():
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(7)
    x = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = (x["a"] + rng.normal(0, 0.5, 300) > 0).astype(int).to_numpy()
    members = [
        ("linear", LogisticRegression().fit(x, y)),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y)),
    ]
    model = voting(members, [0.75, 0.25], classes=2)
    expected = 0.75 * members[0][1].predict_proba(x) + 0.25 * members[1][1].predict_proba(x)
    assert np.allclose(model.predict_proba(x), expected)
    assert list(model.feature_names_in_) == ["a", "b"]
    # Cloned and fitted, it refits every member and weighs them alike.
    assert np.allclose(clone(model).fit(x, y).predict_proba(x), expected)
    # The learning curve refits the heaviest member alone.
    member, name = curve_model(model)
    assert name == "linear" and isinstance(member, LogisticRegression)
    assert curve_model(members[1][1]) == (members[1][1], None)
