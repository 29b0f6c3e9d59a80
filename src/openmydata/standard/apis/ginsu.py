"""Guarantee insurance (보증보험-001…003, `/v1/ginsu/...`, digest §6.8; scopes ginsu.list, ginsu.insurance).

보증보험-001 lists the person's guarantee insurance contracts (`insu_num`: 이행보증, 신원보증, 전세금보장 …);
보증보험-002 gives one contract's basics and 보증보험-003 its premium payments. Everything after the list is POST
with a JSON body.

The project's readings where the digest is silent (each also in the spec's `note`): the list is not paged
(as 보험-001); 보증보험-002 carries `insured_cnt` (every list has a count; an operator's schema stores it) and no
currency (KRW); 보증보험-003 pages like every ranged history (next_page/limit); `pay_due` and `pay_method` are
aN(2) codes stored as given (the sandbox's meanings are in `openmydata.sandbox.ginsu.CODES`).

Field types are named aliases: mypy sees the plain Python type, pydantic the standard's constrained type.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from openmydata.standard.catalogue import ApiSpec, CycleClass, Kind, Sector, Source
from openmydata.standard.models import (
    DateRange,
    InfoRequest,
    PagedRequest,
    PagedResponse,
    StampedRequest,
    StampedResponse,
)
from openmydata.standard.types import DATE, Bool, StandardModel

if TYPE_CHECKING:
    InsuNum = str
    Stamp = str
    TransNo = str
    Code2 = str
    Name = str
    PartyName = str
    Amount = Decimal
    Count = int
else:
    from openmydata.standard.types import AH, F, N, aN, aNS

    InsuNum = aNS(20)
    Stamp = aNS(14)
    TransNo = aNS(64)
    Code2 = aN(2)
    Name = AH(300)
    PartyName = AH(90)
    Amount = F(18, 3)
    Count = N(3)

INSU_KEY = {"insu_num": "insu_num"}


# 보증보험-001
class GuaranteeInsurance(StandardModel):
    insu_num: InsuNum
    is_consent: Bool
    prod_name: Name
    insu_type: Code2  # 보험종류
    insu_status: Code2  # 계약상태


class GuaranteeListResponse(StampedResponse):
    insu_cnt: Count
    insu_list: list[GuaranteeInsurance]


# 보증보험-002
class GuaranteeRequest(InfoRequest):
    insu_num: InsuNum
    search_timestamp: Stamp | None = None


class Insured(StandardModel):
    insured_name: PartyName  # 피보험자: the party the guarantee protects (a landlord's tenant, an employer …)


class GuaranteeBasicResponse(StampedResponse):
    issue_date: DATE
    exp_date: DATE
    face_amt: Amount  # 보험가입금액
    pay_due: Code2  # 납입기간구분
    pay_amt: Amount  # 보험료
    insured_cnt: Count
    insured_list: list[Insured]


# 보증보험-003
class GuaranteeHistoryRequest(DateRange, PagedRequest):
    insu_num: InsuNum


class GuaranteeTransaction(StandardModel):
    trans_date: DATE
    trans_no: TransNo
    paid_amt: Amount
    pay_method: Code2


class GuaranteeTransactionsResponse(PagedResponse):
    trans_cnt: Count
    trans_list: list[GuaranteeTransaction]


SPECS = [
    ApiSpec(
        id="보증보험-001",
        api_code="GI01",
        title="보증보험 목록 조회",
        sector=Sector.GINSU,
        method="GET",
        resource="/insurances",
        request=StampedRequest,
        response=GuaranteeListResponse,
        kind=Kind.ASSET_LIST,
        scope="ginsu.list",
        cycle=CycleClass.BASIC,
        list_field="insu_list",
        count_field="insu_cnt",
        record_model=GuaranteeInsurance,
        search_timestamp=True,
        asset_id_field="insu_num",
        record_key=("insu_num",),
        note=(
            "Not paged, like 보험-001 (org_code and search_timestamp only). insu_num is aNS(20); insu_type and "
            "insu_status are aN(2) codes stored as given."
        ),
    ),
    ApiSpec(
        id="보증보험-002",
        api_code="GI02",
        title="보증보험 기본정보 조회",
        sector=Sector.GINSU,
        method="POST",
        resource="/insurances/basic",
        request=GuaranteeRequest,
        response=GuaranteeBasicResponse,
        kind=Kind.ASSET_INFO,
        scope="ginsu.insurance",
        cycle=CycleClass.BASIC,
        search_timestamp=True,
        asset_field="insu_num",
        key_fields=("insu_num",),
        source=Source("보증보험-001", INSU_KEY),
        note=(
            "insured_cnt (the count of insured_list) is the project's addition; insured_name AH(90) names the "
            "insured party; amounts are KRW (no currency_code in the digest); pay_due aN(2) stored as given."
        ),
    ),
    ApiSpec(
        id="보증보험-003",
        api_code="GI03",
        title="보증보험 거래내역 조회",
        sector=Sector.GINSU,
        method="POST",
        resource="/insurances/transactions",
        request=GuaranteeHistoryRequest,
        response=GuaranteeTransactionsResponse,
        kind=Kind.RECORDS,
        scope="ginsu.insurance",
        cycle=CycleClass.ADDITIONAL,
        list_field="trans_list",
        count_field="trans_cnt",
        record_model=GuaranteeTransaction,
        paged=True,
        asset_field="insu_num",
        key_fields=("insu_num",),
        range_fields=("from_date", "to_date"),
        record_period_field="trans_date",
        record_key=("trans_date", "trans_no"),
        source=Source("보증보험-001", INSU_KEY),
        note=(
            "Paged like every ranged history (next_page/limit; the digest lists the entries only); trans_no is "
            "aNS(64) and pay_method aN(2) stored as given."
        ),
    ),
]
