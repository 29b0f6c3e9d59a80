"""Portal settings (environment prefix `OPENMYDATA_PORTAL_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from openmydata.kit.settings import DEFAULT_DATA_DIR, ServiceSettings

DAY_S = 86_400


class PortalSettings(ServiceSettings):
    """The portal's settings.

    - `admin_key` guards `/admin/...` (registration); empty disables the admin API.
    - `token_secret` signs the 지원 access tokens (HS256) and `credentials_key` encrypts the client secrets the
      portal must hand out again (CA credentials for 지원-006, service secrets for 지원-003). When either is
      empty, a random value is created once in `data_dir` (mode 0600) and reused after restarts.
    """

    model_config = SettingsConfigDict(env_prefix="OPENMYDATA_PORTAL_", extra="ignore")

    org_code: str = "W1PRTL0000"
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'portal.db'}"
    public_url: str = "http://127.0.0.1:8001"
    data_dir: Path = DEFAULT_DATA_DIR / "portal"
    admin_key: str = ""
    token_secret: str = ""
    credentials_key: str = ""
    # Support-API tokens last at most one year and have no refresh token (digest §10.4).
    token_lifetime_s: int = Field(default=30 * DAY_S, ge=60, le=365 * DAY_S)
