"""Investment / securities (금투-001…005, `/v1/invest/...`, digest §6.6 and the §10.2 notes on 금투).

금투-001 lists the person's securities accounts (`account_num`); 금투-002…005 are per account, POST with a JSON
body: 002 the account's cash and credit position, 003 its transactions (date-ranged, paged), 004 the products it
holds, 005 the extras of a pension-savings (연금저축) account. The IRP APIs (`invest.irp`) are another module's.

The project's reading where the digest is silent (each also in the spec's `note`):
- api_code IV01–IV04 are the 첨부12 codes (IV04 per implementations); IV05 for 금투-005 is the project's;
- 금투-001 pages like 은행-001 (next_page/limit); 금투-004 does not page (one implementation's request has
  search_timestamp only);
- `account_type` is aN(3) and `prod_type` / `trans_type` aN(3) codes whose values are unconfirmed: stored as
  given. The project reads account types 2xx as pension accounts, so only those are asked for 금투-005 (a
  provider using other codes for its pension accounts would need `PENSION` widened);
- 금투-003 records may carry `trans_no` (two implementations send it; the digest lists only `trans_num`, which
  is the traded quantity, not a number); product fields are optional because cash deposits and withdrawals
  name no product;
- lengths the digest does not give: prod_code aNS(20) (domestic 6-digit codes, ISINs, US tickers),
  trans_type_detail and prod_type_detail AH(90) text, quantities (trans_num, holding_num, avail_for_sale_num)
  F(18,3) like the bank's fund units;
- 금투-005's fields are the project's design: pension start date, paid-in totals, the tax-deductible and
  non-deductible parts of the paid-in principal, the yearly paid-in limit and the pension received so far.

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
    Stamp = str
    Name = str
    Code2 = str
    Code3 = str
    ProdCode = str
    TransNo = str
    Detail = str
    Currency = str
    Amount = Decimal
    Quantity = Decimal
    Count = int
    LongCount = int
else:
    from openmydata.standard.types import AH, AN, F, N, aN, aNS

    AccountNum = aN(20)
    Stamp = aNS(14)
    Name = AH(300)
    Code2 = aN(2)
    Code3 = aN(3)
    ProdCode = aNS(20)
    TransNo = aNS(64)
    Detail = AH(90)
    Currency = AN(3)
    Amount = F(18, 3)
    Quantity = F(18, 3)
    Count = N(3)
    LongCount = N(5)

# The project's reading of account_type families: 1xx brokerage (위탁, CMA), 2xx pension savings (연금저축).
PENSION = Match("account_type", ("2",))
ACCOUNT_KEY = {"account_num": "account_num"}


class AccountRequest(InfoRequest):
    account_num: AccountNum
    search_timestamp: Stamp | None = None


# 금투-001
class Account(StandardModel):
    account_num: AccountNum
    is_consent: Bool
    account_name: Name
    account_type: Code3
    account_status: Code2


class AccountListResponse(ListResponse):
    account_cnt: LongCount
    account_list: list[Account]


# 금투-002
class AccountBasicResponse(StampedResponse):
    issue_date: DATE
    is_tax_benefits: Bool
    withholdings_amt: Amount  # 예수금 (cash held in the account)
    credit_loan_amt: Amount  # 신용융자 (margin loan)
    mortgage_amt: Amount  # 예탁증권담보대출 (securities-backed loan)
    currency_code: Currency


# 금투-003
class TransactionsRequest(DateRange, PagedRequest):
    account_num: AccountNum


class Transaction(StandardModel):
    prod_name: Name | None = None
    prod_code: ProdCode | None = None
    trans_dtime: DATE_OR_DTIME
    trans_no: TransNo | None = None
    trans_type: Code3
    trans_type_detail: Detail | None = None
    trans_num: Quantity | None = None  # 거래수량 (shares or fund units)
    base_amt: Amount | None = None  # 거래단가 (price per share, or per 1,000 fund units)
    trans_amt: Amount
    settle_amt: Amount  # 정산금액: trans_amt with fees and taxes
    balance_amt: Amount  # the account's cash in currency_code after the transaction
    currency_code: Currency


class TransactionsResponse(PagedResponse):
    trans_cnt: Count
    trans_list: list[Transaction]


# 금투-004
class Product(StandardModel):
    prod_type: Code3
    prod_type_detail: Detail | None = None
    prod_code: ProdCode
    prod_name: Name
    purchase_amt: Amount  # 매입금액 (cost of the units held)
    holding_num: Quantity
    avail_for_sale_num: Quantity | None = None
    eval_amt: Amount
    issue_date: DATE | None = None  # fund and savings-type products: 신규일
    paid_in_amt: Amount | None = None
    withdrawal_amt: Amount | None = None
    last_paid_in_date: DATE | None = None
    rcv_amt: Amount | None = None
    currency_code: Currency


class ProductsResponse(StampedResponse):
    prod_cnt: Count
    prod_list: list[Product]


# 금투-005 (fields: the project's reading)
class PensionResponse(StampedResponse):
    pension_rcv_start_date: DATE | None = None  # 연금개시(예정)일
    total_paid_in_amt: Amount  # 납입원금 누계
    cur_year_paid_in_amt: Amount  # 당해연도 납입액
    tax_deductible_amt: Amount  # 세액공제 대상 납입액 누계
    non_deductible_amt: Amount | None = None  # 세액공제 미적용 납입액 누계 (withdrawn tax-free)
    paid_in_limit_amt: Amount | None = None  # 연간 납입한도
    rcv_amt: Amount | None = None  # 연금 수령액 누계
    currency_code: Currency


def _account_info(
    api_id: str,
    code: str,
    title: str,
    resource: str,
    response: type[StandardModel],
    *,
    where: Match | None = None,
    note: str = "",
) -> ApiSpec:
    return ApiSpec(
        id=api_id,
        api_code=code,
        title=title,
        sector=Sector.INVEST,
        method="POST",
        resource=resource,
        request=AccountRequest,
        response=response,
        kind=Kind.ASSET_INFO,
        scope="invest.account",
        cycle=CycleClass.ADDITIONAL,
        search_timestamp=True,
        asset_field="account_num",
        key_fields=("account_num",),
        source=Source("금투-001", ACCOUNT_KEY, where),
        note=note,
    )


SPECS = [
    ApiSpec(
        id="금투-001",
        api_code="IV01",
        title="계좌 목록 조회",
        sector=Sector.INVEST,
        method="GET",
        resource="/accounts",
        request=ListRequest,
        response=AccountListResponse,
        kind=Kind.ASSET_LIST,
        scope="invest.list",
        cycle=CycleClass.BASIC,
        list_field="account_list",
        count_field="account_cnt",
        record_model=Account,
        paged=True,
        search_timestamp=True,
        asset_id_field="account_num",
        record_key=("account_num",),
        note=(
            "Paged like 은행-001 (the digest lists reg_date and the list only). account_type aN(3) and "
            "account_status aN(2) are stored as given; the project reads account types 2xx as pension-savings "
            "accounts (금투-005). The v2 flags is_cma, is_stock_trans and is_account_link are not modelled."
        ),
    ),
    _account_info(
        "금투-002",
        "IV02",
        "계좌 기본정보 조회",
        "/accounts/basic",
        AccountBasicResponse,
        note=(
            "One currency per account as in v1 (v2 sends basic_list per currency): withholdings_amt 예수금, "
            "credit_loan_amt 신용융자, mortgage_amt 담보대출."
        ),
    ),
    ApiSpec(
        id="금투-003",
        api_code="IV03",
        title="계좌 거래내역 조회",
        sector=Sector.INVEST,
        method="POST",
        resource="/accounts/transactions",
        request=TransactionsRequest,
        response=TransactionsResponse,
        kind=Kind.RECORDS,
        scope="invest.account",
        cycle=CycleClass.ADDITIONAL,
        list_field="trans_list",
        count_field="trans_cnt",
        record_model=Transaction,
        paged=True,
        asset_field="account_num",
        key_fields=("account_num",),
        range_fields=("from_date", "to_date"),
        record_period_field="trans_dtime",
        record_key=("trans_dtime", "trans_no", "prod_code", "trans_amt"),
        source=Source("금투-001", ACCOUNT_KEY),
        note=(
            "trans_no (optional, aNS(64)) is taken from implementations; trans_num is the traded quantity "
            "F(18,3); prod_name, prod_code, trans_num and base_amt are optional for cash movements; trans_type "
            "aN(3) codes are unconfirmed and stored as given; balance_amt is the cash in currency_code after "
            "the transaction."
        ),
    ),
    ApiSpec(
        id="금투-004",
        api_code="IV04",
        title="계좌 상품정보 조회",
        sector=Sector.INVEST,
        method="POST",
        resource="/accounts/products",
        request=AccountRequest,
        response=ProductsResponse,
        kind=Kind.RECORDS,
        scope="invest.account",
        cycle=CycleClass.ADDITIONAL,
        list_field="prod_list",
        count_field="prod_cnt",
        record_model=Product,
        search_timestamp=True,
        asset_field="account_num",
        key_fields=("account_num",),
        record_key=("prod_type", "prod_code"),
        source=Source("금투-001", ACCOUNT_KEY),
        note=(
            "api_code IV04 per implementations; not paged; rcv_amt follows the digest (one implementation "
            "names it received_amt); prod_type aN(3) codes are unconfirmed and stored as given; the fund "
            "fields (issue_date … rcv_amt) are optional."
        ),
    ),
    _account_info(
        "금투-005",
        "IV05",
        "연금계좌 추가정보 조회",
        "/accounts/pension",
        PensionResponse,
        where=PENSION,
        note=(
            "Fields unconfirmed in the digest; the project's reading for 연금저축 accounts: "
            "pension_rcv_start_date, total_paid_in_amt, cur_year_paid_in_amt, tax_deductible_amt, "
            "non_deductible_amt, paid_in_limit_amt, rcv_amt, currency_code. api_code IV05 is the project's. "
            "Asked only for account types 2xx (the project's reading of pension accounts)."
        ),
    ),
]
