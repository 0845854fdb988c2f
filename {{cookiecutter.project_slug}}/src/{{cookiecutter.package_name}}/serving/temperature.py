"""Tempered class probabilities: the champion's answers as log-probabilities, divided by one
temperature and moved by a shift per class, then normalised again
(softmax(log p / T + shift)).

Averaged and bagged models answer too cautiously (a blend of forests rarely says 0.95 even
where it is right 95 times in 100): a temperature below 1 sharpens them, above 1 softens
them, and never changes which class is the most probable. Class weights (`train.class_weight`)
train the models as if the classes were equally common, so their answers overstate the rare
class many times over; the shift brings each class back to its real share. For a binary
problem it keeps the order of the rows (ROC AUC stays as it was), and the cut-off is chosen on
the shifted answers. Log loss and the Brier score, which read the probabilities themselves,
improve. `train` fits both on the champion's out-of-fold answers (`training.calibration`) and
records them in model.json; every answer the service, the batch command, Spark and MLflow give
goes through `tempered` (`Predictor.score`), on top of the model file or the ONNX graph, which
keep the model's own probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SMALLEST = 1e-15  # a probability of 0 is read as this: its logarithm stays finite


def tempered(
    proba: np.ndarray, temperature: float | None, shift: Sequence[float] | None = None
) -> np.ndarray:
    """Class probabilities (one row per record) at this temperature (None: 1), each class's
    log-probability then moved by its shift (None: none); both None: as they are."""
    if temperature is None and shift is None:
        return proba
    logits = log_probabilities(proba) / (temperature or 1.0)
    if shift is not None:
        logits += np.asarray(shift, dtype=float)
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(proba.dtype, copy=False)


def log_probabilities(proba: np.ndarray) -> np.ndarray:
    """Class probabilities as float64 logarithms, a 0 read as SMALLEST."""
    return np.log(np.clip(np.asarray(proba, dtype=float), SMALLEST, 1.0))
