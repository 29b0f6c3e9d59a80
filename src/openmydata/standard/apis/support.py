"""Support APIs (지원): 지원-001…006 served by the portal (종합포털), 지원-101…104 served by operators and providers
and called by the portal (digest §5, §10.2, §10.4).

Readings of this project where the digest is silent or unconfirmed (also in each entry's `note`):
- api_code values (SU01…SU06, SU11…SU14) are this project's; the standard's 첨부12 codes were not seen;
- field lengths the digest does not give are generous maxima;
- 지원-002 lists one entry per (org, industry); deleted entries (op_type D) carry only the key fields;
- 지원-004/005 follow the weekly statistics of ch. 7 (§10.4), not the 2021 draft's token counts and hourly slots;
- 지원-006 hands each CA the credentials every organisation uses to call it (its fields are unconfirmed);
- 지원-002 also lists each organisation's registered TLS certificate fingerprints (`cert_fingerprint_cnt`,
  `cert_fingerprint_list[{cert_fingerprint}]`, SHA-256 hex, at most 3): the nationwide standard identifies
  organisations by fingerprint (digest §8) but its field names were not seen.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from openmydata.kit.clock import parse_date
from openmydata.standard.catalogue import ApiSpec, Kind, Sector, Served
from openmydata.standard.models import Envelope
from openmydata.standard.types import DATE, DTIME, Bool, StandardModel

# Named field types: mypy sees the plain Python type, pydantic the standard's constrained type.
if TYPE_CHECKING:
    ClientId = str
    ClientSecret = str
    OrgCode = str
    Industry = str
    TokenType = str
    Token = str
    Scope = str
    ConsentScope = str
    Stamp = str
    Ip = str
    TimeWindow = str
    Code2 = str
    ApiCode = str
    Text = str
    Regno = str
    CorpRegno = str
    SerialNum = str
    Domain = str
    IssuerDn = str
    Fingerprint = str
    Oid = str
    Uri = str
    UserCi = str
    Digit = int
    Count = int
    LongCount = int
    Millis = int
    TotalMillis = int
    Tally = int
    Seconds = int
else:
    from openmydata.standard.types import AH, B64, N, a, aN, aNS

    ClientId = aN(50)
    ClientSecret = aN(50)
    OrgCode = aN(10)
    Industry = aN(10)
    TokenType = a(6)
    Token = aNS(1500)
    Scope = aNS(128)
    ConsentScope = aNS(64)
    Stamp = aNS(14)
    Ip = aNS(40)
    TimeWindow = aNS(9)
    Code2 = aN(2)
    ApiCode = aN(4)
    Text = AH(300)
    Regno = aN(12)
    CorpRegno = aN(13)
    SerialNum = aNS(64)
    Domain = aNS(256)
    IssuerDn = aNS(256)
    Fingerprint = aN(64)
    Oid = aNS(256)
    Uri = aNS(100)
    UserCi = B64(100)
    Digit = N(1)
    Count = N(3)
    LongCount = N(5)
    Millis = N(6)
    TotalMillis = N(15)
    Tally = N(10)
    Seconds = N(9)

INDUSTRIES = ("bank", "card", "invest", "insu", "efin", "capital", "ginsu", "telecom", "p2p", "bond", "usury")
STAT_DAYS = 7
TIME_SLOTS = 2


class OrgType(StrEnum):
    """지원-002 org_type (§10.2)."""

    PROVIDER = "01"  # provider with its own API
    PROVIDER_VIA_RELAY = "02"
    OPERATOR = "03"
    RELAY = "04"
    CA_IDENTITY = "05"  # 인증서 본인확인기관
    CA_SIGNATURE = "06"  # 전자서명인증사업자
    PORTAL = "07"
    OTHER = "99"


class OpType(StrEnum):
    """지원-002/003 op_type: new, modified, deleted."""

    NEW = "I"
    MODIFIED = "M"
    DELETED = "D"


class AuthType(StrEnum):
    """지원-002 auth_type: 01 통합인증 only, 03 개별 and 통합."""

    INTEGRATED_ONLY = "01"
    BOTH = "03"


class Availability(StrEnum):
    """지원-102 availability."""

    UP = "01"
    FAILURE = "02"
    MAINTENANCE = "03"
    OTHER = "99"


class StatType(StrEnum):
    """지원-004/005 `type`: 1 scheduled, 2 user-involved; 지원-104 adds 0 (both)."""

    BOTH = "0"
    SCHEDULED = "1"
    USER = "2"


def _is_sunday(value: str) -> bool:
    return parse_date(value).weekday() == 6


def week_dates(inquiry_date: str) -> list[str]:
    """The seven stat_dates a weekly report sent on Sunday `inquiry_date` covers: the previous Sunday–Saturday."""
    sunday = parse_date(inquiry_date)
    start: date = sunday - timedelta(days=STAT_DAYS)
    return [(start + timedelta(days=offset)).strftime("%Y%m%d") for offset in range(STAT_DAYS)]


# 지원-001 / 지원-101
class SupportTokenRequest(StandardModel):
    grant_type: Literal["client_credentials"]
    client_id: ClientId
    client_secret: ClientSecret
    scope: Literal["manage"]


class SupportTokenResponse(StandardModel):
    token_type: TokenType = "Bearer"
    access_token: Token
    expires_in: Seconds
    scope: Scope


# 지원-002
class SearchRequest(StandardModel):
    search_timestamp: Stamp | None = None


class DomainIp(StandardModel):
    domain_ip: Ip


class ClientIp(StandardModel):
    ip: Ip


class NpTime(StandardModel):
    np_time: TimeWindow  # hhmm:hhmm, a scheduled-transmission window (§10.4)


class CertFingerprint(StandardModel):
    cert_fingerprint: Fingerprint


class OrgEntry(StandardModel):
    op_type: Literal["I", "M", "D"]
    org_code: OrgCode
    industry: Industry | None = None
    org_type: Code2 | None = None
    is_rcv_org: Bool | None = None
    org_name: Text | None = None
    org_regno: Regno | None = None
    corp_regno: CorpRegno | None = None
    serial_num: SerialNum | None = None
    address: Text | None = None
    domain: Domain | None = None
    domain_ip_cnt: Count | None = None
    domain_ip_list: list[DomainIp] | None = None
    relay_org_code: OrgCode | None = None
    auth_type: Code2 | None = None
    cert_issuer_dn: IssuerDn | None = None
    cert_oid: Oid | None = None
    cert_fingerprint_cnt: Digit | None = None
    cert_fingerprint_list: list[CertFingerprint] | None = None
    ip_cnt: Count | None = None
    ip_list: list[ClientIp] | None = None
    np_time_cnt: Digit | None = None
    np_time_list: list[NpTime] | None = None


class OrgListResponse(Envelope):
    search_timestamp: Stamp | None = None
    org_cnt: LongCount = 0
    org_list: list[OrgEntry] = Field(default_factory=list)


# 지원-003
class ServiceEntry(StandardModel):
    service_name: Text | None = None
    op_type: Literal["I", "M", "D"]
    client_id: ClientId
    client_secret: ClientSecret | None = None
    redirect_uri: Uri | None = None
    app_scheme: Uri | None = None
    client_ip_cnt: Count | None = None
    client_ip_list: list[ClientIp] | None = None


class ServiceOrg(StandardModel):
    org_code: OrgCode
    service_cnt: Count
    service_list: list[ServiceEntry]


class ServiceListResponse(Envelope):
    search_timestamp: Stamp | None = None
    org_cnt: LongCount = 0
    org_list: list[ServiceOrg] = Field(default_factory=list)


# 지원-004 / 지원-005 (weekly statistics, ch. 7 as in §10.4)
class TimeSlotStat(StandardModel):
    tm_slot: Code2  # 첨부11 time band code
    rsp_avg: Millis  # ms
    rsp_total: TotalMillis  # ms
    rsp_stdev: Millis  # ms
    success_api_cnt: Tally
    fail_api_cnt: Tally


class ApiTypeStat(StandardModel):
    api_type: ApiCode  # 첨부12 API code
    tm_slot_cnt: Digit
    tm_slot_list: list[TimeSlotStat]

    @model_validator(mode="after")
    def _count(self) -> ApiTypeStat:
        if self.tm_slot_cnt != len(self.tm_slot_list):
            raise ValueError("tm_slot_cnt does not match tm_slot_list")
        return self


class CounterpartStat(StandardModel):
    """One counterpart's figures on one day: consents and per-API response statistics."""

    org_code: OrgCode
    consent_new: Tally = 0
    consent_revoke: Tally = 0
    consent_own: Tally | None = None  # user-involved (type 2) reports only
    api_type_cnt: Count
    api_type_list: list[ApiTypeStat]

    @model_validator(mode="after")
    def _count(self) -> CounterpartStat:
        if self.api_type_cnt != len(self.api_type_list):
            raise ValueError("api_type_cnt does not match api_type_list")
        return self


class StatDate(StandardModel):
    stat_date: DATE
    org_cnt: LongCount
    org_list: list[CounterpartStat]

    @model_validator(mode="after")
    def _count(self) -> StatDate:
        if self.org_cnt != len(self.org_list):
            raise ValueError("org_cnt does not match org_list")
        return self


class WeeklyStatistics(StandardModel):
    """Fields shared by 지원-004 and 지원-005: a weekly report sent on a Sunday with daily rows for the previous
    Sunday to Saturday, for one `type` and one operator service."""

    type: Literal["1", "2"]
    client_id: ClientId
    inquiry_date: DATE
    stat_date_cnt: Digit
    stat_date_list: list[StatDate]

    @field_validator("type", mode="before")
    @classmethod
    def _type_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _week(self) -> WeeklyStatistics:
        if not _is_sunday(self.inquiry_date):
            raise ValueError("inquiry_date must be a Sunday")
        if self.stat_date_cnt != len(self.stat_date_list):
            raise ValueError("stat_date_cnt does not match stat_date_list")
        allowed = set(week_dates(self.inquiry_date))
        dates = [row.stat_date for row in self.stat_date_list]
        if len(set(dates)) != len(dates) or not set(dates) <= allowed:
            raise ValueError("stat_date values are the distinct days of the week before inquiry_date")
        if self.type == StatType.SCHEDULED.value and any(
            org.consent_own is not None for row in self.stat_date_list for org in row.org_list
        ):
            raise ValueError("consent_own belongs to user-involved (type 2) reports only")
        return self


class OperatorStatisticsRequest(WeeklyStatistics):
    """지원-004: the operator's report; org_list rows are the providers it called."""

    mydata_org_code: OrgCode


class ProviderStatisticsRequest(WeeklyStatistics):
    """지원-005: the provider's report on one operator service; org_list rows name that operator."""

    org_code: OrgCode
    mydata_org_code: OrgCode


# 지원-006
class CaOrgEntry(StandardModel):
    org_code: OrgCode
    org_type: Code2
    org_name: Text
    ca_client_id: ClientId
    ca_client_secret: ClientSecret


class CaOrgListRequest(StandardModel):
    pass


class CaOrgListResponse(Envelope):
    org_cnt: LongCount = 0
    org_list: list[CaOrgEntry] = Field(default_factory=list)


# 지원-102
class StatusRequest(StandardModel):
    org_code: OrgCode


class StatusResponse(Envelope):
    availability: Literal["01", "02", "03", "99"]


# 지원-103
class MemberConsentsRequest(StandardModel):
    org_code: OrgCode
    user_ci: UserCi


class MemberConsent(StandardModel):
    org_code: OrgCode  # the provider the consent is addressed to
    scope: ConsentScope
    consent_date: DTIME
    consent_end_date: DTIME


class MemberService(StandardModel):
    client_id: ClientId
    consent_cnt: LongCount
    consent_list: list[MemberConsent]


class MemberConsentsResponse(Envelope):
    is_member: Bool
    service_cnt: Count = 0
    service_list: list[MemberService] = Field(default_factory=list)


# 지원-104
class StatisticsResendRequest(StandardModel):
    org_code: OrgCode
    org_type: Literal["01", "02", "03"]
    type: Literal["0", "1", "2"]
    inquiry_date: DATE

    @field_validator("type", mode="before")
    @classmethod
    def _type_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("inquiry_date")
    @classmethod
    def _sunday(cls, value: str) -> str:
        if not _is_sunday(value):
            raise ValueError("inquiry_date must be a Sunday")
        return value


TOKEN_NOTE = (
    "client_credentials with scope manage; the token is a JWS (HS256) lasting at most one year and there is no "
    "refresh token (§10.4)."
)

SPECS = [
    ApiSpec(
        id="지원-001",
        api_code="SU01",
        title="접근토큰 발급 (종합포털)",
        sector=Sector.SUPPORT,
        method="POST",
        resource="/mgmts/oauth/2.0/token",
        version=None,
        request=SupportTokenRequest,
        response=SupportTokenResponse,
        kind=Kind.SUPPORT,
        served_by=Served.PORTAL,
        note=TOKEN_NOTE + " Credentials are the support pair the portal issued at registration.",
    ),
    ApiSpec(
        id="지원-002",
        api_code="SU02",
        title="기관정보 조회",
        sector=Sector.SUPPORT,
        method="GET",
        resource="/mgmts/orgs",
        request=SearchRequest,
        response=OrgListResponse,
        kind=Kind.SUPPORT,
        served_by=Served.PORTAL,
        list_field="org_list",
        count_field="org_cnt",
        search_timestamp=True,
        note="One org_list entry per (org, industry). With search_timestamp only entries changed after it are "
        "sent (00001 when none); op_type D entries carry op_type, org_code and industry only. serial_num is the "
        "SERIALNUMBER of the organisation's TLS certificate; cert_fingerprint_list (unconfirmed names, from the "
        "nationwide standard's fingerprint rule) its registered certificates' SHA-256 fingerprints, at most 3. "
        "np_time_cnt / np_time_list[{np_time}]: a provider's scheduled-transmission windows (hhmm:hhmm, Asia/Seoul; "
        "1–3 windows of 30-minute granularity, at least 6 hours a day, §10.4), omitted when it registered none; "
        "scheduled calls outside them get 50009 (`standard.schedule`).",
    ),
    ApiSpec(
        id="지원-003",
        api_code="SU03",
        title="서비스정보 조회",
        sector=Sector.SUPPORT,
        method="GET",
        resource="/mgmts/services",
        request=SearchRequest,
        response=ServiceListResponse,
        kind=Kind.SUPPORT,
        served_by=Served.PORTAL,
        list_field="org_list",
        count_field="org_cnt",
        search_timestamp=True,
        note="GET as in the spec list (one client used POST). One redirect_uri per service is distributed; the "
        "limit of four callback URLs (§10.4) is not modelled. Deleted services carry client_id and op_type only.",
    ),
    ApiSpec(
        id="지원-004",
        api_code="SU04",
        title="통계자료 전송 (마이데이터사업자)",
        sector=Sector.SUPPORT,
        method="POST",
        resource="/mgmts/statistics/mydata",
        request=OperatorStatisticsRequest,
        response=Envelope,
        kind=Kind.SUPPORT,
        served_by=Served.PORTAL,
        note="Weekly report per §10.4 (ch. 7): inquiry_date a Sunday, seven daily rows for the week before, one "
        "report per (service, type). A re-send for the same week replaces the earlier one.",
    ),
    ApiSpec(
        id="지원-005",
        api_code="SU05",
        title="통계자료 전송 (정보제공자)",
        sector=Sector.SUPPORT,
        method="POST",
        resource="/mgmts/statistics/provider",
        request=ProviderStatisticsRequest,
        response=Envelope,
        kind=Kind.SUPPORT,
        served_by=Served.PORTAL,
        note="As 지원-004, sent by a provider about one operator service (mydata_org_code + client_id); the "
        "field layout of the provider's report is this project's reading.",
    ),
    ApiSpec(
        id="지원-006",
        api_code="SU06",
        title="기관정보 조회 (인증기관)",
        sector=Sector.SUPPORT,
        method="GET",
        resource="/mgmts/orgs_for_ca",
        request=CaOrgListRequest,
        response=CaOrgListResponse,
        kind=Kind.SUPPORT,
        served_by=Served.PORTAL,
        list_field="org_list",
        count_field="org_cnt",
        note="Fields unconfirmed: every registered organisation with the client_id/secret it uses to call the "
        "asking CA. Only a token of a CA organisation (org_type 05/06) may call it.",
    ),
    ApiSpec(
        id="지원-101",
        api_code="SU11",
        title="접근토큰 발급 (종합포털용)",
        sector=Sector.SUPPORT,
        method="POST",
        resource="/mgmts/oauth/2.0/token",
        version=None,
        request=SupportTokenRequest,
        response=SupportTokenResponse,
        kind=Kind.SUPPORT,
        served_by=Served.PROVIDER_AND_OPERATOR,
        note=TOKEN_NOTE + " The portal calls it with the pair the served organisation was given for that.",
    ),
    ApiSpec(
        id="지원-102",
        api_code="SU12",
        title="정보제공자 상태 조회",
        sector=Sector.SUPPORT,
        method="GET",
        resource="/mgmts/status",
        request=StatusRequest,
        response=StatusResponse,
        kind=Kind.SUPPORT,
        served_by=Served.PROVIDER,
        note="availability 01 up, 02 failure, 03 maintenance, 99 other (§10.2).",
    ),
    ApiSpec(
        id="지원-103",
        api_code="SU13",
        title="정보주체 전송요구 내역 조회",
        sector=Sector.SUPPORT,
        method="POST",
        resource="/mgmts/consents",
        request=MemberConsentsRequest,
        response=MemberConsentsResponse,
        kind=Kind.SUPPORT,
        served_by=Served.OPERATOR,
        note="Served by the operator (§10.4 resolves §1.1): currently valid consents only; consent_end_date "
        "equals 공통-002 end_date.",
    ),
    ApiSpec(
        id="지원-104",
        api_code="SU14",
        title="통계자료 재전송 요청",
        sector=Sector.SUPPORT,
        method="GET",
        resource="/mgmts/req-statistics",
        request=StatisticsResendRequest,
        response=Envelope,
        kind=Kind.SUPPORT,
        served_by=Served.PROVIDER_AND_OPERATOR,
        note="The organisation answers 00000 and re-sends the week through 지원-004/005. The addressed org is "
        "named org_code (the 2021 draft's mydata_org_code); org_type 01 operator, 02 other receiver, 03 "
        "provider; type 0 both, 1 scheduled, 2 user-involved.",
    ),
]

__all__ = ["INDUSTRIES", "SPECS", "AuthType", "Availability", "OpType", "OrgType", "StatType", "week_dates"]
