"""P2P lending (온라인투자연계금융, P2P-001…004, `/v1/p2p/...`, digest §6.8).

The digest gives the paths, methods and cycles only; its fields are unconfirmed. Every field below is the
project's reading: names from a v2-era implementation (digest §10.1 S3, `p2p/P2p00x`), which agree with the
naming of the neighbouring loan APIs (은행-008…010, 할부금융-002…004):
- P2P-001 lists the person's loan contracts (`lending_id` 대출계약번호, product type `type`, contract amount
  `lending_amt`, loan date `issue_date`);
- P2P-002 (기본) one contract's terms: `exp_date`, `offered_rate`, `repay_method`, and for loans secured by real
  estate the `ltv_rate`;
- P2P-003 (추가) its state: `balance_amt` and the next instalment (`next_repay_cnt`, `next_repay_date`, the
  scheduled `principal_amt` and `int_amt`), the next-instalment fields omitted once nothing is due;
- P2P-004 (추가) its repayments: `trans_dtime`, instalment number `repay_cnt`, `repay_type`, `trans_amt`
  split into `principal_amt` and `int_amt`.

Requests follow the bank loan APIs: `lending_id` plus search_timestamp, or a date range with paging. Codes
(`type`, `repay_method`, `repay_type`) are unconfirmed and stored as given.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from openmydata.standard.catalogue import ApiSpec, CycleClass, Kind, Sector, Source
from openmydata.standard.models import (
    DateRange,
    InfoRequest,
    ListRequest,
    ListResponse,
    PagedRequest,
    PagedResponse,
    StampedResponse,
)
from openmydata.standard.types import DATE, DATE_OR_DTIME, Bool, StandardModel

if TYPE_CHECKING:
    LendingId = str
    Stamp = str
    Code2 = str
    Amount = Decimal
    Rate = Decimal
    LtvRate = Decimal
    Count = int
    RepayCount = int
else:
    from openmydata.standard.types import F, N, aN, aNS

    LendingId = aNS(64)
    Stamp = aNS(14)
    Code2 = aN(2)
    Amount = F(18, 3)
    Rate = F(5, 3)
    LtvRate = F(6, 3)
    Count = N(3)
    RepayCount = N(5)

LENDING_KEY = {"lending_id": "lending_id"}


class LendingRequest(InfoRequest):
    lending_id: LendingId
    search_timestamp: Stamp | None = None


class LendingHistoryRequest(DateRange, PagedRequest):
    lending_id: LendingId


# P2P-001
class Lending(StandardModel):
    lending_id: LendingId
    is_consent: Bool
    type: Code2  # 상품유형
    lending_amt: Amount
    issue_date: DATE


class LendingListResponse(ListResponse):
    lending_cnt: Count
    lending_list: list[Lending]


# P2P-002
class LendingBasicResponse(StampedResponse):
    exp_date: DATE
    offered_rate: Rate
    repay_method: Code2
    ltv_rate: LtvRate | None = None


# P2P-003
class LendingDetailResponse(StampedResponse):
    balance_amt: Amount
    next_repay_cnt: RepayCount | None = None
    next_repay_date: DATE | None = None
    principal_amt: Amount | None = None
    int_amt: Amount | None = None


# P2P-004
class Repayment(StandardModel):
    trans_dtime: DATE_OR_DTIME
    repay_cnt: RepayCount
    repay_type: Code2
    trans_amt: Amount
    principal_amt: Amount
    int_amt: Amount


class RepaymentsResponse(PagedResponse):
    trans_cnt: Count
    trans_list: list[Repayment]


def _lending_info(
    api_id: str, code: str, title: str, resource: str, cycle: CycleClass, response: type[StandardModel], note: str
) -> ApiSpec:
    return ApiSpec(
        id=api_id,
        api_code=code,
        title=title,
        sector=Sector.P2P,
        method="POST",
        resource=resource,
        request=LendingRequest,
        response=response,
        kind=Kind.ASSET_INFO,
        scope="p2p.lending",
        cycle=cycle,
        search_timestamp=True,
        asset_field="lending_id",
        key_fields=("lending_id",),
        source=Source("P2P-001", LENDING_KEY),
        note=note,
    )


SPECS = [
    ApiSpec(
        id="P2P-001",
        api_code="LD01",
        title="대출상품 목록 조회",
        sector=Sector.P2P,
        method="GET",
        resource="/lendings",
        request=ListRequest,
        response=LendingListResponse,
        kind=Kind.ASSET_LIST,
        scope="p2p.list",
        cycle=CycleClass.BASIC,
        list_field="lending_list",
        count_field="lending_cnt",
        record_model=Lending,
        paged=True,
        search_timestamp=True,
        asset_id_field="lending_id",
        record_key=("lending_id",),
        note=(
            "The project's reading (fields unconfirmed; names from a v2-era implementation): lending_id aNS(64) "
            "(대출계약번호, opaque), type (상품유형 code), lending_amt, issue_date; paged like 은행-001."
        ),
    ),
    _lending_info(
        "P2P-002",
        "LD02",
        "대출상품 기본정보 조회",
        "/lendings/basic",
        CycleClass.BASIC,
        LendingBasicResponse,
        "The project's reading (fields unconfirmed): exp_date, offered_rate F(5,3), repay_method code, and ltv_rate "
        "F(6,3) for loans secured by real estate (omitted otherwise; 6 digits so an LTV of 100% or more fits).",
    ),
    _lending_info(
        "P2P-003",
        "LD03",
        "대출상품 추가정보 조회",
        "/lendings/detail",
        CycleClass.ADDITIONAL,
        LendingDetailResponse,
        "The project's reading (fields unconfirmed): balance_amt and the next instalment (next_repay_cnt, "
        "next_repay_date, scheduled principal_amt and int_amt), which are omitted when nothing more is due.",
    ),
    ApiSpec(
        id="P2P-004",
        api_code="LD04",
        title="대출상품 거래내역 조회",
        sector=Sector.P2P,
        method="POST",
        resource="/lendings/transactions",
        request=LendingHistoryRequest,
        response=RepaymentsResponse,
        kind=Kind.RECORDS,
        scope="p2p.lending",
        cycle=CycleClass.ADDITIONAL,
        list_field="trans_list",
        count_field="trans_cnt",
        record_model=Repayment,
        paged=True,
        asset_field="lending_id",
        key_fields=("lending_id",),
        range_fields=("from_date", "to_date"),
        record_period_field="trans_dtime",
        record_key=("trans_dtime", "repay_cnt"),
        source=Source("P2P-001", LENDING_KEY),
        note=(
            "The project's reading (fields unconfirmed): one record per instalment repaid (repay_cnt), so arrears "
            "paid together are several records at one trans_dtime; repay_type is a code stored as given; scheduled "
            "calls may span 3 months (§10.4)."
        ),
    ),
]
