"""models/serving/: the converted graph, checked against scikit-learn and written with its
manifest; or, for a model no converter knows, a manifest that says scikit-learn serves it."""

from __future__ import annotations

import logging
import shutil
import tempfile
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd

from ..files import sha256
from ..serving.artifacts import MANIFEST_FILE, MODEL_FILE, ONNX_FILE
from ..serving.metadata import GraphInputs, ModelMeta, ServingManifest, TextCodes
from ..serving.predictor import Predictor
from ..serving.runtimes import onnx_scorer
from .convert import OPSETS, to_onnx
from .parity import TOLERANCE, ParityError, check_parity, require_parity

log = logging.getLogger(__name__)


def graph_predictor(
    meta: ModelMeta,
    model: Any,
    output: str,
    numeric: list[str],
    categorical: list[str],
    codes: TextCodes | None,
    path: Path,
) -> Predictor:
    """The converted graph written to path, loaded as the service loads it."""
    path.write_bytes(model.SerializeToString())
    manifest = ServingManifest(
        format="onnx",
        source_sha256=meta.sha256 or "",
        champion=meta.champion,
        exported_at=datetime.now(UTC).isoformat(timespec="seconds"),
        file=path.name,
        sha256=sha256(path),
        inputs=GraphInputs(numeric=numeric, categorical=categorical),
        output=output,
        text_codes=codes,
    )
    return Predictor(None, meta, manifest, onnx_scorer(path, manifest))


def export(model_dir: Path, test: pd.DataFrame, out_dir: Path, seed: int = 0) -> dict[str, Any]:
    """Convert, check and write models/serving/; return the parity report."""
    reference = Predictor.load(model_dir, runtime="sklearn")
    meta = reference.meta
    classification = reference.classes is not None
    try:
        model, output, numeric, categorical, codes = to_onnx(
            reference.pipeline, meta.features.numeric, meta.features.categorical, classification
        )
    except Exception as exc:  # converters fail in many ways (unknown estimator, shapes, options)
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        log.warning(
            "%s cannot be converted to ONNX; serving scikit-learn: %s", meta.champion, reason
        )
        manifest = ServingManifest(
            format="sklearn",
            source_sha256=meta.sha256 or "",
            champion=meta.champion,
            exported_at=datetime.now(UTC).isoformat(timespec="seconds"),
            reason=reason,
        )
        _write(out_dir, manifest, None)
        return {"runtime": "sklearn", "reason": reason}

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ONNX_FILE
        served = graph_predictor(meta, model, output, numeric, categorical, codes, path)
        checks = check_parity(reference, served, test, seed)
        try:
            require_parity(checks, classification)
        except ParityError as exc:  # never serve a graph that answers differently
            family = meta.champion
            switch = "blend" if family == "blend" else f"models.{family}"
            raise ParityError(
                f"{model_dir / MODEL_FILE} ({family}): {exc}; nothing was written. To train "
                f"another champion, set train.{switch}.enabled: false in params.yaml."
            ) from None
        manifest = served.manifest.model_copy(
            update={
                "opsets": OPSETS,
                "versions": {name: version(name) for name in ("skl2onnx", "onnxruntime")},
                "parity": {name: check["max_difference"] for name, check in checks.items()},
            }
        )
        _write(out_dir, manifest, path)
    return {"runtime": "onnx", "tolerance": TOLERANCE, "checks": checks}


def _write(out_dir: Path, manifest: ServingManifest, onnx_file: Path | None) -> None:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    if onnx_file is not None:
        shutil.copyfile(onnx_file, out_dir / ONNX_FILE)
    manifest.write(out_dir / MANIFEST_FILE)
