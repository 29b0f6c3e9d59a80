"""The settings base every participant extends (environment prefix `OPENMYDATA_`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from openmydata.kit.tls import TlsFiles, TlsIdentity

DEFAULT_DATA_DIR = Path(".openmydata")


class ServiceSettings(BaseSettings):
    """Common settings. A participant subclass sets its own `env_prefix` (e.g. `OPENMYDATA_PROVIDER_`).

    Transport between participants is mutual TLS 1.3: `tls_cert_file`/`tls_key_file` are the participant's
    organisation certificate and key, `tls_ca_file` the CAs it trusts for its peers. Every participant API refuses a
    caller without a client certificate registered at the portal (40103); `peer_check` says what is compared with
    the registry (`serial`: the subject SERIALNUMBER, the financial standard's rule; `fingerprint`: the certificate's
    SHA-256, the nationwide standard's rule). `insecure_plain_http` is the development setting that lets
    participant APIs answer plain HTTP callers without a certificate (and outbound calls go without one); nothing
    sets it by default and the demo does not use it.
    """

    model_config = SettingsConfigDict(env_prefix="OPENMYDATA_", extra="ignore")

    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'service.db'}"
    public_url: str = "http://127.0.0.1:8000"
    http_timeout_s: float = 10.0
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_ca_file: Path | None = None
    peer_check: Literal["serial", "fingerprint"] = "serial"
    tls_reload_interval_s: float = Field(default=60.0, gt=0)  # how often rotated certificate files are picked up
    # The registered certificates (지원-002) are re-read when older than this, and at once (at most every
    # registry_resync_interval_s) when an unknown certificate connects.
    peer_registry_max_age_s: float = Field(default=300.0, ge=0)
    insecure_plain_http: bool = False

    def tls_identity(self) -> TlsIdentity | None:
        """The participant's TLS identity, or None when no certificate is configured (only allowed with
        `insecure_plain_http`)."""
        files = (self.tls_cert_file, self.tls_key_file, self.tls_ca_file)
        if all(item is None for item in files):
            if not self.insecure_plain_http:
                raise ValueError(
                    "no TLS certificate is configured: set tls_cert_file, tls_key_file and tls_ca_file "
                    "(or insecure_plain_http for development)"
                )
            return None
        cert_file, key_file, ca_file = files
        if cert_file is None or key_file is None or ca_file is None:
            raise ValueError("tls_cert_file, tls_key_file and tls_ca_file go together")
        return TlsIdentity(TlsFiles(cert_file, key_file, ca_file))
