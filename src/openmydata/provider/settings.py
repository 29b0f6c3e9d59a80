"""Provider settings (environment prefix `OPENMYDATA_PROVIDER_`)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from openmydata.kit.settings import DEFAULT_DATA_DIR, ServiceSettings
from openmydata.provider.faults import OutageWindow
from openmydata.standard.codes import CODES, RspCode
from openmydata.standard.schedule import SCHEDULED_LONG_RANGE_APIS, Windows

DAY_S = 86_400


class ProviderSettings(ServiceSettings):
    """What one running provider (정보제공자) needs: who it is, which sectors it serves, where its peers are.

    `support_client_*` call the portal's 지원 APIs, `ca_client_*` call certauth's sign verification. The
    operators' service credentials are never configured here: they come from the portal (지원-003).
    """

    model_config = SettingsConfigDict(env_prefix="OPENMYDATA_PROVIDER_", extra="ignore")

    org_code: str = "PROVIDER01"
    org_name: str = "오픈뱅크"
    industries: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["bank"])
    # Which standard the information APIs and response codes follow (`standard.profiles`): the financial one, or
    # the 2025 nationwide one (telecom only: 통신(전국)-001…004, codes 20001/20002/40107/40108 …).
    standard_profile: Literal["financial", "nationwide"] = "financial"
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'provider.db'}"
    public_url: str = "http://127.0.0.1:8003"
    portal_url: str = ""  # empty: no registry sync (the registry tables are seeded otherwise)
    certauth_url: str = ""
    ca_code: str = "CERTAUTH01"
    support_client_id: str = ""
    support_client_secret: str = ""
    ca_client_id: str = ""
    ca_client_secret: str = ""
    # The relays (중계기관, `provider.relay`) this institution is behind, by org_code: a call over a connection from
    # one of them is identified by the certificate it forwards (RFC 9440 Client-Cert), not by the relay's own.
    relay_org_codes: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Set these in production: the random defaults invalidate every token and cursor at restart and differ
    # between processes behind one load balancer.
    token_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    cursor_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    access_token_ttl_s: int = Field(default=90 * DAY_S, ge=60, le=90 * DAY_S)
    refresh_token_ttl_s: int = Field(default=365 * DAY_S, ge=60, le=365 * DAY_S)

    # "certauth": ask the CA (sign_verification); "local": verify the CMS here against consent_trust_roots_file.
    consent_verifier: Literal["certauth", "local"] = "certauth"
    consent_trust_roots_file: Path | None = None

    # History ranges per x-api-type (digest §10.4); months are calendar months back from the range end.
    history_user_consent_months: int = Field(default=12, ge=1)
    history_user_refresh_months: int = Field(default=12, ge=1)
    history_user_search_months: int = Field(default=60, ge=1)
    history_scheduled_days: int = Field(default=31, ge=1)
    history_scheduled_months: int = Field(default=3, ge=1)
    scheduled_long_range_apis: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(SCHEDULED_LONG_RANGE_APIS)
    )
    lookback_years: int = Field(default=5, ge=1)

    # 정보제공-공통-001
    api_version: str = "v1"
    api_min_version: str = "v1"

    # Abuse limits: information API calls per access token in any sliding minute (beyond → 429 42901 with
    # Retry-After; kept in memory per process), and the largest request body read (beyond → 40001 / invalid_request).
    rate_limit_per_minute: int = Field(default=600, ge=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)

    # Scheduled transmission (정기적 전송, digest §4.2, §10.4; `standard.schedule`). The windows enforced on
    # `x-api-type: scheduled` calls (50009 outside them) are those the portal publishes for this org_code in 지원-002;
    # when it publishes none, `scheduled_windows` (hhmm:hhmm, Asia/Seoul, comma-separated, registered by the
    # standard's rules: 1–3 windows of 30-minute granularity, at least 6 hours a day) applies; empty = none
    # published, nothing enforced. `enforce_scheduled_cycle`: at most the consent's cycle of scheduled
    # transmissions per consent, API, asset and calendar period (42901).
    scheduled_windows: Annotated[list[str], NoDecode] = Field(default_factory=list)
    enforce_scheduled_cycle: bool = True

    # An unknown client_id at the token endpoint triggers a registry re-sync at most this often; besides, the
    # registry (지원-002/003 deltas) is re-read every `registry_sync_interval_s` seconds (0: at start-up only), so
    # windows the portal publishes for this provider are enforced soon after operators can read them.
    registry_resync_interval_s: float = Field(default=5.0, ge=0)
    registry_sync_interval_s: float = Field(default=300.0, ge=0)

    # The portal's calls (지원-101 token, then 지원-102/104): the pair the portal was issued for calling this
    # provider (empty disables 지원-101), and how its client certificate is recognised (the portal is not in its
    # own registry: its org_code and SERIALNUMBER are configured, as at the operator). 지원-101 tokens are HS256
    # with a key derived from token_secret, at most one year, no refresh token (§10.4).
    portal_client_id: str = ""
    portal_client_secret: str = ""
    portal_org_code: str = "W1PRTL0000"
    portal_serial_num: str = ""
    portal_token_lifetime_s: int = Field(default=30 * DAY_S, ge=60, le=365 * DAY_S)
    # Weekly statistics (지원-005, provider.statistics): checked every `statistics_interval_s` seconds in the app's
    # lifespan (first check one interval after start; 0 disables), the latest due week is sent once. Band 01 of
    # the two time bands is the peak window `statistics_peak_hours` (HHMM-HHMM, Asia/Seoul), band 02 the rest.
    statistics_interval_s: float = Field(default=3600, ge=0)
    statistics_peak_hours: str = "0900-1800"
    # 지원-102: "01" when the database answers and at most `availability_max_error_rate` of the information API
    # calls of the last `availability_window_s` seconds failed on this side (HTTP 5xx; judged from
    # `availability_min_calls` calls on), else "02"; `maintenance` answers "03".
    availability_window_s: int = Field(default=300, ge=1)
    availability_max_error_rate: float = Field(default=0.5, ge=0, le=1)
    availability_min_calls: int = Field(default=10, ge=1)
    maintenance: bool = False

    # Fault injection (`provider.faults`, for tests and benchmarks; off by default: with none of these set no fault
    # middleware is installed). On the information APIs (every path with `fault_all_paths`): added latency —
    # `fault_latency_ms` fixed, or the median of a `uniform` (± `fault_latency_jitter_ms`) or `lognormal` (99th
    # percentile `fault_latency_ms + fault_latency_jitter_ms`) distribution; `fault_slow_page_ms` more for a call
    # carrying `next_page`; a `fault_error_rate` of calls answered `fault_error_code` (at the code's HTTP status, or
    # `fault_error_status`); outages — the `fault_outage` switch or daily `fault_outage_windows` (HH:MM-HH:MM,
    # Asia/Seoul, comma-separated) — answered `fault_outage_code` at `fault_outage_status`; a `fault_truncate_rate`
    # of responses cut short. Retry-After (429/503): to the end of the window, else `fault_retry_after_s`.
    # Random draws come from `random.Random(fault_seed)`.
    fault_latency_ms: float = Field(default=0, ge=0)
    fault_latency_distribution: Literal["fixed", "uniform", "lognormal"] = "fixed"
    fault_latency_jitter_ms: float = Field(default=0, ge=0)
    fault_slow_page_ms: float = Field(default=0, ge=0)
    fault_error_rate: float = Field(default=0, ge=0, le=1)
    fault_error_code: RspCode = RspCode.SYSTEM_FAILURE
    fault_error_status: int | None = Field(default=None, ge=400, le=599)
    fault_outage: bool = False
    fault_outage_windows: Annotated[list[str], NoDecode] = Field(default_factory=list)
    fault_outage_code: RspCode = RspCode.MAINTENANCE
    fault_outage_status: int | None = Field(default=503, ge=400, le=599)
    fault_retry_after_s: int = Field(default=1, ge=0)
    fault_truncate_rate: float = Field(default=0, ge=0, le=1)
    fault_seed: int = 0
    fault_all_paths: bool = False

    @field_validator("scheduled_windows")
    @classmethod
    def _scheduled_windows(cls, value: list[str]) -> list[str]:
        if value:
            Windows.parse(value).check_registration()
        return value

    @field_validator("fault_outage_windows")
    @classmethod
    def _outage_windows(cls, value: list[str]) -> list[str]:
        for text in value:
            OutageWindow.parse(text)
        return value

    @model_validator(mode="after")
    def _latency_distribution(self) -> ProviderSettings:
        if self.fault_latency_distribution == "lognormal" and not (
            self.fault_latency_ms > 0 and self.fault_latency_jitter_ms > 0
        ):
            raise ValueError("a lognormal latency needs fault_latency_ms (median) and fault_latency_jitter_ms > 0")
        return self

    @field_validator("fault_error_code", "fault_outage_code")
    @classmethod
    def _error_code(cls, value: RspCode) -> RspCode:
        if CODES[value].http_status < 400:
            raise ValueError(f"{value.value} is not an error code")
        return value

    @field_validator(
        "industries",
        "scheduled_long_range_apis",
        "relay_org_codes",
        "fault_outage_windows",
        "scheduled_windows",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """From the environment: `bank,card` or a JSON list."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value
