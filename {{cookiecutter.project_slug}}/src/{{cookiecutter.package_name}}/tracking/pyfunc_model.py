"""The champion as an MLflow pyfunc: the served Predictor behind MLflow's interface.

MLflow logs this file as the model's code ("models from code", `tracking.champion`), so the
logged model holds no pickle: `load_context` loads the model folder logged beside it through
`Predictor.load`, which refuses any file whose SHA-256 is not the recorded one, and runs the
ONNX graph where `export` made one (the scikit-learn pipeline otherwise), exactly as the
prediction service does. `predict` takes a table in the raw column names (a missing column
is a missing value, as a missing key is in the API) and answers with the service's labels,
decided with the tuned threshold, and class probabilities:

    prediction | probability_<label> ... (classification) | prediction (regression)

Nothing in the package imports this module; MLflow runs it, with the package's `serving`
and `data` code logged beside it (`code/`). No `from __future__ import annotations`: MLflow
reads `predict`'s type hints.
"""

from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel, PythonModelContext

from {{ cookiecutter.package_name }}.serving.predictor import Predictor

MODEL_DIR = "model_dir"  # the artifact holding model.json and the served model
THREADS = "threads"  # model_config: ONNX Runtime's threads (0: every core)


def answers_frame(predictor: Predictor, raw: pd.DataFrame) -> pd.DataFrame:
    """The predictor's answers for a raw table, one row per input row."""
    frame = raw.reindex(columns=predictor.schema.features)
    labels, proba = predictor.predict_frame(frame)
    out = pd.DataFrame({"prediction": labels})
    if proba is not None:
        for i, label in enumerate(predictor.classes or []):
            out[f"probability_{label}"] = proba[:, i]
    return out


class ChampionModel(PythonModel):
    """Raw records in; labels (tuned threshold) and probabilities out, as the API answers."""

    def __init__(self) -> None:
        self.predictor: Predictor | None = None

    def load_context(self, context: PythonModelContext) -> None:
        config = context.model_config or {}
        folder = Path(context.artifacts[MODEL_DIR])
        self.predictor = Predictor.load(folder, runtime="auto", threads=int(config.get(THREADS, 1)))

    def predict(
        self,
        context: PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        if self.predictor is None:
            self.load_context(context)
        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame(model_input)
        return answers_frame(self.predictor, model_input)


mlflow.models.set_model(ChampionModel())
