"""The champion's temperature: fitted on its out-of-fold answers, kept only when it lowers
their log loss on held-out folds, and applied to every probability the predictor answers."""

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.serving.predictor import Predictor
from {{ cookiecutter.package_name }}.serving.temperature import tempered
from {{ cookiecutter.package_name }}.training.calibration import BOUNDS, calibrate, log_loss
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


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_the_predictor_answers_tempered_probabilities(predictor, splits, temperature):
    plain = Predictor(predictor.pipeline, predictor.meta.model_copy(update={"temperature": None}))
    meta = predictor.meta.model_copy(update={"temperature": temperature})
    hot = Predictor(predictor.pipeline, meta)
    columns = plain.inputs.columns(splits[1].head(50))
    if predictor.classes is None:  # a regression model's values are never tempered
        assert np.array_equal(hot.score(columns), plain.score(columns))
        return
    expected = tempered(plain.score(columns), temperature)
    assert np.allclose(hot.score(columns), expected)
    labels, proba = hot.predict_frame(splits[1].head(50))
    assert np.allclose(proba, expected)
    assert labels == [hot.classes[i] for i in hot.decide(expected)]
