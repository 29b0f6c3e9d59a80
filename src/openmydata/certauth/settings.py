"""Certification-authority settings (environment prefix `OPENMYDATA_CERTAUTH_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from openmydata.kit.settings import DEFAULT_DATA_DIR, ServiceSettings

DAY_S = 86_400


class CertAuthSettings(ServiceSettings):
    """The CA's settings.

    - `org_code` is the CA's own org_code at the portal (the `ca_code` operators and providers name).
    - The root key and certificate live as PEM files in `data_dir` (created on first start; the key is
      encrypted when `root_key_password` is set). `token_secret` signs CA tokens; empty keeps a random one in
      `data_dir`.
    - The organisations that may call the CA come from the portal (지원-006) with the CA's support credentials.
    """

    model_config = SettingsConfigDict(env_prefix="OPENMYDATA_CERTAUTH_", extra="ignore")

    org_code: str = "Z1CERT0000"
    ca_name: str = "OpenMyData Certification Authority"
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'certauth.db'}"
    public_url: str = "http://127.0.0.1:8002"
    data_dir: Path = DEFAULT_DATA_DIR / "certauth"
    admin_key: str = ""
    token_secret: str = ""
    root_key_password: str = ""

    portal_url: str = ""
    support_client_id: str = ""
    support_client_secret: str = ""
    # An unknown client_id at the token endpoint re-reads the portal's registry at most this often.
    registry_resync_interval_s: float = Field(default=5.0, ge=0)

    token_lifetime_s: int = Field(default=DAY_S, ge=60, le=365 * DAY_S)
    request_lifetime_s: int = Field(default=300, ge=10)  # identity and sign requests expire (04) after it
    pin_attempts: int = Field(default=5, ge=1)
    pin_kdf_cost: int = Field(default=2**14, ge=2, le=2**20)  # scrypt N for PIN hashes (a power of two)
