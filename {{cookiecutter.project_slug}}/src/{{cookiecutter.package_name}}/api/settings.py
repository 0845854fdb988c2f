"""Serving settings, read from environment variables (APP_MODEL_DIR, ...), not params.yaml."""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ..monitoring.writer import LogSettings


class Settings(LogSettings):
    """The service's settings, with the prediction log's (APP_LOG_PREDICTIONS, ...)."""

    model_config = SettingsConfigDict(env_prefix="APP_", extra="ignore")

    model_dir: Path = Field(Path("models"), description="model.json, model.joblib, serving/")
    metrics_file: Path = Path("reports/metrics.json")
    registry_file: Path = Path("reports/registry.json")
    # The last `monitor` run's verdict, shown on the web page (GET /activity).
    monitor_summary: Path = Path("reports/monitoring/summary.json")
    # auto: the ONNX graph written by `dvc repro export`, else the scikit-learn pipeline.
    runtime: Literal["auto", "onnx", "sklearn"] = "auto"
    # Threads that validate and score /predict/batch bodies, off the event loop (workers.py).
    scoring_threads: int = Field(1, ge=1)
    # When set, /predict*, /metadata need the header X-API-Key with this value.
    api_key: SecretStr | None = None
    max_body_bytes: int = Field(1 << 20, ge=1, description="/predict request body limit")
    max_batch_body_bytes: int = Field(32 << 20, ge=1, description="/predict/batch and /csv")
    max_batch_records: int = Field(10_000, ge=1)
    # /predict/csv: the columns a table may have (at least the model's own), and whether a cell
    # that a spreadsheet would run as a formula (=, +, -, @) is written with a leading '.
    max_csv_columns: int = Field(1000, ge=1)
    csv_escape_formulas: bool = True
    # Origins allowed to call the API from a browser, comma-separated ("*" for any).
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The OpenAPI document (/docs) shows no training values unless this says the API is public:
    # with it, each column's training range and levels too. /metadata shows them behind the key.
    public_schema: bool = False
    # Adds /bench/* constant-answer endpoints for `make bench-serve`; keep it off otherwise.
    benchmark: bool = False
    # The cloud platform's routes beside the service's own (`platform_routes.py`); set by the
    # launcher when SageMaker or Vertex AI starts the container (`platforms.py`).
    platform: Literal["none", "sagemaker", "vertex"] = "none"

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value


class ServerLimits(BaseSettings):
    """Limits on what a client sends before the app sees a request, enforced by the server
    (`server.py`, `protocol.py`): the request head's size, and how long it may take to send."""

    model_config = SettingsConfigDict(env_prefix="APP_", extra="ignore")

    max_header_bytes: int = Field(16 << 10, ge=1024, description="request line + headers; 431")
    max_headers: int = Field(100, ge=10, description="header fields; 431 beyond")
    max_url_bytes: int = Field(8 << 10, ge=256, description="the request target; 414 beyond")
    header_timeout: float = Field(10, gt=0, description="s for the request head to arrive; 408")
    body_timeout: float = Field(60, gt=0, description="s for the body, from its head; 408")
