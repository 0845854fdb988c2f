"""Typed view of params.yaml: unknown or mistyped keys fail at once and name the key."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

PARAMS_FILE = Path("params.yaml")

ProblemType = Literal["auto", "binary", "multiclass", "regression"]
Metric = Literal["roc_auc", "pr_auc", "log_loss", "accuracy", "f1", "f1_macro", "rmse", "mae", "r2"]


class ConfigError(ValueError):
    """params.yaml is missing, unreadable or holds a bad value."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectParams(_Strict):
    name: str = Field(min_length=1)
    description: str = ""


class DataParams(_Strict):
    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    problem_type: ProblemType = "auto"
    positive_class: str | int | bool | None = None


class SplitParams(_Strict):
    test_size: float = Field(0.2, gt=0.0, lt=1.0)


class LinearParams(_Strict):
    enabled: bool = True
    C: float = Field(1.0, gt=0)
    alpha: float = Field(1.0, gt=0)


class RandomForestParams(_Strict):
    enabled: bool = True
    n_estimators: int = Field(300, ge=1)
    max_depth: int | None = Field(None, ge=1)
    min_samples_leaf: int = Field(2, ge=1)
    max_features: float = Field(0.5, gt=0, le=1)


class XGBoostParams(_Strict):
    enabled: bool = True
    n_estimators: int = Field(400, ge=1)
    learning_rate: float = Field(0.05, gt=0, le=1)
    max_depth: int = Field(4, ge=1)
    subsample: float = Field(0.8, gt=0, le=1)
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    min_child_weight: float = Field(1.0, ge=0)


class LightGBMParams(_Strict):
    enabled: bool = True
    n_estimators: int = Field(400, ge=1)
    learning_rate: float = Field(0.03, gt=0, le=1)
    num_leaves: int = Field(15, ge=2)
    min_child_samples: int = Field(20, ge=1)
    subsample: float = Field(0.8, gt=0, le=1)
    colsample_bytree: float = Field(0.8, gt=0, le=1)


class ModelsParams(_Strict):
    linear: LinearParams = LinearParams()
    random_forest: RandomForestParams = RandomForestParams()
    xgboost: XGBoostParams = XGBoostParams()
    lightgbm: LightGBMParams = LightGBMParams()

    def enabled(self) -> dict[str, BaseModel]:
        """The switched-on families by name, in declaration order."""
        families = {name: getattr(self, name) for name in type(self).model_fields}
        return {name: cfg for name, cfg in families.items() if cfg.enabled}


class TrainParams(_Strict):
    fast: bool = False
    cv_folds: int = Field(5, ge=2, le=20)
    primary_metric: Metric | None = None
    models: ModelsParams = ModelsParams()


class MlflowParams(_Strict):
    experiment: str = Field(min_length=1)
    registered_model: str = Field(min_length=1)


class Params(_Strict):
    project: ProjectParams
    seed: int = Field(42, ge=0)
    data: DataParams
    split: SplitParams = SplitParams()
    train: TrainParams = TrainParams()
    mlflow: MlflowParams


def _describe(error: ValidationError, path: Path) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        lines.append(f"{path}: {key}: {message}")
    return "\n".join(lines)


def load_params(path: Path | str = PARAMS_FILE) -> Params:
    """Read and check params.yaml; raise ConfigError naming every bad key."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: not found (run from the project folder)") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None
