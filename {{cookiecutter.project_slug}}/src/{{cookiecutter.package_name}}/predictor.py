"""The trained model as one object: raw records in, labels and probabilities out.

Training writes it; evaluation, the `export` check, batch scoring and the API load it. All of
them go through the same feature path: schema coercion, then `features.add_features`, then the
fitted pipeline, run either by ONNX Runtime (models/serving/model.onnx, written and
parity-checked by `export`; what the service runs) or by scikit-learn (models/model.joblib:
training, evaluation, and the fallback for a model that could not be converted).

Serving imports neither MLflow nor the training stack: joblib and scikit-learn are imported
only when the scikit-learn runtime is asked for, and onnxruntime only for the ONNX one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import text_codes
from .cli import StageError
from .features import add_features
from .schema import (
    DATE_PARTS,
    MISSING_TEXT,
    ColumnSpec,
    Schema,
    coerce_features,
    date_parts,
    is_text,
    to_datetime,
)
from .tables import atomic_write, write_json
from .text_codes import DISTINCT_FROM_ROWS

log = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"
META_FILE = "model.json"
SERVING_DIR = "serving"  # written by the `export` stage
ONNX_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"
Runtime = Literal["auto", "onnx", "sklearn"]
Scorer = Callable[[Mapping[str, Any]], np.ndarray]


class ModelLoadError(StageError):
    """The model folder is missing, incomplete or does not match its recorded checksum."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, expected: str | None, recorded_in: str) -> None:
    """Refuse a file whose SHA-256 is not the one recorded when it was written."""
    if not path.is_file():
        raise ModelLoadError(f"{path}: missing (run `dvc repro`)")
    actual = sha256(path)
    if actual != expected:
        raise ModelLoadError(
            f"{path}: SHA-256 {actual[:12]}... does not match {recorded_in}; "
            "the file was changed after it was written"
        )


def model_input(raw: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Raw columns (original names) to what the fitted pipeline takes: typed, plus features.

    Numbers are rounded to float32, the precision the ONNX graph reads them in, in training
    as in serving: a tree then compares exactly the values it will be served, and a value
    next to a split point cannot take the other branch in the graph.
    """
    typed = coerce_features(raw, schema)
    frame = pd.DataFrame(add_features(typed), index=typed.index)
    numbers = frame.select_dtypes("number").columns
    with np.errstate(over="ignore"):  # beyond float32's range is +-inf in both runtimes
        frame[numbers] = frame[numbers].astype(np.float32).astype(np.float64)
    return frame


def typed_columns(raw: pd.DataFrame, schema: Schema) -> dict[str, np.ndarray]:
    """What `schema.coerce_features` makes of the table, as arrays; a text column whose values
    repeat is cleaned once per distinct value and spread back over its rows.

    Cleaning works value by value, so the columns are the same, many times faster on long
    tables (`export` compares this path with the training one on every run). The schema's own
    text cleaning also works per distinct value, but only after turning the whole column into
    Python objects, and it parses numbers and dates held as text row by row: factorising the
    column first, in its own dtype, makes the batch path about 3x faster on a million rows.
    """
    coerce_features(raw.head(0), schema)  # names the missing columns, if any
    out: dict[str, np.ndarray] = {}
    for name, spec in schema.columns.items():
        column, codes = raw[name], None
        if is_text(column) and len(column) >= DISTINCT_FROM_ROWS:
            found, distinct = pd.factorize(column, use_na_sentinel=False)
            if len(distinct) * 4 <= len(column):
                column, codes = pd.Series(np.asarray(distinct, dtype=object)), found
        one = schema.model_copy(update={"columns": {name: spec}})
        typed = coerce_features(pd.DataFrame({name: column}), one)
        for part in typed.columns:
            values = typed[part].to_numpy()
            out[part] = values if codes is None else values[codes]
    return out


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """models/serving/manifest.json, or None when `export` has not run."""
    path = folder / SERVING_DIR / MANIFEST_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def onnx_scorer(path: Path, manifest: Mapping[str, Any], threads: int = 1) -> Scorer:
    """Feature columns -> model output through ONNX Runtime.

    The graph reads a block of numbers (`numeric`) and one of text (`categorical`), or, when
    `export` took the text lookup out of it (manifest "text_codes", see `text_codes`), the
    numbers and the text's codes, often as one block.

    threads: 1 for the service (one worker process = one core; no thread hand-offs); 0 lets
    ONNX Runtime use every core, for the batch command's long tables.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    numeric, categorical = manifest["inputs"]["numeric"], manifest["inputs"]["categorical"]
    codes = manifest.get("text_codes")
    output = [manifest["output"]]

    def block(values: list[Any], dtype: Any) -> np.ndarray:
        # One (features, rows) array, transposed: np.stack costs several times more.
        return np.ascontiguousarray(np.array(values, dtype=dtype).T)

    def score(columns: Mapping[str, Any]) -> np.ndarray:
        feeds = {}
        numbers = [columns[name] for name in numeric]
        if codes is not None and codes["joined"]:
            coded = text_codes.encode(columns, categorical, codes)
            feeds[codes["joined"]] = block(numbers + coded, np.float32)
        else:
            if numeric:
                feeds["numeric"] = block(numbers, np.float32)
            if codes is not None:
                coded = text_codes.encode(columns, categorical, codes)
                feeds[codes["input"]] = block(coded, codes["dtype"])
            elif categorical:
                feeds["categorical"] = block([columns[name] for name in categorical], object)
        return session.run(output, feeds)[0].astype(np.float64)

    return score


def sklearn_scorer(pipeline: Any, classification: bool) -> Scorer:
    """Feature columns -> model output through the fitted scikit-learn pipeline."""
    order = list(getattr(pipeline, "feature_names_in_", []))

    def score(columns: Mapping[str, Any]) -> np.ndarray:
        frame = pd.DataFrame({name: columns[name] for name in order or columns})
        return pipeline.predict_proba(frame) if classification else pipeline.predict(frame)

    return score


@dataclass
class Predictor:
    pipeline: Any  # the fitted scikit-learn Pipeline; None when only the ONNX graph is loaded
    meta: dict[str, Any]
    manifest: dict[str, Any] | None = None
    scorer: Scorer | None = field(default=None, repr=False)

    @cached_property
    def schema(self) -> Schema:
        return Schema.model_validate(self.meta["schema"])

    @property
    def classes(self) -> list[Any] | None:
        return self.meta.get("classes")

    @property
    def runtime(self) -> str:
        return "onnx" if self.pipeline is None else "sklearn"

    @property
    def version(self) -> str:
        """The served artifact's SHA-256, shortened: it changes exactly when the model does."""
        if self.runtime == "onnx" and self.manifest:
            return self.manifest["sha256"][:12]
        return str(self.meta.get("sha256", ""))[:12]

    def save(self, folder: Path) -> None:
        """Write the pipeline, then its description with the pipeline file's SHA-256."""
        import joblib

        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / MODEL_FILE, lambda tmp: joblib.dump(self.pipeline, tmp))
        self.meta["sha256"] = sha256(folder / MODEL_FILE)
        write_json(self.meta, folder / META_FILE)

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
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        manifest = read_manifest(folder) if runtime != "sklearn" else None
        if manifest is not None and manifest.get("source_sha256") != meta.get("sha256"):
            raise ModelLoadError(
                f"{folder / SERVING_DIR}: exported from another training run than {meta_path}; "
                "run `dvc repro export`"
            )
        if runtime != "sklearn":
            if manifest is not None and manifest["format"] == "onnx":
                path = folder / SERVING_DIR / manifest["file"]
                verify(path, manifest["sha256"], f"{SERVING_DIR}/{MANIFEST_FILE}")
                return cls(None, meta, manifest, onnx_scorer(path, manifest, threads))
            reason = manifest["reason"] if manifest else "the `export` stage has not run"
            if runtime == "onnx":
                raise ModelLoadError(f"{folder}: no ONNX model: {reason}")
            log.warning("serving the scikit-learn pipeline, not ONNX: %s", reason)
        import joblib

        verify(folder / MODEL_FILE, meta.get("sha256"), META_FILE)
        pipeline = joblib.load(folder / MODEL_FILE)
        return cls(pipeline, meta, manifest)

    def features(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Raw columns (original names) to the frame the fitted pipeline expects."""
        return model_input(raw, self.schema)

    def score(self, columns: Mapping[str, Any]) -> np.ndarray:
        """Model output for feature columns: class probabilities, or predicted values."""
        if self.scorer is None:
            self.scorer = sklearn_scorer(self.pipeline, self.classes is not None)
        return self.scorer(columns)

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Class indices: the stored threshold for binary problems, the argmax otherwise."""
        if proba.shape[1] == 2:
            threshold = self.meta.get("threshold")
            return (proba[:, 1] >= (0.5 if threshold is None else threshold)).astype(int)
        return proba.argmax(axis=1)

    def decode(self, output: np.ndarray) -> tuple[list[Any], np.ndarray | None]:
        """Model output to (labels or values, class probabilities or None)."""
        if self.classes is None:
            return output.reshape(-1).astype(float).tolist(), None
        return [self.classes[i] for i in self.decide(output).tolist()], output

    def predict_frame(self, raw: pd.DataFrame) -> tuple[list[Any], np.ndarray | None]:
        """Predicted labels (or values) and, for classification, class probabilities."""
        return self.decode(self.score(add_features(typed_columns(raw, self.schema))))

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

    def with_predictions(self, raw: pd.DataFrame) -> pd.DataFrame:
        """The table with a `prediction` column and, for classes, `probability_<label>` ones
        (names that clash with the table's own get a leading underscore)."""
        labels, proba = self.predict_frame(raw)
        out = raw.copy()
        taken = {str(column) for column in out.columns}

        def free(name: str) -> str:
            while name in taken:
                name = f"_{name}"
            taken.add(name)
            return name

        out[free("prediction")] = labels
        if proba is not None:
            for i, label in enumerate(self.classes):
                out[free(f"probability_{label}")] = proba[:, i]
        return out

    def predict_records(self, records: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One answer per record (a mapping keyed by raw column names; None means missing)."""
        raw = pd.DataFrame.from_records(
            [{name: record.get(name) for name in self.schema.features} for record in records],
            columns=self.schema.features,
        )
        return self.answers(*self.predict_frame(raw))

    @cached_property
    def encoder(self) -> RowEncoder:
        return RowEncoder(self.schema)

    def predict_rows(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        """The API's fast path: rows of validated values in schema column order (numbers as
        float or None, text and dates as str or None), answered with their input warnings.

        It cleans values exactly as `schema.coerce_features` does, without building a
        DataFrame; `export` checks that both paths give the same answers.
        """
        columns, warnings = self.encoder.encode(rows)
        answers = self.answers(*self.decode(self.score(add_features(columns))))
        for answer, found in zip(answers, warnings, strict=True):
            answer["warnings"] = found
        return answers


class RowEncoder:
    """Validated API rows -> typed feature columns, and warnings for values unlike training.

    Plain Python per value and one array per kind of column: a single request then costs a
    handful of numpy calls instead of a few per column.
    """

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        specs = list(schema.columns.items())
        numeric = [i for i, (_, spec) in enumerate(specs) if spec.kind == "numeric"]
        self.numeric = [specs[i][0] for i in numeric]
        self.pick_numbers = _picker(numeric)
        self.ranges = [
            (i, name, spec.min, spec.max)
            for i, (name, spec) in enumerate(specs)
            if spec.kind == "numeric" and spec.min is not None and spec.max is not None
        ]
        self.text = [
            (i, name, *_text_cleaner(spec))
            for i, (name, spec) in enumerate(specs)
            if spec.kind == "categorical"
        ]
        self.text_names = [name for _, name, *_ in self.text]
        self.dates = [
            (i, name, spec) for i, (name, spec) in enumerate(specs) if spec.kind == "datetime"
        ]

    def encode(self, rows: Sequence[Sequence[Any]]) -> tuple[dict[str, Any], list[list[str]]]:
        """The typed columns `features.add_features` takes, and each row's warnings."""
        found: list[list[str]] = []
        texts = []
        for row in rows:
            flagged = []
            for i, name, low, high in self.ranges:
                value = row[i]
                if value is not None and not low <= value <= high:
                    flagged.append(
                        f"{name}: {value:g} is outside the training range {low:g} to {high:g}"
                    )
            cleaned = []
            for i, name, known, clean, levels in self.text:
                value = known.get(row[i])
                if value is None:  # neither missing nor a level as spelt in training
                    value = clean(row[i])
                    if levels is not None and value and value not in levels:
                        flagged.append(f"{name}: {value!r} was not seen in training")
                cleaned.append(value)
            texts.append(cleaned)
            found.append(flagged)
        # One array per kind (None becomes NaN), then a column view per feature.
        numbers = np.array([self.pick_numbers(row) for row in rows], dtype=np.float64)
        numbers = numbers.reshape(len(rows), len(self.numeric))
        text = np.array(texts, dtype=object).reshape(len(rows), len(self.text))
        columns: dict[str, Any] = dict(zip(self.numeric, numbers.T, strict=True))
        columns |= zip(self.text_names, text.T, strict=True)
        for i, name, spec in self.dates:
            dates = to_datetime(pd.Series([row[i] for row in rows], dtype=object))
            parts = date_parts(name, dates, spec.parts or list(DATE_PARTS))
            columns |= {part: values.to_numpy() for part, values in parts.items()}
        return columns, found


def _picker(positions: list[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """row -> the tuple of its values at `positions`."""
    if len(positions) == 1:
        only = positions[0]
        return lambda row: (row[only],)
    return itemgetter(*positions) if positions else lambda row: ()


def _text_cleaner(spec: ColumnSpec) -> tuple[dict[Any, str], Callable[[Any], str], set[str] | None]:
    """Cleaning a categorical value as `schema.coerce_features` does: (the cleaned form of
    missing and of each listed level, looked up before any string work; the cleaning itself;
    the closed list of levels for warnings, or None when any level is expected)."""
    spelling = {level.casefold(): level for level in spec.categories or []}

    def clean(value: Any) -> str:
        # Case variants of a listed level are scored as that level, as in training.
        text = MISSING_TEXT if value is None else str(value).strip()
        return spelling.get(text.casefold(), text)

    known = {value: clean(value) for value in [None, *(spec.categories or [])]}
    levels = set(spec.categories) if spec.closed and spec.categories else None
    return known, clean, levels
