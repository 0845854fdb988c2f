"""Serving settings, read from environment variables (APP_MODEL_DIR, ...), not params.yaml."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_", extra="ignore")

    model_dir: Path = Path("models")
    metrics_file: Path = Path("reports/metrics.json")
    max_batch_records: int = Field(10_000, ge=1)
