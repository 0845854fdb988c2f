"""The champion's temperature and class shift: fitted on its out-of-fold answers, kept only
when they lower their log loss on held-out folds, and applied to every probability the
predictor answers."""

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.evaluation.analysis import score_pipeline
from {{ cookiecutter.package_name }}.serving.predictor import Predictor
from {{ cookiecutter.package_name }}.serving.temperature import log_probabilities, tempered
from {{ cookiecutter.package_name }}.training.calibration import (
    BOUNDS,
    calibrate,
    log_loss,
    loss_and_gradient,
)
from {{ cookiecutter.package_name }}.training.crossval import OutOfFold

ROWS, CLASSES, FOLDS = 3000, 3, 5


def _softmax(logits: np.ndarray) -> np.ndarray:
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)


def _answers(sharpness: float, seed: int = 0) -> tuple[OutOfFold, np.ndarray]:
    """Classes drawn from known probabilities, and a model that answers them with its
    log-probabilities times `sharpness` (below 1: too cautious, as blends of forests are)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, (ROWS, CLASSES))
    truth = _softmax(logits)
    y = np.array([rng.choice(CLASSES, p=p) for p in truth])
    oof = OutOfFold(np.arange(ROWS), _softmax(logits * sharpness), np.arange(ROWS) % FOLDS)
    return oof, y


def test_a_cautious_model_is_sharpened_and_its_log_loss_falls():
    oof, y = _answers(sharpness=0.7)
    found = calibrate(oof, y)
    assert found.temperature is not None and 0.55 < found.temperature < 0.85
    assert found.after < found.before - 0.01
    sharpened = tempered(oof.output, found.temperature)
    assert log_loss(y, sharpened) < found.before
    assert np.array_equal(sharpened.argmax(axis=1), oof.output.argmax(axis=1))


def test_a_calibrated_model_keeps_its_probabilities_or_nearly():
    oof, y = _answers(sharpness=1.0, seed=1)
    found = calibrate(oof, y)
    assert found.temperature is None or abs(found.temperature - 1) < 0.1
    assert found.after <= found.before


def test_a_class_weighted_model_is_shifted_back_to_the_real_shares():
    """Answers tilted as balanced class weights tilt them (a 4% class made to look as common
    as the other): the temperature alone cannot undo it, the shift does, and keeps the rows'
    order; without class weights no shift is tried."""
    rng = np.random.default_rng(3)
    score = rng.normal(0, 1, ROWS)
    y = (rng.random(ROWS) < 1 / (1 + np.exp(-(2 * score - 4)))).astype(int)
    assert 0.02 < y.mean() < 0.08
    tilted = np.log((1 - y.mean()) / y.mean())  # the weights' shift of the log-odds
    # float32, as XGBoost, LightGBM and the ONNX graph answer
    proba = _softmax(np.column_stack([np.zeros(ROWS), 2 * score - 4 + tilted])).astype(np.float32)
    oof = OutOfFold(np.arange(ROWS), proba, np.arange(ROWS) % FOLDS)
    alone, found = calibrate(oof, y), calibrate(oof, y, shift=True)
    assert alone.shift is None
    assert found.shift is not None and found.shift[0] == 0.0
    assert found.shift[1] == pytest.approx(-tilted, abs=0.5)
    assert found.after < alone.after - 0.1
    shifted = tempered(proba, found.temperature, found.shift)
    assert abs(shifted[:, 1].mean() - y.mean()) < 0.01
    assert log_loss(y, shifted) < log_loss(y, np.full_like(proba, [1 - y.mean(), y.mean()]))
    assert np.array_equal(np.argsort(shifted[:, 1]), np.argsort(proba[:, 1]))


def test_the_shift_is_fitted_on_the_exact_gradient_of_its_log_loss():
    """Ten classes: the gradient the optimiser is given matches finite differences, and the
    loss it minimises is the one the keep rule reads."""
    from scipy.optimize import check_grad

    rng = np.random.default_rng(4)
    proba = _softmax(rng.normal(0, 2, (500, 10))).astype(np.float32)
    y = rng.integers(0, 10, 500)
    logs, x = log_probabilities(proba), np.r_[0.3, rng.normal(0, 0.5, 9)]
    value, _ = loss_and_gradient(x, logs, y)
    assert value == pytest.approx(log_loss(y, tempered(proba, np.exp(x[0]), (0.0, *x[1:]))))
    error = check_grad(lambda v: loss_and_gradient(v, logs, y)[0],
                       lambda v: loss_and_gradient(v, logs, y)[1], x)  # fmt: skip
    assert error < 1e-5


def test_a_shift_that_does_not_help_on_held_out_folds_is_not_kept():
    oof, y = _answers(sharpness=0.7)
    found = calibrate(oof, y, shift=True)
    assert found.shift is None or max(abs(v) for v in found.shift) < 0.1
    assert found.temperature is not None and found.after < found.before


def test_a_model_right_on_every_row_is_sharpened_at_most_twice():
    oof, y = _answers(sharpness=1.0, seed=2)
    sure = OutOfFold(oof.rows, np.eye(CLASSES)[y] * 0.6 + 0.4 / CLASSES, oof.fold)
    assert calibrate(sure, y).temperature == pytest.approx(BOUNDS[0], abs=1e-3)


def test_tempering_keeps_rows_summing_to_one_and_none_leaves_them_alone():
    oof, _ = _answers(sharpness=0.5)
    proba = oof.output.astype(np.float32)
    assert tempered(proba, None) is proba
    hot = tempered(proba, 0.25)
    assert hot.dtype == np.float32
    assert np.allclose(hot.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(hot.argmax(axis=1), proba.argmax(axis=1))
    assert (hot.max(axis=1) >= proba.max(axis=1) - 1e-6).all()  # sharper, never softer
    assert np.isfinite(tempered(np.array([[0.0, 1.0]]), 0.5)).all()  # a zero stays finite


@pytest.mark.parametrize(("temperature", "shift"), [(0.5, None), (2.0, None), (0.8, "-1")])
def test_the_predictor_answers_tempered_probabilities(predictor, splits, temperature, shift):
    plain = Predictor(predictor.pipeline, predictor.meta.model_copy(update={"temperature": None}))
    classes = len(predictor.classes or [])
    moves = [0.0] + [float(shift)] * (classes - 1) if shift and classes else None
    meta = predictor.meta.model_copy(update={"temperature": temperature, "class_shift": moves})
    hot = Predictor(predictor.pipeline, meta)
    columns = plain.inputs.columns(splits[1].head(50))
    if predictor.classes is None:  # a regression model's values are never tempered
        assert np.array_equal(hot.score(columns), plain.score(columns))
        return
    expected = tempered(plain.score(columns), temperature, moves)
    assert np.allclose(hot.score(columns), expected)
    labels, proba = hot.predict_frame(splits[1].head(50))
    assert np.allclose(proba, expected)
    assert labels == [hot.classes[i] for i in hot.decide(expected)]


def test_the_report_scores_other_candidates_calibrated_and_cut_as_the_champion(predictor, splits):
    """Trained with the same class weights, the other candidates lean as the champion does:
    the report reads their answers through its temperature, shift and cut-off."""
    if predictor.classes is None:
        return
    shift = [0.0] * (len(predictor.classes) - 1) + [-1.5]
    meta = predictor.meta.model_copy(update={"temperature": 0.8, "class_shift": shift})
    champion, test = Predictor(predictor.pipeline, meta), splits[1].head(80)
    scored = score_pipeline(predictor.pipeline, champion, test)
    own = predictor.pipeline.predict_proba(champion.features(test))
    expected = tempered(own, 0.8, shift)
    assert np.allclose(scored.output, expected)
    assert np.array_equal(scored.y_pred, champion.decide(expected))
