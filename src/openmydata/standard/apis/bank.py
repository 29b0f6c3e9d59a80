"""Bank (은행-001…010, `/v1/bank/...`, digest §6.1)."""

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

# Named field types: mypy sees the plain Python type, pydantic the standard's constrained type.
if TYPE_CHECKING:
    AccountNum = str
    Seqno = str
    OrgCode = str
    Stamp = str
    Cursor = str
    TransNo = str
    Code2 = str
    Code4 = str
    FundCode = str
    Name = str
    HolderName = str
    TransClass = str
    Memo = str
    Currency = str
    Amount = Decimal
    Rate = Decimal
    FundUnits = Decimal
    Count = int
    LongCount = int
else:
    from openmydata.standard.types import AH, AN, F, N, aN, aNS

    AccountNum = aN(20)
    Seqno = aN(7)
    OrgCode = aN(10)
    Stamp = aNS(14)
    Cursor = aNS(1000)
    TransNo = aNS(64)
    Code2 = aN(2)
    Code4 = aN(4)
    FundCode = aN(12)
    Name = AH(300)
    HolderName = AH(90)
    TransClass = AH(30)
    Memo = AH(60)
    Currency = AN(3)
    Amount = F(18, 3)
    Rate = F(5, 3)
    FundUnits = F(18, 3)
    Count = N(3)
    LongCount = N(5)

DEPOSIT = Match("account_type", ("1",))
INVEST = Match("account_type", ("2",))
LOAN = Match("account_type", ("3",))
ACCOUNT_KEY = {"account_num": "account_num", "seqno": "seqno"}


class AccountRequest(InfoRequest):
    account_num: AccountNum
    seqno: Seqno | None = None
    search_timestamp: Stamp | None = None


class AccountHistoryRequest(DateRange, PagedRequest):
    """History APIs page like every list (limit 1…500, digest §2.4)."""

    account_num: AccountNum
    seqno: Seqno | None = None


# 은행-001
class Account(StandardModel):
    account_num: AccountNum
    is_consent: Bool
    seqno: Seqno | None = None
    is_foreign_deposit: Bool = False
    is_minus: Bool = False
    prod_name: Name
    account_type: Code4
    account_status: Code2


class AccountListResponse(ListResponse):
    account_cnt: LongCount
    account_list: list[Account]


# 은행-002
class DepositBasicResponse(StampedResponse):
    saving_method: Code2
    holder_name: HolderName | None = None
    issue_date: DATE
    exp_date: DATE | None = None
    currency_code: Currency
    commit_amt: Amount | None = None
    monthly_paid_in_amt: Amount | None = None


# 은행-003
class DepositDetail(StandardModel):
    currency_code: Currency
    balance_amt: Amount
    withdrawable_amt: Amount
    offered_rate: Rate
    last_paid_in_cnt: LongCount | None = None


class DepositDetailResponse(StampedResponse):
    detail_cnt: Count
    detail_list: list[DepositDetail]


# 은행-004
class DepositTransaction(StandardModel):
    trans_dtime: DATE_OR_DTIME
    trans_no: TransNo | None = None
    trans_type: Code2
    trans_class: TransClass
    currency_code: Currency
    trans_amt: Amount
    balance_amt: Amount
    paid_in_cnt: LongCount | None = None
    trans_memo: Memo | None = None


class DepositTransactionsResponse(PagedResponse):
    trans_cnt: Count
    trans_list: list[DepositTransaction]


# 은행-005
class InvestBasicResponse(StampedResponse):
    standard_fund_code: FundCode
    paid_in_type: Code2
    issue_date: DATE
    exp_date: DATE | None = None


# 은행-006
class InvestDetailResponse(StampedResponse):
    currency_code: Currency
    balance_amt: Amount
    eval_amt: Amount
    inv_principal: Amount
    fund_num: FundUnits


# 은행-007
class InvestTransaction(StandardModel):
    trans_dtime: DATE_OR_DTIME
    trans_no: TransNo | None = None
    trans_type: Code2
    currency_code: Currency
    base_amt: Amount
    trans_fund_num: FundUnits
    trans_amt: Amount
    balance_amt: Amount


class InvestTransactionsResponse(PagedResponse):
    trans_cnt: Count
    trans_list: list[InvestTransaction]


# 은행-008
class LoanBasicResponse(StampedResponse):
    holder_name: HolderName | None = None
    issue_date: DATE
    exp_date: DATE
    last_offered_rate: Rate
    repay_date: Code2 | None = None
    repay_method: Code2
    repay_org_code: OrgCode | None = None
    repay_account_num: AccountNum | None = None


# 은행-009
class LoanDetailResponse(StampedResponse):
    balance_amt: Amount
    loan_principal: Amount
    next_repay_date: DATE | None = None


# 은행-010
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


def _account_info(
    api_id: str,
    code: str,
    title: str,
    resource: str,
    scope: str,
    cycle: CycleClass,
    response: type[StandardModel],
    where: Match,
) -> ApiSpec:
    return ApiSpec(
        id=api_id,
        api_code=code,
        title=title,
        sector=Sector.BANK,
        method="POST",
        resource=resource,
        request=AccountRequest,
        response=response,
        kind=Kind.ASSET_INFO,
        scope=scope,
        cycle=cycle,
        search_timestamp=True,
        asset_field="account_num",
        key_fields=("account_num", "seqno"),
        source=Source("은행-001", ACCOUNT_KEY, where),
    )


def _account_history(
    api_id: str,
    code: str,
    title: str,
    resource: str,
    scope: str,
    response: type[StandardModel],
    record: type[StandardModel],
    where: Match,
    sensitive: dict[str, str] | None = None,
) -> ApiSpec:
    return ApiSpec(
        id=api_id,
        api_code=code,
        title=title,
        sector=Sector.BANK,
        method="POST",
        resource=resource,
        request=AccountHistoryRequest,
        response=response,
        kind=Kind.RECORDS,
        scope=scope,
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
        source=Source("은행-001", ACCOUNT_KEY, where),
        sensitive=sensitive or {},
    )


SPECS = [
    ApiSpec(
        id="은행-001",
        api_code="BA01",
        title="계좌 목록 조회",
        sector=Sector.BANK,
        method="GET",
        resource="/accounts",
        request=ListRequest,
        response=AccountListResponse,
        kind=Kind.ASSET_LIST,
        scope="bank.list",
        cycle=CycleClass.BASIC,
        list_field="account_list",
        count_field="account_cnt",
        record_model=Account,
        paged=True,
        search_timestamp=True,
        asset_id_field="account_num",
        record_key=("account_num", "seqno"),
        note="is_minus (마이너스 통장) is the project's name for the v202105-1 minus-account flag.",
    ),
    _account_info(
        "은행-002",
        "BA02",
        "수신계좌 기본정보 조회",
        "/accounts/deposit/basic",
        "bank.deposit",
        CycleClass.BASIC,
        DepositBasicResponse,
        DEPOSIT,
    ),
    ApiSpec(
        id="은행-003",
        api_code="BA03",
        title="수신계좌 추가정보 조회",
        sector=Sector.BANK,
        method="POST",
        resource="/accounts/deposit/detail",
        request=AccountRequest,
        response=DepositDetailResponse,
        kind=Kind.RECORDS,
        scope="bank.deposit",
        cycle=CycleClass.ADDITIONAL,
        list_field="detail_list",
        count_field="detail_cnt",
        record_model=DepositDetail,
        search_timestamp=True,
        asset_field="account_num",
        key_fields=("account_num", "seqno"),
        record_key=("currency_code",),
        source=Source("은행-001", ACCOUNT_KEY, DEPOSIT),
    ),
    _account_history(
        "은행-004",
        "BA04",
        "수신계좌 거래내역 조회",
        "/accounts/deposit/transactions",
        "bank.deposit",
        DepositTransactionsResponse,
        DepositTransaction,
        DEPOSIT,
        sensitive={"trans_memo": "is_consent_trans_memo"},
    ),
    _account_info(
        "은행-005",
        "BA11",
        "투자상품계좌 기본정보 조회",
        "/accounts/invest/basic",
        "bank.invest",
        CycleClass.BASIC,
        InvestBasicResponse,
        INVEST,
    ),
    _account_info(
        "은행-006",
        "BA12",
        "투자상품계좌 추가정보 조회",
        "/accounts/invest/detail",
        "bank.invest",
        CycleClass.ADDITIONAL,
        InvestDetailResponse,
        INVEST,
    ),
    _account_history(
        "은행-007",
        "BA13",
        "투자상품계좌 거래내역 조회",
        "/accounts/invest/transactions",
        "bank.invest",
        InvestTransactionsResponse,
        InvestTransaction,
        INVEST,
    ),
    _account_info(
        "은행-008",
        "BA21",
        "대출상품계좌 기본정보 조회",
        "/accounts/loan/basic",
        "bank.loan",
        CycleClass.BASIC,
        LoanBasicResponse,
        LOAN,
    ),
    _account_info(
        "은행-009",
        "BA22",
        "대출상품계좌 추가정보 조회",
        "/accounts/loan/detail",
        "bank.loan",
        CycleClass.ADDITIONAL,
        LoanDetailResponse,
        LOAN,
    ),
    _account_history(
        "은행-010",
        "BA23",
        "대출상품계좌 거래내역 조회",
        "/accounts/loan/transactions",
        "bank.loan",
        LoanTransactionsResponse,
        LoanTransaction,
        LOAN,
    ),
]
