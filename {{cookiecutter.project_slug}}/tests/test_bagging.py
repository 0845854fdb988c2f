"""A linear classifier answers with the mean of its fold fits: which candidates do, what the
mean is made of, how a blend holds one, and that the served graph answers as it does."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.config import LinearParams, TrainParams
from {{ cookiecutter.package_name }}.onnx.bundle import export
from {{ cookiecutter.package_name }}.serving.artifacts import MANIFEST_FILE, SERVING_DIR
from {{ cookiecutter.package_name }}.serving.predictor import Predictor
from {{ cookiecutter.package_name }}.training.bagging import averaged_fits, averages_folds
from {{ cookiecutter.package_name }}.training.task import Setup
from {{ cookiecutter.package_name }}.training.trainer import train
from {{ cookiecutter.package_name }}.training.voting import folds_of, voting

ROWS = 300


def _setup(problem: str = "binary", strategy: str = "random") -> Setup:
    """A small table: two numbers (one with gaps), one category; a noisy binary target."""
    rng = np.random.default_rng(0)
    amount = rng.normal(0, 1, ROWS)
    plan = rng.choice(["basic", "plus", "premium"], ROWS)
    y = (amount + (plan == "plus") + rng.normal(0, 1, ROWS) > 0.5).astype(int)
    features = pd.DataFrame(
        {"amount": amount, "visits": rng.poisson(3, ROWS).astype(float), "plan": plan}
    )
    features.loc[::11, "visits"] = np.nan
    cfg = TrainParams()
    return Setup(features, y, problem, ["amount", "visits"], ["plan"], "roc_auc", cfg, strategy, 0)


def test_only_linear_classifiers_tuned_on_every_row_of_unordered_folds_average():
    setup = _setup()
    assert averages_folds("linear", setup, sampled=False)
    assert not averages_folds("linear", setup, sampled=True)
    assert not averages_folds("lightgbm", setup, sampled=False)
    regression = replace(setup, problem="regression", metric="rmse")
    assert not averages_folds("linear", regression, sampled=False)
    assert not averages_folds("linear", _setup(strategy="time"), sampled=False)


def test_the_fold_mean_is_each_folds_own_fit_averaged():
    """Each member is the pipeline fitted on its fold's training rows, exactly; the mean's
    probabilities are the members' average, and differ from a single refit's."""
    setup = _setup()
    cfg = LinearParams(C=1.0, n_bins=4)
    averaged = averaged_fits(setup, "linear", cfg)
    folds = setup.folds()
    assert folds_of(averaged) == len(folds) == setup.cfg.cv_folds
    for (train_rows, _), member in zip(folds, averaged.estimators_, strict=True):
        part = setup.subset(train_rows)
        own = part.pipeline("linear", cfg).fit(part.features, part.y)
        assert np.allclose(member[-1].coef_, own[-1].coef_)
    members = np.mean([m.predict_proba(setup.features) for m in averaged.estimators_], axis=0)
    assert np.allclose(averaged.predict_proba(setup.features), members)
    single = setup.pipeline("linear", cfg).fit(setup.features, setup.y)
    assert not np.allclose(single.predict_proba(setup.features), members)


def test_a_fold_lacking_a_class_falls_back_to_one_refit():
    setup = _setup()
    y = setup.y.copy()
    y[np.flatnonzero(y == 1)[1:]] = 0  # one positive row: four folds learn without it
    assert averaged_fits(replace(setup, y=y), "linear", LinearParams()) is None


def test_a_blend_holding_a_fold_mean_averages_its_fits_at_one_level():
    """The blend spreads the fold mean into its fits, each with its share of the weight: one
    level of members, as the ONNX export reads them, answering as the nested average."""
    setup = _setup()
    averaged = averaged_fits(setup, "linear", LinearParams())
    other = setup.pipeline("linear", LinearParams(C=0.01, n_bins=0))
    other.fit(setup.features, setup.y)
    blend = voting([("linear", averaged), ("linear_2", other)], [0.6, 0.4], classes=2)
    names = [name for name, _ in blend.estimators]
    assert names == [f"linear_fold{i}" for i in range(1, 6)] + ["linear_2"]
    assert np.allclose(blend.weights, [0.12] * 5 + [0.4])
    expected = 0.6 * averaged.predict_proba(setup.features)
    expected += 0.4 * other.predict_proba(setup.features)
    assert np.allclose(blend.predict_proba(setup.features), expected)


def test_a_trained_linear_champion_says_so_and_its_graph_answers_as_it_does(
    splits, schema, params, tmp_path
):
    """The train stage with the linear family alone: a classifier's champion is its fold
    mean (model.json names it), exported as one ONNX graph within the parity bar whose fits
    share one text lookup, taken out of the graph as a single fit's is."""
    models = params.train.models
    off = {n: c.model_copy(update={"enabled": False}) for n, c in models if n != "linear"}
    cfg = params.train.model_copy(update={"models": models.model_copy(update=off)})
    predictor, _ = train(
        splits[0], schema, cfg, params.data, params.split, params.seed, params.project
    )
    classification = predictor.classes is not None
    expected = {"linear": cfg.cv_folds} if classification else {}
    assert predictor.meta.fold_means == expected
    assert folds_of(predictor.pipeline) == (cfg.cv_folds if classification else 1)
    predictor.save(tmp_path)
    report = export(tmp_path, splits[1], tmp_path / SERVING_DIR)
    assert report["runtime"] == "onnx"
    manifest = json.loads((tmp_path / SERVING_DIR / MANIFEST_FILE).read_text())
    assert (manifest["text_codes"] is not None) == bool(predictor.meta.features.categorical)
    served = Predictor.load(tmp_path, runtime="onnx")
    labels, proba = served.predict_frame(splits[1])
    expected_labels, expected_proba = predictor.predict_frame(splits[1])
    if classification:
        assert np.abs(proba - expected_proba).max() < 1e-4
    else:
        assert np.allclose(labels, expected_labels, rtol=1e-4)
