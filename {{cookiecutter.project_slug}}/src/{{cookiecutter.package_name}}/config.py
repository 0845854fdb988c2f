"""Typed view of params.yaml: unknown or mistyped keys fail at once and name the key."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ConfigError

PARAMS_FILE = Path("params.yaml")
FAST_TREES = 40  # train.fast: enough trees to be a real model, few enough for CI

ProblemType = Literal["auto", "binary", "multiclass", "regression"]
Metric = Literal["roc_auc", "pr_auc", "log_loss", "accuracy", "f1", "f1_macro", "rmse", "mae", "r2"]


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


class ValidateParams(_Strict):
    # warn: log columns that alone predict the target; fail: stop the pipeline on them.
    leakage: Literal["warn", "fail"] = "warn"


class SplitParams(_Strict):
    test_size: float = Field(0.2, gt=0.0, lt=1.0)
    # random: stratified for classification; group: rows sharing `group_column` stay on one
    # side; time: the latest rows by `time_column` form the test set.
    strategy: Literal["random", "group", "time"] = "random"
    group_column: str | None = None
    time_column: str | None = None

    @model_validator(mode="after")
    def _needs_its_column(self) -> SplitParams:
        if self.strategy == "group" and not self.group_column:
            raise ValueError("strategy 'group' needs split.group_column")
        if self.strategy == "time" and not self.time_column:
            raise ValueError("strategy 'time' needs split.time_column")
        return self


class LinearParams(_Strict):
    enabled: bool = True
    C: float = Field(1.0, gt=0)
    alpha: float = Field(1.0, gt=0)
    n_bins: int = Field(8, ge=0, le=100)  # quantile bins per number, one-hot; 0 or 1: none


class RandomForestParams(_Strict):
    enabled: bool = True
    n_estimators: int = Field(100, ge=1)
    max_depth: int | None = Field(None, ge=1)
    min_samples_leaf: int = Field(2, ge=1)
    max_features: float = Field(0.5, gt=0, le=1)
    criterion: Literal["gini", "entropy"] = "gini"  # classification; regression: squared error


class ExtraTreesParams(RandomForestParams):
    min_samples_leaf: int = Field(1, ge=1)  # random split points: full trees average well
    criterion: Literal["gini", "entropy"] = "entropy"


class XGBoostParams(_Strict):
    enabled: bool = True
    n_estimators: int = Field(2000, ge=1)  # at most; early stopping picks the number
    learning_rate: float = Field(0.05, gt=0, le=1)
    max_depth: int = Field(4, ge=1)
    subsample: float = Field(0.8, gt=0, le=1)
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    min_child_weight: float = Field(1.0, ge=0)
    reg_lambda: float = Field(1.0, ge=0)


class LightGBMParams(_Strict):
    enabled: bool = True
    n_estimators: int = Field(2000, ge=1)  # at most; early stopping picks the number
    learning_rate: float = Field(0.03, gt=0, le=1)
    num_leaves: int = Field(15, ge=2)
    min_child_samples: int = Field(20, ge=1)
    subsample: float = Field(0.8, gt=0, le=1)
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    reg_lambda: float = Field(1.0, ge=0)


class ModelsParams(_Strict):
    linear: LinearParams = LinearParams()
    random_forest: RandomForestParams = RandomForestParams()
    extra_trees: ExtraTreesParams = ExtraTreesParams()
    xgboost: XGBoostParams = XGBoostParams()
    lightgbm: LightGBMParams = LightGBMParams()

    def enabled(self) -> dict[str, BaseModel]:
        """The switched-on families by name, in declaration order."""
        families = {name: getattr(self, name) for name in type(self).model_fields}
        return {name: cfg for name, cfg in families.items() if cfg.enabled}


class SearchParams(_Strict):
    enabled: bool = True
    # null: search until train.time_budget_seconds runs out (what fits in it depends on the
    # machine); a number: exactly that many trials over all families, the same on every run.
    n_trials: int | None = Field(None, ge=1)
    # On a time budget, the search also ends after this many trials in a row without a
    # better score beyond noise (None: it spends the whole budget).
    patience: int | None = Field(5, ge=1)
    # Tune on a sample of at most this many training rows; the champion refits on all rows.
    max_rows: int = Field(20_000, ge=200)
    # Tuning processes sharing one Optuna study per family (training/workers.py); 1: this
    # process alone, in memory, unless OPTUNA_STORAGE names a database.
    workers: int = Field(1, ge=1, le=64)


class BlendParams(_Strict):
    enabled: bool = True
    # The most candidates the blend may weigh (each one adds its answer time to every call).
    max_members: int = Field(3, ge=2, le=10)
    # Each family's best complete trials the blend may draw on (its best, then runners-up).
    trials_per_family: int = Field(4, ge=1, le=20)

    def pool(self) -> int:
        """Complete trials a family keeps with their out-of-fold answers: 1 without a blend."""
        return self.trials_per_family if self.enabled else 1


class TrainParams(_Strict):
    fast: bool = False
    # Seconds for the whole train stage (start-up, search, refits, logging), all families.
    time_budget_seconds: float = Field(60.0, gt=0)
    cv_folds: int = Field(5, ge=2, le=20)  # the search and the leaderboard share these folds
    # Boosters stop adding trees after this many rounds without a better held-out score
    # (0: never; they then grow n_estimators trees).
    early_stopping_rounds: int = Field(50, ge=0)
    primary_metric: Metric | None = None
    class_weight: Literal["auto", "balanced", "none"] = "auto"
    decision_threshold: Literal["auto"] | float = "auto"
    # Classification: the champion's probabilities tempered (`serving/temperature.py`).
    calibration: Literal["temperature", "none"] = "temperature"
    target_transform: Literal["auto", "log", "none"] = "auto"
    search: SearchParams = SearchParams()
    blend: BlendParams = BlendParams()
    models: ModelsParams = ModelsParams()

    @model_validator(mode="after")
    def _threshold_in_range(self) -> TrainParams:
        threshold = self.decision_threshold
        if threshold != "auto" and not 0 < threshold < 1:
            raise ValueError("decision_threshold must be 'auto' or a number between 0 and 1")
        return self


class EvaluateParams(_Strict):
    bootstrap_rounds: int = Field(1000, ge=10)  # resamples of the test split for 95% intervals
    permutation_repeats: int = Field(5, ge=1)  # shuffles per column for permutation importance
    learning_curve_points: int = Field(5, ge=2, le=20)
    learning_curve_folds: int = Field(3, ge=2, le=10)  # 2 with train.fast
    # Large splits: diagnostics sample (evaluation/budget.py); the headline metrics never do.
    sample_rows: int = Field(10_000, ge=100)  # test rows for permutation importance
    learning_curve_rows: int = Field(20_000, ge=100)  # training rows for the learning curve
    # Estimated from the champion's refit time: past it, fewer folds, then fewer sizes.
    learning_curve_seconds: float = Field(5.0, gt=0)
    # Estimated from the served model's time per row: past it, fewer shuffles (down to 2).
    permutation_seconds: float = Field(10.0, gt=0)
    top_n: int = Field(15, ge=3, le=50)  # features and categories shown; the rest is "other"
    target_unit: str | None = None  # regression: the target's unit, for axis labels


class RegisterParams(_Strict):
    tolerance: float = Field(0.0, ge=0)


class MonitorParams(_Strict):
    """The `monitor` command's window and thresholds (monitoring/verdict.py applies them)."""

    window_days: float = Field(7.0, gt=0)  # the log's last days a run reads by default
    min_rows: int = Field(100, ge=10)  # fewer rows in the window: an error, not a verdict
    bins: int = Field(10, ge=2, le=50)  # training quantile bins of a number, for PSI
    max_levels: int = Field(20, ge=2, le=200)  # levels compared; rarer ones pooled as other
    # A feature drifts when its PSI reaches `psi` and its test (KS for a number, chi-square
    # for a category) puts the change beyond sampling noise (p below `p_value`), or when
    # unseen levels or new missing values reach their shares of the rows.
    psi: float = Field(0.2, gt=0)
    p_value: float = Field(0.01, gt=0, lt=1)
    unseen_share: float = Field(0.05, gt=0, le=1)
    missing_share: float = Field(0.05, gt=0, le=1)
    prediction_psi: float = Field(0.2, gt=0)  # the predictions against the test split's
    # Degraded: even the better end of the primary metric's 95% interval on the rows with
    # outcomes is worse than the test split's value by more than this share of it.
    tolerance: float = Field(0.02, ge=0, lt=1)
    min_outcomes: int = Field(50, ge=10)  # fewer joined outcomes: shown, not judged
    bootstrap_rounds: int = Field(1000, ge=100)


class MlflowParams(_Strict):
    experiment: str = Field(min_length=1)
    registered_model: str = Field(min_length=1)


class Params(_Strict):
    project: ProjectParams
    seed: int = Field(42, ge=0)
    data: DataParams
    # "validate" would shadow a pydantic method: the attribute is validation.
    validation: ValidateParams = Field(ValidateParams(), alias="validate")
    split: SplitParams = SplitParams()
    train: TrainParams = TrainParams()
    evaluate: EvaluateParams = EvaluateParams()
    registration: RegisterParams = Field(RegisterParams(), alias="register")
    monitor: MonitorParams = MonitorParams()
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
        return resolved(Params.model_validate(raw))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None


def resolved(params: Params) -> Params:
    """The params as the stages use them: train.fast (a smoke run) applied here, once, so no
    stage asks about it: two folds, no search (each family's configured params, once), at most
    FAST_TREES trees per ensemble, and a shorter evaluation (200 resamples, 2 shuffles,
    3 learning-curve sizes on 2 folds)."""
    if not params.train.fast:
        return params
    train, evaluate = params.train, params.evaluate
    models = {
        name: cfg.model_copy(update={"n_estimators": min(cfg.n_estimators, FAST_TREES)})
        if hasattr(cfg, "n_estimators")
        else cfg
        for name, cfg in train.models
    }
    train = train.model_copy(
        update={
            "cv_folds": 2,
            "search": train.search.model_copy(update={"enabled": False}),
            "models": train.models.model_copy(update=models),
        }
    )
    evaluate = evaluate.model_copy(
        update={
            "bootstrap_rounds": min(evaluate.bootstrap_rounds, 200),
            "permutation_repeats": min(evaluate.permutation_repeats, 2),
            "learning_curve_points": min(evaluate.learning_curve_points, 3),
            "learning_curve_folds": 2,
        }
    )
    return params.model_copy(update={"train": train, "evaluate": evaluate})
