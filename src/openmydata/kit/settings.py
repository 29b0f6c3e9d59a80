"""The settings base every participant extends (environment prefix `OPENMYDATA_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path(".openmydata")


class ServiceSettings(BaseSettings):
    """Common settings. A participant subclass sets its own `env_prefix` (e.g. `OPENMYDATA_PROVIDER_`)."""

    model_config = SettingsConfigDict(env_prefix="OPENMYDATA_", extra="ignore")

    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'service.db'}"
    public_url: str = "http://127.0.0.1:8000"
    http_timeout_s: float = 10.0
