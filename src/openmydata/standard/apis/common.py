"""정보제공-공통-001 (API list) and 정보제공-공통-002 (the live consent), digest §6.0."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openmydata.standard.catalogue import ApiSpec, Kind, Sector
from openmydata.standard.consent import TransmissionCycle
from openmydata.standard.models import Envelope, InfoRequest
from openmydata.standard.types import DTIME, Bool, StandardModel

# Named field types: mypy sees the plain Python type, pydantic the standard's constrained type.
if TYPE_CHECKING:
    OrgCode = str
    ApiCode = str
    ApiUri = str
    Version = str
    Purpose = str
    Count = int
else:
    from openmydata.standard.types import AH, N, aN, aNS

    OrgCode = aN(10)
    ApiCode = aN(4)
    ApiUri = aNS(100)
    Version = aNS(10)
    Purpose = AH(300)
    Count = N(3)


class ApiListRequest(StandardModel):
    org_code: OrgCode


class ApiEntry(StandardModel):
    api_code: ApiCode
    api_uri: ApiUri


class ApiListResponse(Envelope):
    version: Version
    min_version: Version
    api_cnt: Count
    api_list: list[ApiEntry]


class ConsentResponse(Envelope):
    is_scheduled: Bool
    cycle: TransmissionCycle | None = None
    end_date: DTIME
    purpose: Purpose
    period: DTIME
    is_consent_trans_memo: Bool | None = None
    is_consent_merchant_name_regno: Bool | None = None
    is_consent_trans_category: Bool | None = None


SPECS = [
    ApiSpec(
        id="정보제공-공통-001",
        api_code="CM01",
        title="API 목록 조회",
        sector=Sector.COMMON,
        method="GET",
        resource="/apis",
        version=None,
        request=ApiListRequest,
        response=ApiListResponse,
        kind=Kind.API_LIST,
    ),
    ApiSpec(
        id="정보제공-공통-002",
        api_code="CM02",
        title="전송요구 내역 조회",
        sector=Sector.COMMON,
        method="GET",
        resource="/consents",
        request=InfoRequest,
        response=ConsentResponse,
        kind=Kind.CONSENT,
        note="Served under every industry the provider serves (/v1/<industry>/consents); scope <industry>.list.",
    ),
]
