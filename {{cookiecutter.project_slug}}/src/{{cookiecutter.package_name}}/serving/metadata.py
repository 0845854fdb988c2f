"""What the model folder says about its model, as typed records written and read only here.

`ModelMeta` is models/model.json (written by `train`: the champion, its classes, threshold,
scores, features and schema); `ServingManifest` is models/serving/manifest.json (written by
`export`: what the service runs and how to feed it). Both refuse unknown or mistyped keys,
so a hand-edited or foreign file fails at load time with the key named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..data.schema import Label, Problem, Schema
from ..files import write_json
from .artifacts import MANIFEST_FILE, SERVING_DIR, ModelLoadError

Record = TypeVar("Record", bound="_Record")


def _problem(error: Any) -> str:
    """One validation error as `key.path: message` (no key: the whole file)."""
    where = ".".join(map(str, error["loc"]))
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    sparse: ClassVar[bool] = False  # leave out unset (None) keys when written

    def write(self, path: Path) -> None:
        data = self.model_dump(mode="json", by_alias=True, exclude_none=self.sparse)
        write_json(data, path)

    @classmethod
    def read(cls: type[Record], path: Path) -> Record:
        """The record in `path`; ModelLoadError naming the file and key when it does not fit."""
        try:
            return cls.model_validate_json(path.read_bytes())
        except FileNotFoundError as exc:
            raise ModelLoadError(f"{path}: missing (run `dvc repro`)") from exc
        except OSError as exc:  # a folder, no permission, a failing disk
            raise ModelLoadError(f"{path}: cannot be read: {exc.strerror or exc}") from None
        except ValidationError as exc:
            problems = "; ".join(_problem(error) for error in exc.errors()[:5])
            raise ModelLoadError(f"{path}: not a valid {cls.__name__}: {problems}") from None


class ProjectInfo(_Record):
    name: str
    description: str = ""


class CvScore(_Record):
    mean: float
    std: float


class FeatureLists(_Record):
    """The pipeline's input columns by kind, after feature engineering."""

    numeric: list[str]
    categorical: list[str]


class TrackingInfo(_Record):
    """Where `train` logged the champion in MLflow (empty when it was not logged)."""

    parent_run_id: str = ""
    run_id: str = ""
    # Written by `train` before `register` logged the champion (its URI: reports/registry.json);
    # kept so such a model.json still loads.
    model_uri: str = ""


class ModelMeta(_Record):
    """models/model.json: the trained champion, described."""

    project: ProjectInfo
    champion: str
    problem_type: Problem
    target: str
    classes: list[Label] | None = None  # model order; binary: the positive class last
    positive_class: Label | None = None
    threshold: float | None = None  # binary: the probability cut-off
    temperature: float | None = None  # the probabilities' (serving/temperature.py); None: 1
    # Added to each class's tempered log-probability (class weights' tilt undone); None: 0.
    class_shift: list[float] | None = None
    class_weight: Literal["balanced", "none"] = "none"
    target_transform: Literal["log", "none"] = "none"
    primary_metric: str
    cv: dict[str, CvScore]
    model_params: dict[str, Any] = {}
    # The champion, or those of a blend's members, that answer with the mean of their fold
    # fits (a linear classifier: training/bagging.py), and how many fits each averages.
    fold_means: dict[str, int] = {}
    failed_families: list[str] = []  # enabled, but no fit succeeded: not on the leaderboard
    features: FeatureLists
    train_rows: int
    refit_seconds: float = 0.0
    trained_at: str
    git_commit: str | None = None
    # "schema" would shadow a BaseModel attribute: the field is table_schema in Python.
    table_schema: Schema = Field(alias="schema")
    # A record as the API takes it, for the docs: typical values, not a row (data.typical).
    example: dict[str, Any] | None = None
    mlflow: TrackingInfo = TrackingInfo()
    sha256: str | None = None  # of model.joblib, set when it is saved


class TextCodes(_Record):
    """The text lookup `export` took out of the graph (see `text_codes`)."""

    dtype: Literal["float32", "int64"]
    default: int | float
    levels: list[dict[str, int | float]]  # per text column: level -> code
    input: str  # the graph input the codes feed
    joined: str | None = None  # the one input for numbers and codes, when they were joined


class GraphInputs(_Record):
    numeric: list[str]
    categorical: list[str]


class ServingManifest(_Record):
    """models/serving/manifest.json: what the service runs."""

    sparse: ClassVar[bool] = True
    format: Literal["onnx", "sklearn"]
    source_sha256: str  # model.joblib's SHA-256: which training run this was exported from
    champion: str
    exported_at: str
    reason: str | None = None  # format sklearn: why the pipeline could not be converted
    file: str | None = None  # format onnx: the graph's file name and SHA-256
    sha256: str | None = None
    inputs: GraphInputs | None = None
    output: str | None = None
    text_codes: TextCodes | None = None
    opsets: dict[str, int] | None = None
    versions: dict[str, str] | None = None
    parity: dict[str, float] | None = None

    @model_validator(mode="after")
    def _complete(self) -> ServingManifest:
        """A graph needs its file (a name in the serving folder), checksum, inputs, output."""
        if self.format == "onnx":
            needed = ("file", "sha256", "inputs", "output")
            missing = [key for key in needed if not getattr(self, key)]
            if missing:
                raise ValueError(f"format onnx needs {', '.join(missing)}")
            if Path(self.file).name != self.file or self.file in (".", ".."):
                raise ValueError(f"file {self.file!r} must be a file name in the serving folder")
        return self


def read_manifest(folder: Path) -> ServingManifest | None:
    """models/serving/manifest.json, or None when `export` has not run."""
    path = folder / SERVING_DIR / MANIFEST_FILE
    return ServingManifest.read(path) if path.is_file() else None
