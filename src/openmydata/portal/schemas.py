"""The portal's own API models: the admin registration API (not part of the standard)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from openmydata.standard.apis.support import INDUSTRIES

OrgTypeCode = Literal["01", "02", "03", "04", "05", "06", "99"]
OrgCodeText = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{10}$")]
Regno = Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")]


def _reachable_url(value: str) -> str:
    """A URL other participants can call: it parses, names a host, and any port is in range."""
    try:
        url = httpx.URL(value)
        port = url.port
    except (httpx.InvalidURL, ValueError) as exc:
        raise ValueError("not a valid URL") from exc
    if not url.host or (port is not None and not 0 < port < 65536):
        raise ValueError("not a valid URL")
    return value


Url = Annotated[
    str, StringConstraints(pattern=r"^https?://[\x21-\x7e]+$", max_length=256), AfterValidator(_reachable_url)
]
Uri = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9+.\-]*:[\x21-\x7e]+$", max_length=100)]

PROVIDER_TYPES = frozenset({"01", "02", "04"})


def _at_most_300_bytes(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    if len(value.encode("utf-8")) > 300:
        raise ValueError("longer than 300 bytes of UTF-8 (Name)")
    return value


Name = Annotated[str, AfterValidator(_at_most_300_bytes)]


class AdminModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _industries(value: list[str]) -> list[str]:
    unknown = [item for item in value if item not in INDUSTRIES]
    if unknown:
        raise ValueError(f"unknown industries {unknown}; known: {', '.join(INDUSTRIES)}")
    if len(set(value)) != len(value):
        raise ValueError("industries are listed once each")
    return value


# A scheduled-transmission window as the admin API takes it: "hhmm:hhmm" (Asia/Seoul), e.g. "0030:0530". The shape
# is checked here; the standard's rules for what a provider registers (§10.4) in the service, with a plain message.
WindowText = Annotated[str, StringConstraints(max_length=16)]
WindowList = Annotated[list[WindowText], Field(max_length=24)]


class OrgRegistration(AdminModel):
    org_name: Name
    org_type: OrgTypeCode
    industries: list[str] = Field(default_factory=list)
    domain: Url
    org_regno: Regno
    auth_type: Literal["01", "03"] = "03"
    relay_org_code: OrgCodeText | None = None
    # An information provider's scheduled-transmission windows (지원-002 np_time_list); none: not published.
    np_time_list: WindowList | None = None

    _check_industries = field_validator("industries")(_industries)


class OrgUpdate(AdminModel):
    org_name: Name | None = None
    industries: list[str] | None = None
    domain: Url | None = None
    auth_type: Literal["01", "03"] | None = None
    relay_org_code: OrgCodeText | None = None
    # New windows replace the registered ones; [] withdraws them (none published).
    np_time_list: WindowList | None = None

    @field_validator("industries")
    @classmethod
    def _check(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _industries(value)


class OrgCredentials(BaseModel):
    """What registration hands out; `portal_client_*` (operators and providers) is the pair the portal calls the
    organisation's 지원-101 with (it configures it as its `portal_client_id/secret`)."""

    org_code: str
    support_client_id: str
    support_client_secret: str
    ca_client_id: str
    ca_client_secret: str
    portal_client_id: str | None = None
    portal_client_secret: str | None = None


class ServiceRegistration(AdminModel):
    org_code: OrgCodeText
    service_name: Name
    redirect_uri: Uri
    app_scheme: Uri | None = None


class ServiceUpdate(AdminModel):
    service_name: Name | None = None
    redirect_uri: Uri | None = None
    app_scheme: Uri | None = None


class ServiceCredentials(BaseModel):
    client_id: str
    client_secret: str


class OrgView(BaseModel):
    org_code: str
    org_type: str
    org_name: str
    industries: list[str]
    domain: str
    org_regno: str
    auth_type: str
    relay_org_code: str | None = None
    active: bool
    serial_num: str | None = None
    cert_fingerprints: list[str] = Field(default_factory=list)
    cert_issuer_dn: str | None = None
    cert_not_after: datetime | None = None
    np_time_list: list[str] = Field(default_factory=list)


class CertificateRegistration(AdminModel):
    """An organisation's TLS certificate (PEM) to register: its SERIALNUMBER must be the organisation's business
    registration number; its fingerprint joins the registered ones (the oldest drops out beyond three)."""

    certificate_pem: str = Field(min_length=100, max_length=20_000)


class ServiceView(BaseModel):
    client_id: str
    org_code: str
    service_name: str
    redirect_uri: str
    app_scheme: str | None = None
    active: bool


UserCi = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/=_-]{1,100}$")]


class ConsentLookup(AdminModel):
    """`POST /admin/consents`: whose consents to ask every operator about (지원-103)."""

    user_ci: UserCi


class OperatorConsents(BaseModel):
    """One operator's 지원-103 answer (`error` instead when it could not be asked or refused)."""

    org_code: str
    is_member: bool | None = None
    service_list: list[dict[str, Any]] = Field(default_factory=list)
    error: str | None = None


class ConsentLookupResult(BaseModel):
    operators: list[OperatorConsents]
