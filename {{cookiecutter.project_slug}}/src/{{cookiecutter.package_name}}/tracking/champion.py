"""The champion logged as an MLflow model anyone can serve: the pyfunc of `pyfunc_model.py`
around the served model folder (model.json and the ONNX graph `export` wrote; the
scikit-learn pipeline only where there is no graph), with a signature and an input example in
the raw column names and the requirements of the runtime it uses.

Logged from code, not pickled: MLflow keeps `pyfunc_model.py` and the package's `serving` and
`data` code beside the model folder, and loading it goes through `Predictor.load`'s checksums.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from ..serving.artifacts import META_FILE, MODEL_FILE, SERVING_DIR
from ..serving.predictor import Predictor

log = logging.getLogger(__name__)

CODE_FILE = "pyfunc_model.py"  # beside this module; MLflow runs it, nothing imports it
MODEL_DIR = "model_dir"  # the artifact's name, as pyfunc_model.MODEL_DIR reads it
# The package's part the Predictor imports, logged as the model's code.
PACKAGE_PARTS = ("__init__.py", "errors.py", "files.py", "data", "serving")
# A pickled pipeline also holds classes of `training` (its bins, its features' names).
PIPELINE_PARTS = ("training",)

EXAMPLE_ROWS = 5
# What loading and running the ONNX graph imports (serving/, data/, files.py); MLflow adds itself.
ONNX_PACKAGES = ("numpy", "pandas", "pyyaml", "pydantic", "onnxruntime")
# A model `export` could not convert runs its scikit-learn pipeline: the `sklearn` extra.
SKLEARN_PACKAGES = ("scikit-learn", "scipy", "joblib", "lightgbm", "xgboost-cpu", "xgboost")
_COLUMN_TYPES = {bool: "boolean", int: "long", float: "double", str: "string"}


@dataclass(frozen=True)
class LoggedChampion:
    """The champion's logged MLflow model."""

    model_id: str
    model_uri: str
    run_id: str
    runtime: str  # "onnx" or "sklearn"
    seconds: float


def requirements(runtime: str) -> list[str]:
    """The installed versions of what the model's runtime imports, pinned."""
    packages = ONNX_PACKAGES + (SKLEARN_PACKAGES if runtime == "sklearn" else ())
    pins = []
    for package in packages:
        try:
            pins.append(f"{package}=={version(package)}")
        except PackageNotFoundError:  # xgboost-cpu or xgboost, whichever is installed
            continue
    return pins


def signature(predictor: Predictor) -> Any:
    """Any value in every raw column, each optional: the predictor's own cleaning reads CSV
    integers, JSON nulls and numeric text as the API does, where MLflow's typed columns would
    refuse an int64 column declared double, or a null in one declared long."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    inputs = [ColSpec(AnyType(), name, required=False) for name in predictor.schema.features]
    classes = predictor.classes
    if classes is None:
        outputs = [ColSpec("double", "prediction")]
    else:
        kind = _COLUMN_TYPES.get(type(classes[0]), "string")
        outputs = [ColSpec(kind, "prediction")]
        outputs += [ColSpec("double", f"probability_{label}") for label in classes]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def input_example(predictor: Predictor, test: pd.DataFrame) -> pd.DataFrame:
    """The documents' typical record (no customer's row), else the first test rows; raw
    columns, no target."""
    if predictor.meta.example:
        return pd.DataFrame([predictor.meta.example]).reindex(columns=predictor.schema.features)
    return test.head(EXAMPLE_ROWS).reindex(columns=predictor.schema.features)


def _model_folder(model_dir: Path, runtime: str, into: Path) -> Path:
    """What the logged model loads: model.json, the serving folder, the pipeline only when
    it is what runs."""
    folder = into / "model"
    folder.mkdir()
    shutil.copy2(model_dir / META_FILE, folder / META_FILE)
    if (model_dir / SERVING_DIR).is_dir():
        shutil.copytree(model_dir / SERVING_DIR, folder / SERVING_DIR)
    if runtime == "sklearn":
        shutil.copy2(model_dir / MODEL_FILE, folder / MODEL_FILE)
    return folder


def _package_code(into: Path, runtime: str) -> Path:
    """The package's modules the Predictor imports, as MLflow's code path."""
    source = Path(__file__).resolve().parents[1]
    package = into / "code" / source.name
    package.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in PACKAGE_PARTS + (PIPELINE_PARTS if runtime == "sklearn" else ()):
        path = source / part
        if path.is_dir():
            shutil.copytree(path, package / part, ignore=ignore)
        else:
            shutil.copy2(path, package / part)
    return package


def log_champion(model_dir: Path, test: pd.DataFrame) -> LoggedChampion:
    """Log the served champion as a pyfunc in the active run; its model id and URI."""
    import mlflow

    started = time.perf_counter()
    predictor = Predictor.load(model_dir, runtime="auto")
    meta = predictor.meta
    with tempfile.TemporaryDirectory() as tmp:
        info = mlflow.pyfunc.log_model(
            name="champion",
            python_model=str(Path(__file__).with_name(CODE_FILE)),
            artifacts={MODEL_DIR: str(_model_folder(model_dir, predictor.runtime, Path(tmp)))},
            code_paths=[str(_package_code(Path(tmp), predictor.runtime))],
            signature=signature(predictor),
            input_example=input_example(predictor, test),
            pip_requirements=requirements(predictor.runtime),
            model_config={"threads": 1},
            # Not the project's uv.lock and pyproject.toml, which MLflow would otherwise find
            # in the working folder and log: they pin the training stack, not what this runs.
            uv_project_path=tmp,
            metadata={"champion": meta.champion, "problem_type": meta.problem_type,
                      "classes": meta.classes, "threshold": meta.threshold,
                      "runtime": predictor.runtime, "served_sha256": predictor.version},
            params={"champion": meta.champion, "runtime": predictor.runtime}
            | ({} if meta.threshold is None else {"threshold": meta.threshold}),
        )  # fmt: skip
    seconds = time.perf_counter() - started
    log.info("logged the champion (%s) as %s in %.1f s", predictor.runtime, info.model_uri, seconds)
    return LoggedChampion(info.model_id, info.model_uri, info.run_id, predictor.runtime, seconds)
