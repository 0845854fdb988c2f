"""The parity check: the graph must answer like the scikit-learn pipeline, raw row in, answer
out, on the test split, a perturbed copy and through the API's record path. Every path runs
`serving.inputs.ModelInput`: `frame` for the pipeline as trained, `columns` (tables) and
`typed_rows` (records) for the served graph."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data.cleaning import clean_columns, is_missing
from ..data.schema import STRING_KINDS, Schema
from ..errors import StageError
from ..serving.predictor import Predictor
from ..serving.temperature import tempered

TOLERANCE = 1e-5
# Rows of the test split compared (a seeded sample of a larger split): each row is scored
# five times (twice by each runtime, once through the record path). On flights' 65,470 test
# rows (a LightGBM of 262k training rows) the whole split's checks took 73 s of an 84 s
# export; a graph that answers differently does so on many rows, not on one in 20,000.
PARITY_ROWS = 20_000


PERTURBED_SHARE = 0.1


class ParityError(StageError):
    """The ONNX graph does not answer like the scikit-learn pipeline."""


# Numbers as exported tables write them ("$1,234.50", " 1,234.5 ", "45%"), which training
# reads as numbers; 0 and 1 also as booleans.
EXPORTED = ("${:,.2f}", " {:,} ", "{:g}%")


def _as_exported(value: Any, k: int) -> Any:
    if is_missing(value):
        return value
    if value in (0.0, 1.0) and k % 2:
        return bool(value)
    return EXPORTED[k % len(EXPORTED)].format(float(value))


def perturbed(clean: pd.DataFrame, schema: Schema, seed: int) -> pd.DataFrame:
    """Clean rows with gaps, unseen and oddly cased categories, out-of-range numbers, and
    numbers written as raw exports write them (text with separators and units, booleans)."""
    rng = np.random.default_rng(seed)
    out = clean.copy()
    rows = len(out)
    for name, spec in schema.columns.items():
        values = out[name].astype(object).to_numpy(copy=True)
        if spec.kind == "numeric":
            if spec.min is not None and spec.max is not None:
                beyond = rng.random(rows) < PERTURBED_SHARE
                values[beyond] = spec.max + (spec.max - spec.min + 1.0) * rng.random(beyond.sum())
            written = np.flatnonzero(rng.random(rows) < PERTURBED_SHARE)
            for k, i in enumerate(written):  # one by one: numpy would make True a "True"
                values[i] = _as_exported(values[i], k)
        elif spec.kind in STRING_KINDS:
            unseen = rng.random(rows) < PERTURBED_SHARE
            values[unseen] = [f"never seen {k}" for k in range(int(unseen.sum()))]
            cased = rng.random(rows) < PERTURBED_SHARE
            values[cased] = [f"  {str(v).upper()} " for v in values[cased]]
        values[rng.random(rows) < PERTURBED_SHARE] = None
        out[name] = values
    return out


def api_rows(frame: pd.DataFrame, schema: Schema) -> list[tuple[Any, ...]]:
    """A table's rows as a client sends them: the table's own values (numbers, booleans,
    numeric text, levels in any spelling), None where missing, dates as ISO 8601 text."""
    columns = []
    for name, spec in schema.columns.items():
        values = frame[name].astype(object).tolist()
        if spec.kind == "datetime":
            columns.append([None if is_missing(v) else pd.Timestamp(v).isoformat() for v in values])
        else:
            columns.append([None if is_missing(v) else _plain(v) for v in values])
    return list(zip(*columns, strict=True))


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON would carry."""
    return value.item() if isinstance(value, np.generic) else value


def _output(labels: list[Any], proba: np.ndarray | None) -> np.ndarray:
    return np.asarray(labels, dtype=float) if proba is None else proba


def training_path(reference: Predictor, frame: pd.DataFrame) -> tuple[list[Any], Any]:
    """Labels and probabilities exactly as training computed its inputs (`ModelInput.frame`),
    the probabilities tempered as the service tempers them."""
    features = reference.inputs.frame(frame)
    pipeline = reference.pipeline
    if reference.classes is None:
        return reference.decode(pipeline.predict(features))
    meta = reference.meta
    proba = tempered(pipeline.predict_proba(features), meta.temperature, meta.class_shift)
    return reference.decode(proba)


def check_parity(reference: Predictor, served: Predictor, test: pd.DataFrame, seed: int) -> dict:
    """Compare the runtimes on the test split, a perturbed copy, and the API's record path.

    The difference is absolute for probabilities. For predicted values it is relative to the
    larger of the prediction itself and the mean absolute prediction on the test split: float32
    keeps about 7 significant digits of the values it adds up. A test split of more than
    PARITY_ROWS rows is compared on a seeded sample of that many.
    """
    if len(test) > PARITY_ROWS:
        test = test.sample(n=PARITY_ROWS, random_state=seed).sort_index()
    schema = reference.schema
    classification = reference.classes is not None
    shaken = perturbed(clean_columns(test, schema), schema, seed)
    expected = {}
    for label, frame in [("test", test), ("perturbed", shaken)]:
        expected[label] = training_path(reference, frame)
        if np.isnan(_output(*expected[label])).any():
            raise ParityError(f"the scikit-learn pipeline answers NaN on the {label} rows")
    scale = 1.0 if classification else max(1.0, float(np.abs(_output(*expected["test"])).mean()))

    answers = served.predict_rows(api_rows(shaken, schema))
    if classification:
        names = [str(c) for c in reference.classes]
        api = (
            [a["prediction"] for a in answers],
            np.array([[a["probabilities"][n] for n in names] for a in answers]),
        )
    else:
        api = [a["prediction"] for a in answers], None
    runs = {
        "test": (expected["test"], served.predict_frame(test)),
        "perturbed": (expected["perturbed"], served.predict_frame(shaken)),
        "api_records": (expected["perturbed"], api),
    }
    report = {}
    for label, ((ref_labels, ref_proba), (labels, proba)) in runs.items():
        wanted = _output(ref_labels, ref_proba)
        gap = np.abs(_output(labels, proba) - wanted)
        if not classification:
            gap = gap / np.maximum(scale, np.abs(wanted))
        report[label] = {
            "rows": len(labels),
            "max_difference": float(gap.max()) if gap.size else 0.0,
        }
        if classification:
            mismatches = sum(a != b for a, b in zip(ref_labels, labels, strict=True))
            report[label]["label_mismatches"] = int(mismatches)
    return report


def require_parity(checks: dict[str, dict[str, Any]], classification: bool) -> None:
    """Raise ParityError naming the worst check when any difference exceeds TOLERANCE."""
    label, worst = max(checks.items(), key=lambda item: item[1]["max_difference"])
    if worst["max_difference"] > TOLERANCE:
        what = "probability" if classification else "relative prediction"
        raise ParityError(
            f"ONNX and scikit-learn disagree on the {label} rows: largest {what} difference "
            f"{worst['max_difference']:.2e} > {TOLERANCE:g}"
        )
