"""Operator settings (environment prefix `OPENMYDATA_OPERATOR_`)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from sqlalchemy.engine import make_url

from openmydata.kit.db import is_sqlite
from openmydata.kit.settings import DEFAULT_DATA_DIR, ServiceSettings

KEY_FILE_NAME = "operator-keys.json"
DEFAULT_PURPOSE = "개인 금융·통신 자산의 통합 조회 및 관리 (자산 현황, 거래내역, 청구내역 확인)"


class OperatorSettings(ServiceSettings):
    """What a running operator needs: its identity at the portal, where its peers are, its credentials.

    `support_client_*` call the portal's 지원 APIs, `ca_client_*` call certauth, `service_client_*` are the
    credentials of the operator's registered service that providers learn from 지원-003 (통합인증-002 and
    개별인증-003/004 send them). `portal_client_*` is the pair the portal issued for calling the operator
    (지원-101 token, then 지원-103); empty disables 지원-101.
    """

    model_config = SettingsConfigDict(env_prefix="OPENMYDATA_OPERATOR_", extra="ignore")

    org_code: str = "OPERATOR01"
    org_name: str = "오픈마이데이터"
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'operator.db'}"
    public_url: str = "http://127.0.0.1:8004"
    portal_url: str = "http://127.0.0.1:8001"
    certauth_url: str = "http://127.0.0.1:8002"
    ca_code: str = "CERTAUTH01"
    support_client_id: str = ""
    support_client_secret: str = ""
    ca_client_id: str = ""
    ca_client_secret: str = ""
    service_client_id: str = ""
    service_client_secret: str = ""
    portal_client_id: str = ""
    portal_client_secret: str = ""
    # How the operator recognises the portal's client certificate when it calls 지원-101/103: the portal is not in
    # its own registry, so its org_code and SERIALNUMBER (business registration number) are configured here.
    portal_org_code: str = "W1PRTL0000"
    portal_serial_num: str = ""
    # 지원-101 tokens (HS256, key derived from session_secret): at most one year, no refresh token (§10.4).
    portal_token_lifetime_s: int = Field(default=30 * 86400, ge=60, le=365 * 86400)
    # Signs CSRF tokens and (unless token_key is set) derives the key that encrypts provider tokens at rest.
    # Set it in production: the random default invalidates stored provider tokens at every restart.
    session_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    token_key: str | None = None
    session_days: int = Field(default=7, ge=1, le=90)
    consent_days: int = Field(default=365, ge=1, le=365)
    purpose: str = DEFAULT_PURPOSE
    holding_period_days: int = Field(default=365, ge=1, le=1825)
    # Consent lifecycle housekeeping (OperatorService.housekeeping): ends consents past their end_date and deletes
    # what a consent covered once its holding period is over. Runs every `housekeeping_interval_s` seconds in the
    # app's lifespan (first run one interval after start; 0 disables), `housekeeping_batch` consents per page.
    housekeeping_interval_s: float = Field(default=3600, ge=0)
    housekeeping_batch: int = Field(default=200, ge=1, le=10000)
    # Weekly statistics (지원-004, operator.statistics): checked every `statistics_interval_s` seconds in the app's
    # lifespan (first check one interval after start; 0 disables), the latest due week is sent once. Band 01 of the
    # two time bands is the peak window `statistics_peak_hours` (HHMM-HHMM, Asia/Seoul), band 02 the rest.
    statistics_interval_s: float = Field(default=3600, ge=0)
    statistics_peak_hours: str = "0900-1800"
    fnd_cycle: str = "1/w"
    add_cycle: str = "1/w"
    history_months: int = Field(default=12, ge=1, le=12)
    # The credit view's model (`openmydata insights train` writes it there); without the file the view says so.
    credit_model_path: str = str(DEFAULT_DATA_DIR / "insights" / "credit-model.json")
    # The products recommendations choose from (`openmydata sandbox products` writes the sandbox's catalogue);
    # without the file the recommendations page lists none.
    product_catalogue_path: str = str(DEFAULT_DATA_DIR / "products.json")
    # Calls at a time to one provider within one person's collection.
    collection_concurrency: int = Field(default=4, ge=1, le=32)
    # How long an idle connection to a provider is kept for the next collection (a TLS 1.3 handshake with client
    # certificates costs more than a call): below the providers' own idle timeout (30 s for openmydata's servers),
    # since a connection the server closes at that moment fails the call (which is then retried).
    provider_keepalive_s: float = Field(default=25.0, gt=0)
    # History ranges of scheduled calls (digest §10.4): from/to_date APIs at most `scheduled_history_days` days per
    # call (the long-range APIs of standard.schedule and from/to_month APIs: `scheduled_history_months` months);
    # period-filtered APIs (통신-002) ask for this month and `scheduled_period_months - 1` before it.
    scheduled_history_days: int = Field(default=31, ge=1, le=31)
    scheduled_history_months: int = Field(default=3, ge=1, le=3)
    scheduled_period_months: int = Field(default=2, ge=1, le=3)

    # Durable collection jobs (kit.jobs). "embedded": an in-process worker pool over the operator's own database
    # (the demo's default); "dramatiq": workers in other processes (`openmydata operator worker`) fed through
    # RabbitMQ at `jobs_broker_url`. `jobs_run_in_app`: whether the web app's process runs jobs itself (embedded)
    # or publishes them (dramatiq); off for an API process that leaves all work to workers.
    jobs_backend: Literal["embedded", "dramatiq"] = "embedded"
    jobs_broker_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    jobs_queue: str = "openmydata.operator.collect"
    jobs_run_in_app: bool = True
    # Jobs run at once per process: collection waits on the network, so a person's 50 institutions run together.
    jobs_concurrency: int = Field(default=64, ge=1, le=1024)
    jobs_poll_interval_s: float = Field(default=1.0, gt=0)
    jobs_lease_s: float = Field(default=30.0, gt=0)
    jobs_max_attempts: int = Field(default=10, ge=1)
    jobs_backoff_base_s: float = Field(default=5.0, ge=0)
    jobs_backoff_max_s: float = Field(default=1800.0, ge=0)
    jobs_retention_s: float = Field(default=7 * 86400, ge=0)
    # Data older than this (one weekly cycle and a day) is shown as stale, as is any whose last collection failed.
    stale_after_s: float = Field(default=8 * 86400, gt=0)
    # How long POST /api/consents/complete and /api/me/refresh wait for the collection they start ("wait": true).
    collection_wait_s: float = Field(default=60.0, ge=0)
    # The scheduler (정기적 전송): every `schedule_interval_s` seconds (0 disables) it enqueues the scheduled
    # collections that are due, `schedule_batch` consents per transaction.
    schedule_interval_s: float = Field(default=60.0, ge=0)
    schedule_batch: int = Field(default=500, ge=1, le=10000)

    # Resilience towards each provider: a token bucket of `provider_rate_per_s` calls per second (burst
    # `provider_burst`; per-org overrides in `provider_rates`, e.g. {"A1AAAA0000": [5, 5]}), shared by every
    # process through Redis when `rate_limit_redis_url` is set; a circuit breaker that opens after
    # `breaker_failures` failures in a row for `breaker_reset_s`; `retry_attempts` tries of one call with full-jitter
    # back-off between `retry_base_s` and `retry_max_s` (a longer Retry-After leaves it to the job's next attempt).
    provider_rate_per_s: float = Field(default=50.0, gt=0)
    provider_burst: int = Field(default=50, ge=1)
    provider_rates: dict[str, tuple[float, int]] = Field(default_factory=dict)
    rate_limit_redis_url: str = ""
    breaker_failures: int = Field(default=5, ge=1)
    breaker_reset_s: float = Field(default=30.0, gt=0)
    retry_attempts: int = Field(default=4, ge=1, le=10)
    retry_base_s: float = Field(default=0.2, ge=0)
    retry_max_s: float = Field(default=10.0, ge=0)
    registry_max_age_s: int = Field(default=300, ge=0)
    # 개별인증 (operator.individual): where each provider serves its own login page to people's browsers, by org_code
    # (the public base URL; 지원-002's `domain` is the mutual-TLS API base, which browsers cannot use). Deployment
    # configuration, used only to build the redirect to `<url>/oauth/2.0/authorize`; a provider not listed here
    # is connected through 통합인증 only. From the environment as JSON: {"A1AAAA0000": "https://login.bank.example"}.
    provider_public_urls: dict[str, str] = Field(default_factory=dict)
    # Providers that speak another standard than the financial one, by org_code (`standard.profiles`: a telecom
    # operator on the 2025 nationwide standard serves 통신(전국)-001…004). The portal's registry does not say so
    # (unconfirmed for the nationwide platform), so it is deployment configuration: {"F1AAAA0000": "nationwide"}.
    provider_profiles: dict[str, Literal["financial", "nationwide"]] = Field(default_factory=dict)
    cookie_secure: bool = False
    # Envelope encryption of the personal data held (crypto-shredding): the key manager that wraps the per-person
    # data keys. "local": master keys in `key_file` (created on first start, mode 0600; without a value, next to
    # a SQLite database file, else DEFAULT_DATA_DIR/operator-keys.json). "vault": HashiCorp Vault transit at
    # `vault_url` with a key created with derived=true (`vault write -f transit/keys/<vault_key_name> derived=true`).
    key_manager: Literal["local", "vault"] = "local"
    key_file: Path | None = None
    vault_url: str = ""
    vault_token: str = ""
    vault_key_name: str = "openmydata-operator"
    vault_mount: str = "transit"
    vault_namespace: str | None = None

    def key_file_path(self) -> Path:
        """The local key file: `key_file`, else next to the SQLite database file, else under DEFAULT_DATA_DIR."""
        if self.key_file is not None:
            return self.key_file
        if is_sqlite(self.database_url):
            database = make_url(self.database_url).database
            if database and database != ":memory:":
                return Path(database).parent / KEY_FILE_NAME
        return DEFAULT_DATA_DIR / KEY_FILE_NAME
