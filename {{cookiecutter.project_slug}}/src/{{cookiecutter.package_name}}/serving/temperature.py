"""Tempered class probabilities: the champion's answers divided, as log-probabilities, by one
temperature before they are normalised again (softmax(log p / T)).

Averaged and bagged models answer too cautiously (a blend of forests rarely says 0.95 even
where it is right 95 times in 100), and class weights shift their answers; a temperature
below 1 sharpens them, above 1 softens them. It never changes which class is the most
probable, so accuracy and ROC AUC stay as they were; log loss and the Brier score, which
read the probabilities themselves, improve. `train` fits it on the champion's out-of-fold
answers (`training.calibration`) and records it in model.json; every answer the service,
the batch command, Spark and MLflow give goes through `tempered` (`Predictor.score`), on top
of the model file or the ONNX graph, which keep the model's own probabilities.
"""

from __future__ import annotations

import numpy as np

SMALLEST = 1e-15  # a probability of 0 is read as this: its logarithm stays finite


def tempered(proba: np.ndarray, temperature: float | None) -> np.ndarray:
    """Class probabilities (one row per record) at this temperature (None: as they are)."""
    if temperature is None:
        return proba
    logits = np.log(np.clip(np.asarray(proba, dtype=float), SMALLEST, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(proba.dtype, copy=False)
