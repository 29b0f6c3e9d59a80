"""Capital / instalment finance (할부금융-001…006, `/v1/capital/...`, digest §6.7).

할부금융-001 lists the person's contracts (`account_num`, with `seqno` for a contract in several parts); loans
(instalment finance, finance leases, credit loans) are read through 002…004, which mirror the bank's loan APIs
(은행-008…010), and operating leases through 005/006. Everything after the list is POST with a JSON body, keyed
by (account_num, seqno) like the bank's account APIs.

The project's reading where the digest is silent (each also in the spec's `note`):
- 할부금융-001 pages like 은행-001 (next_page/limit; one implementation's request has search_timestamp only);
- `account_type` uses the bank's 3xxx loan codes (§10.2): 3500/3510/3590 new-car, used-car and other
  instalment finance, 3700 finance lease, 3710 operating lease; 3710 is routed to 005/006, every other 3xxx code
  to 002…004;
- 할부금융-005's `exp_date` is optional (one implementation omits it); `repay_org_code` and `repay_account_num`
  are optional as in 은행-008;
- `repay_method`, `trans_type` and `int_type` codes are unconfirmed and stored as given.

Field types are named aliases: mypy sees the plain Python type, pydantic the standard's constrained type.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from openmydata.standard.catalogue import ApiSpec, CycleClass, Kind, Match, Sector, Source
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
    AccountNum = str
    Seqno = str
    OrgCode = str
    Stamp = str
    TransNo = str
    Code2 = str
    Code4 = str
    Name = str
    HolderName = str
    Amount = Decimal
    Rate = Decimal
    Count = int
    LongCount = int
else:
    from openmydata.standard.types import AH, F, N, aN, aNS

    AccountNum = aN(20)
    Seqno = aN(7)
    OrgCode = aN(10)
    Stamp = aNS(14)
    TransNo = aNS(64)
    Code2 = aN(2)
    Code4 = aN(4)
    Name = AH(300)
    HolderName = AH(90)
    Amount = F(18, 3)
    Rate = F(5, 3)
    Count = N(3)
    LongCount = N(5)

OPERATING_LEASE_TYPES = ("3710",)
# Every 3xxx loan code except the operating lease (Match selects by prefix, so 37xx is spelt out).
LOAN = Match("account_type", ("30", "31", "32", "33", "34", "35", "36", "3700", "38", "39"))
OPERATING_LEASE = Match("account_type", OPERATING_LEASE_TYPES)
ACCOUNT_KEY = {"account_num": "account_num", "seqno": "seqno"}


class AccountRequest(InfoRequest):
    account_num: AccountNum
    seqno: Seqno | None = None
    search_timestamp: Stamp | None = None


class AccountHistoryRequest(DateRange, PagedRequest):
    account_num: AccountNum
    seqno: Seqno | None = None


# 할부금융-001
class Account(StandardModel):
    account_num: AccountNum
    is_consent: Bool
    seqno: Seqno | None = None
    prod_name: Name
    account_type: Code4
    account_status: Code2


class AccountListResponse(ListResponse):
    account_cnt: LongCount
    account_list: list[Account]


# 할부금융-002
class LoanBasicResponse(StampedResponse):
    holder_name: HolderName | None = None
    issue_date: DATE
    exp_date: DATE
    last_offered_rate: Rate
    repay_date: Code2 | None = None  # 상환일 (day of month)
    repay_method: Code2
    repay_org_code: OrgCode | None = None
    repay_account_num: AccountNum | None = None


# 할부금융-003
class LoanDetailResponse(StampedResponse):
    balance_amt: Amount
    loan_principal: Amount
    next_repay_date: DATE | None = None


# 할부금융-004
class Interest(StandardModel):
    int_start_date: DATE
    int_end_date: DATE
    int_rate: Rate
    int_type: Code2


class LoanTransaction(StandardModel):
    trans_dtime: DATE_OR_DTIME
    trans_no: TransNo | None = None
    trans_type: Code2
    trans_amt: Amount
    balance_amt: Amount
    principal_amt: Amount
    int_amt: Amount
    int_cnt: Count
    int_list: list[Interest]


class LoanTransactionsResponse(PagedResponse):
    trans_cnt: Count
    trans_list: list[LoanTransaction]


# 할부금융-005
class LeaseBasicResponse(StampedResponse):
    holder_name: HolderName | None = None
    issue_date: DATE
    exp_date: DATE | None = None
    repay_date: Code2 | None = None
    repay_method: Code2
    repay_org_code: OrgCode | None = None
    repay_account_num: AccountNum | None = None
    next_repay_date: DATE | None = None


# 할부금융-006
class LeaseTransaction(StandardModel):
    trans_dtime: DATE_OR_DTIME
    trans_no: TransNo | None = None
    trans_type: Code2
    trans_amt: Amount


class LeaseTransactionsResponse(PagedResponse):
    trans_cnt: Count
    trans_list: list[LeaseTransaction]


def _account_info(
    api_id: str,
    code: str,
    title: str,
    resource: str,
    cycle: CycleClass,
    response: type[StandardModel],
    where: Match,
    note: str = "",
) -> ApiSpec:
    return ApiSpec(
        id=api_id,
        api_code=code,
        title=title,
        sector=Sector.CAPITAL,
        method="POST",
        resource=resource,
        request=AccountRequest,
        response=response,
        kind=Kind.ASSET_INFO,
        scope="capital.loan",
        cycle=cycle,
        search_timestamp=True,
        asset_field="account_num",
        key_fields=("account_num", "seqno"),
        source=Source("할부금융-001", ACCOUNT_KEY, where),
        note=note,
    )


def _account_history(
    api_id: str,
    code: str,
    title: str,
    resource: str,
    response: type[StandardModel],
    record: type[StandardModel],
    where: Match,
    note: str = "",
) -> ApiSpec:
    return ApiSpec(
        id=api_id,
        api_code=code,
        title=title,
        sector=Sector.CAPITAL,
        method="POST",
        resource=resource,
        request=AccountHistoryRequest,
        response=response,
        kind=Kind.RECORDS,
        scope="capital.loan",
        cycle=CycleClass.ADDITIONAL,
        list_field="trans_list",
        count_field="trans_cnt",
        record_model=record,
        paged=True,
        asset_field="account_num",
        key_fields=("account_num", "seqno"),
        range_fields=("from_date", "to_date"),
        record_period_field="trans_dtime",
        record_key=("trans_dtime", "trans_no"),
        source=Source("할부금융-001", ACCOUNT_KEY, where),
        note=note,
    )


SPECS = [
    ApiSpec(
        id="할부금융-001",
        api_code="CP01",
        title="계좌 목록 조회",
        sector=Sector.CAPITAL,
        method="GET",
        resource="/loans",
        request=ListRequest,
        response=AccountListResponse,
        kind=Kind.ASSET_LIST,
        scope="capital.list",
        cycle=CycleClass.BASIC,
        list_field="account_list",
        count_field="account_cnt",
        record_model=Account,
        paged=True,
        search_timestamp=True,
        asset_id_field="account_num",
        record_key=("account_num", "seqno"),
        note=(
            "Paged like 은행-001 (one implementation takes search_timestamp only). seqno aN(7) optional as in "
            "은행-001; account_type uses the bank's 3xxx loan codes (3500/3510/3590 instalment finance, 3700 "
            "finance lease, 3710 operating lease): 3710 goes to 할부금융-005/006, every other code to 002…004."
        ),
    ),
    _account_info(
        "할부금융-002",
        "CP02",
        "대출상품계좌 기본정보 조회",
        "/loans/basic",
        CycleClass.BASIC,
        LoanBasicResponse,
        LOAN,
        note="As 은행-008; repay_method codes unconfirmed and stored as given.",
    ),
    _account_info(
        "할부금융-003",
        "CP03",
        "대출상품계좌 추가정보 조회",
        "/loans/detail",
        CycleClass.ADDITIONAL,
        LoanDetailResponse,
        LOAN,
        note="As 은행-009.",
    ),
    _account_history(
        "할부금융-004",
        "CP04",
        "대출상품계좌 거래내역 조회",
        "/loans/transactions",
        LoanTransactionsResponse,
        LoanTransaction,
        LOAN,
        note="As 은행-010 (3 months per scheduled call, digest §10.4); trans_type and int_type codes unconfirmed.",
    ),
    _account_info(
        "할부금융-005",
        "CP05",
        "운용리스 기본정보 조회",
        "/loans/oplease/basic",
        CycleClass.BASIC,
        LeaseBasicResponse,
        OPERATING_LEASE,
        note=(
            "Operating leases (account_type 3710); exp_date optional because one implementation omits it; "
            "keyed by (account_num, seqno) like 할부금융-002."
        ),
    ),
    _account_history(
        "할부금융-006",
        "CP06",
        "운용리스 거래내역 조회",
        "/loans/oplease/transactions",
        LeaseTransactionsResponse,
        LeaseTransaction,
        OPERATING_LEASE,
        note=(
            "Lease payments of an operating lease (3 months per scheduled call, digest §10.4); trans_type codes "
            "unconfirmed."
        ),
    ),
]
