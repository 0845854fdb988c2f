"""The trained model as one object: raw records in, labels and probabilities out.

Training writes it; evaluation, the `export` check, batch scoring and the API load it. All of
them go through the same feature path, `inputs.ModelInput` (the schema's cleaning, then
`features.add_features`), then the fitted pipeline, run either by ONNX Runtime
(models/serving/model.onnx, written and parity-checked by `export`; what the service runs) or
by scikit-learn (models/model.joblib: training, evaluation, and the fallback for a model that
could not be converted).

Serving imports neither MLflow nor the training stack: joblib and scikit-learn are imported
only when the scikit-learn runtime is asked for, and onnxruntime only for the ONNX one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..data.schema import Schema
from ..files import atomic_write
from .artifacts import (
    MANIFEST_FILE,
    META_FILE,
    MODEL_FILE,
    ONNX_FILE,
    SERVING_DIR,
    ModelLoadError,
    sha256,
    verify,
)
from .inputs import ModelInput
from .metadata import ModelMeta, ServingManifest, read_manifest
from .runtimes import Scorer, onnx_scorer, sklearn_scorer
from .temperature import tempered

log = logging.getLogger(__name__)

Runtime = Literal["auto", "onnx", "sklearn"]


def _unpickled(path: Path) -> Any:
    """The fitted pipeline in `path`; ModelLoadError when it cannot be loaded here."""
    try:
        import joblib

        return joblib.load(path)
    except ImportError as exc:
        raise ModelLoadError(f"{path}: needs {exc.name or exc} (install `.[sklearn]`)") from None
    except Exception as exc:  # a pickle from other library versions, or no pickle at all
        raise ModelLoadError(f"{path}: not a loadable pipeline: {exc!r}"[:500]) from None


@dataclass
class Predictor:
    pipeline: Any  # the fitted scikit-learn Pipeline; None when only the ONNX graph is loaded
    meta: ModelMeta
    manifest: ServingManifest | None = None
    scorer: Scorer | None = field(default=None, repr=False)

    @property
    def schema(self) -> Schema:
        return self.meta.table_schema

    @property
    def classes(self) -> list[Any] | None:
        return self.meta.classes

    @property
    def runtime(self) -> str:
        return "onnx" if self.pipeline is None else "sklearn"

    @property
    def version(self) -> str:
        """The served artifact's SHA-256, shortened: it changes exactly when the model does."""
        if self.runtime == "onnx" and self.manifest:
            return self.manifest.sha256[:12]
        return (self.meta.sha256 or "")[:12]

    def save(self, folder: Path) -> None:
        """Write the pipeline, then its description with the pipeline file's SHA-256."""
        import joblib

        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / MODEL_FILE, lambda tmp: joblib.dump(self.pipeline, tmp))
        self.meta.sha256 = sha256(folder / MODEL_FILE)
        self.meta.write(folder / META_FILE)

    @classmethod
    def load(cls, folder: Path | str, runtime: Runtime = "sklearn", threads: int = 1) -> Predictor:
        """Load a trained model, refusing any file that does not match its recorded SHA-256.

        runtime: "sklearn" the pipeline; "onnx" the exported graph (an error if there is
        none); "auto" the graph when `export` converted the model, else the pipeline.
        threads: ONNX Runtime's threads (see `onnx_scorer`).
        """
        folder = Path(folder)
        meta_path = folder / META_FILE
        if not meta_path.is_file():
            raise ModelLoadError(f"{folder}: no trained model (run `dvc repro` first)")
        meta = ModelMeta.read(meta_path)
        manifest = read_manifest(folder) if runtime != "sklearn" else None
        if manifest is not None and manifest.source_sha256 != meta.sha256:
            raise ModelLoadError(
                f"{folder / SERVING_DIR}: exported from another training run than {meta_path}; "
                "run `dvc repro export`"
            )
        if runtime != "sklearn":
            if manifest is not None and manifest.format == "onnx":
                path = folder / SERVING_DIR / manifest.file
                verify(path, manifest.sha256, f"{SERVING_DIR}/{MANIFEST_FILE}")
                return cls(None, meta, manifest, onnx_scorer(path, manifest, threads))
            reason = manifest.reason if manifest else "the `export` stage has not run"
            if runtime == "onnx":
                raise ModelLoadError(f"{folder}: no ONNX model: {reason}")
            log.warning("serving the scikit-learn pipeline, not ONNX: %s", reason)
        verify(folder / MODEL_FILE, meta.sha256, META_FILE)
        return cls(_unpickled(folder / MODEL_FILE), meta, manifest)

    @classmethod
    def from_graph(
        cls, meta: ModelMeta, manifest: ServingManifest, graph: bytes, threads: int = 1
    ) -> Predictor:
        """The ONNX predictor of a graph in memory, which `load` read and checked elsewhere
        (Spark's driver ships it to its workers): refused unless its SHA-256 is the manifest's."""
        path = Path(SERVING_DIR, manifest.file or ONNX_FILE)
        if hashlib.sha256(graph).hexdigest() != manifest.sha256:
            raise ModelLoadError(f"{path}: the graph received does not match {MANIFEST_FILE}")
        return cls(None, meta, manifest, onnx_scorer(path, manifest, threads, graph))

    @cached_property
    def inputs(self) -> ModelInput:
        """Raw tables and records to model input, from the model's schema."""
        return ModelInput(self.schema)

    def features(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Raw columns (original names) to the frame the fitted pipeline is trained on."""
        return self.inputs.frame(raw)

    def score(self, columns: Mapping[str, Any]) -> np.ndarray:
        """Model output for feature columns: class probabilities (tempered: `temperature`,
        `class_shift`), or predicted values."""
        if self.scorer is None:
            self.scorer = sklearn_scorer(self.pipeline, self.classes is not None)
        output = self.scorer(columns)
        if self.classes is None:
            return output
        return tempered(output, self.meta.temperature, self.meta.class_shift)

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Class indices: the stored threshold for binary problems, the argmax otherwise."""
        if proba.shape[1] == 2:
            threshold = self.meta.threshold
            return (proba[:, 1] >= (0.5 if threshold is None else threshold)).astype(int)
        return proba.argmax(axis=1)

    def decode(self, output: np.ndarray) -> tuple[list[Any], np.ndarray | None]:
        """Model output to (labels or values, class probabilities or None)."""
        if self.classes is None:
            return output.reshape(-1).astype(float).tolist(), None
        classes = self.classes
        return [classes[i] for i in self.decide(output).tolist()], output

    def predict_frame(self, raw: pd.DataFrame) -> tuple[list[Any], np.ndarray | None]:
        """Predicted labels (or values) and, for classification, class probabilities."""
        return self.decode(self.score(self.inputs.columns(raw)))

    @cached_property
    def class_names(self) -> list[str]:
        """The classes as the answers' probability keys."""
        return [str(label) for label in self.classes or []]

    def answers(self, labels: list[Any], proba: np.ndarray | None) -> list[dict[str, Any]]:
        """One {"prediction": ..., "probabilities": {label: p}} per row."""
        if proba is None:
            return [{"prediction": value} for value in labels]
        names = self.class_names
        return [
            {"prediction": label, "probabilities": dict(zip(names, row, strict=True))}
            for label, row in zip(labels, proba.tolist(), strict=True)
        ]

    def predict_records(self, records: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One answer per record (a mapping keyed by raw column names; None means missing),
        with its warnings: `predict_rows` on the records' values."""
        names = self.schema.features
        return self.predict_rows([[record.get(name) for name in names] for record in records])

    def predict_rows(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        """The API's path: records as value sequences in schema column order, as a client
        sends them (validated by the API's request model), answered with their warnings."""
        inputs = self.inputs
        typed, warnings = inputs.typed_rows(rows)
        answers = self.answers(*self.decode(self.score(inputs.features(typed))))
        for answer, found in zip(answers, warnings, strict=True):
            answer["warnings"] = found
        return answers
