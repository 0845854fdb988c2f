"""The model folder: its file names, and loading that refuses files changed after writing."""

from __future__ import annotations

from pathlib import Path

from ..errors import StageError
from ..files import sha256

MODEL_FILE = "model.joblib"


META_FILE = "model.json"


SERVING_DIR = "serving"  # written by the `export` stage


ONNX_FILE = "model.onnx"


MANIFEST_FILE = "manifest.json"


class ModelLoadError(StageError):
    """The model folder is missing, incomplete or does not match its recorded checksum."""


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
