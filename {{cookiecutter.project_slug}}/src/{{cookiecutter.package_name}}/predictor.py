"""The trained model as one object: raw records in, labels and probabilities out.

Training writes it, and evaluation, batch scoring and the API load it, so all of them go
through the same feature path: schema coercion, then `features.add_features`, then the
fitted pipeline. It imports neither MLflow nor the training stack.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from .cli import StageError
from .features import add_features
from .schema import Schema, coerce_features
from .tables import atomic_write, write_json

MODEL_FILE = "model.joblib"
META_FILE = "model.json"


class ModelLoadError(StageError):
    """The model folder is missing, incomplete or does not match its recorded checksum."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Predictor:
    pipeline: Any
    meta: dict[str, Any]

    @property
    def schema(self) -> Schema:
        return Schema.model_validate(self.meta["schema"])

    @property
    def classes(self) -> list[Any] | None:
        return self.meta.get("classes")

    def save(self, folder: Path) -> None:
        """Write the pipeline, then its description with the pipeline file's SHA-256."""
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / MODEL_FILE, lambda tmp: joblib.dump(self.pipeline, tmp))
        self.meta["sha256"] = sha256(folder / MODEL_FILE)
        write_json(self.meta, folder / META_FILE)

    @classmethod
    def load(cls, folder: Path | str) -> Predictor:
        """Load a trained model; refuse one whose file does not match the recorded SHA-256."""
        folder = Path(folder)
        meta_path, model_path = folder / META_FILE, folder / MODEL_FILE
        if not meta_path.is_file() or not model_path.is_file():
            raise ModelLoadError(f"{folder}: no trained model (run `dvc repro` first)")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        actual = sha256(model_path)
        if actual != meta.get("sha256"):
            raise ModelLoadError(
                f"{model_path}: SHA-256 {actual[:12]}... does not match {META_FILE}; "
                "the file was changed after training"
            )
        return cls(pipeline=joblib.load(model_path), meta=meta)

    def features(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Raw columns (original names) to the frame the fitted pipeline expects."""
        return add_features(coerce_features(raw, self.schema))

    def predict_frame(self, raw: pd.DataFrame) -> tuple[list[Any], np.ndarray | None]:
        """Predicted labels (or values) and, for classification, class probabilities."""
        features = self.features(raw)
        if self.classes is None:
            return self.pipeline.predict(features).astype(float).tolist(), None
        proba = self.pipeline.predict_proba(features)
        return [self.classes[i] for i in self.decide(proba)], proba

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Class indices: the stored threshold for binary problems, the argmax otherwise."""
        if proba.shape[1] == 2:
            return (proba[:, 1] >= self.meta.get("threshold", 0.5)).astype(int)
        return proba.argmax(axis=1)

    def predict_records(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One answer per record: {"prediction": ..., "probabilities": {label: p}}."""
        raw = pd.DataFrame.from_records(records, columns=self.schema.features)
        labels, proba = self.predict_frame(raw)
        if proba is None:
            return [{"prediction": value} for value in labels]
        names = [str(label) for label in self.classes]
        return [
            {"prediction": label, "probabilities": dict(zip(names, row.tolist(), strict=True))}
            for label, row in zip(labels, proba, strict=True)
        ]
