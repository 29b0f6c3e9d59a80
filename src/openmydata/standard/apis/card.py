"""Card (카드-001…012, `/v1/card/...`, digest §6.2 with the code tables of §10.2).

Paths are the current (v202105-1, unbracketed) ones: `/cards`, `/cards/{card_id}`, `/points`, `/bills`, ….
카드-002/008/009 carry the card in the path (`{card_id}`); the request models hold `card_id` too and the generic
client moves it into the path. Customer-level APIs (points, bills, payments, revolving, loans) select nothing but
the customer, so their `key_fields` are empty.

Field types are written as named aliases: mypy sees the plain Python type, pydantic the standard's constrained
type (`types.aN(20)` …), because a call is not a valid annotation for a type checker.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from openmydata.standard.catalogue import ApiSpec, CycleClass, Kind, Sector, Source
from openmydata.standard.models import (
    DateRange,
    InfoRequest,
    ListRequest,
    ListResponse,
    MonthRange,
    PagedRequest,
    PagedResponse,
    StampedRequest,
    StampedResponse,
)
from openmydata.standard.types import DATE, DATE_OR_DTIME, DAY, DTIME, MONTH, Bool, StandardModel

if TYPE_CHECKING:
    CardId = str
    CardNum = str
    Name = str
    Seqno = str
    Code2 = str
    Code3 = str
    Currency = str
    CountryCode = str
    ApprovedNum = str
    MerchantRegno = str
    LoanType = str
    Stamp = str
    Amount = Decimal
    Rate = Decimal
    Count = int
    InstallCount = int
else:
    from openmydata.standard.types import AH, AN, A, F, N, aN, aNS

    CardId = aNS(64)
    CardNum = aNS(20)
    Name = AH(300)
    Seqno = aN(4)
    Code2 = aN(2)
    Code3 = aN(3)
    Currency = AN(3)
    CountryCode = A(2)
    ApprovedNum = aNS(20)
    MerchantRegno = aNS(12)
    LoanType = aNS(15)
    Stamp = aNS(14)
    Amount = F(18, 3)
    Rate = F(5, 3)
    Count = N(3)
    InstallCount = N(5)

# Code tables (digest §10.2). Confirmed by several implementations, so the models accept only these values.
CARD_TYPES = {"01": "신용 (credit)", "02": "체크 (debit)", "03": "소액신용체크 (hybrid)"}
CARD_MEMBERS = {"1": "본인 (holder)", "2": "가족 (family card)"}
APPROVAL_STATUSES = {"01": "승인", "02": "승인취소", "03": "정정", "04": "무승인매입"}
PAY_TYPES = {"01": "신용 (credit use)", "02": "체크 (debit use)"}
# card_brand (annex 13): only these are known; other codes of the same form are accepted.
CARD_BRANDS = {
    "I01": "VISA",
    "I02": "Mastercard",
    "I03": "UnionPay",
    "I04": "AMEX",
    "I05": "JCB",
    "D06": "K-WORLD",
    "D08": "국내전용 (domestic only)",
}

CardType = Literal["01", "02", "03"]
CardMember = Literal["1", "2"]
ApprovalStatus = Literal["01", "02", "03", "04"]
PayType = Literal["01", "02"]

CARD_KEY = {"card_id": "card_id"}
MERCHANT = "is_consent_merchant_name_regno"


# 카드-001
class Card(StandardModel):
    card_id: CardId
    card_num: CardNum
    is_consent: Bool
    card_name: Name
    card_member: CardMember


class CardListResponse(ListResponse):
    card_cnt: Count
    card_list: list[Card]


# 카드-002
class CardRequest(InfoRequest):
    card_id: CardId
    search_timestamp: Stamp | None = None


class CardBasicResponse(StampedResponse):
    card_type: CardType
    is_trans_payable: Bool
    is_cash_card: Bool
    linked_bank_code: Code3 | None = None
    card_brand: Code3
    annual_fee: Amount | None = None
    issue_date: DATE


# 카드-003
class Point(StandardModel):
    point_name: Name
    remain_point_amt: Amount
    expiring_point_amt: Amount | None = None


class PointsResponse(StampedResponse):
    point_cnt: Count
    point_list: list[Point]


# 카드-004
class BillsRequest(MonthRange, PagedRequest):
    pass


class Bill(StandardModel):
    seqno: Seqno
    charge_amt: Amount
    charge_day: DAY
    charge_month: MONTH
    paid_out_date: DATE
    card_type: CardType


class BillsResponse(PagedResponse):
    bill_cnt: Count
    bill_list: list[Bill]


# 카드-005
class BillDetailRequest(PagedRequest):
    seqno: Seqno
    charge_month: MONTH


class BillDetail(StandardModel):
    card_id: CardId
    paid_dtime: DATE_OR_DTIME
    paid_amt: Amount
    currency_code: Currency
    merchant_name: Name | None = None
    credit_fee_amt: Amount
    total_install_cnt: InstallCount | None = None
    cur_install_cnt: InstallCount | None = None
    balance_amt: Amount | None = None
    prod_type: Code2


class BillDetailResponse(PagedResponse):
    bill_detail_cnt: Count
    bill_detail_list: list[BillDetail]


# 카드-006
class Payment(StandardModel):
    seqno: Seqno
    pay_due_date: DATE
    pay_amt: Amount


class PaymentsResponse(StampedResponse):
    pay_cnt: Count
    pay_list: list[Payment]


# 카드-007
class Revolving(StandardModel):
    req_date: DATE
    min_pay_rate: Rate
    min_pay_amt: Amount
    agreed_pay_rate: Rate
    remained_amt: Amount


class RevolvingResponse(StampedResponse):
    revolving_cnt: Count
    revolving_list: list[Revolving]


# 카드-008 / 카드-009
class ApprovalsRequest(DateRange, PagedRequest):
    card_id: CardId


class DomesticApproval(StandardModel):
    approved_num: ApprovedNum
    approved_dtime: DTIME
    status: ApprovalStatus
    pay_type: PayType
    trans_dtime: DTIME | None = None
    cancel_dtime: DTIME | None = None
    merchant_name: Name | None = None
    merchant_regno: MerchantRegno | None = None
    approved_amt: Amount
    modified_amt: Amount | None = None
    total_install_cnt: InstallCount | None = None


class DomesticApprovalsResponse(PagedResponse):
    approved_cnt: Count
    approved_list: list[DomesticApproval]


class OverseasApproval(StandardModel):
    approved_num: ApprovedNum
    approved_dtime: DTIME
    status: ApprovalStatus
    pay_type: PayType
    trans_dtime: DTIME | None = None
    cancel_dtime: DTIME | None = None
    merchant_name: Name | None = None
    merchant_regno: MerchantRegno | None = None
    approved_amt: Amount
    modified_amt: Amount | None = None
    country_code: CountryCode
    currency_code: Currency
    krw_amt: Amount | None = None


class OverseasApprovalsResponse(PagedResponse):
    approved_cnt: Count
    approved_list: list[OverseasApproval]


# 카드-010
class LoansResponse(StampedResponse):
    is_loan_revolving: Bool
    is_loan_short_term: Bool
    is_loan_long_term: Bool


# 카드-011
class ShortTermLoan(StandardModel):
    loan_dtime: DATE_OR_DTIME
    loan_amt: Amount
    pay_due_date: DATE
    int_rate: Rate


class ShortTermLoansResponse(StampedResponse):
    short_term_cnt: Count
    short_term_list: list[ShortTermLoan]


# 카드-012
class LongTermLoan(StandardModel):
    loan_dtime: DTIME
    loan_cnt: InstallCount
    loan_type: LoanType
    loan_name: Name
    loan_amt: Amount
    int_rate: Rate
    exp_date: DATE
    balance_amt: Amount
    repay_method: Code2
    int_amt: Amount


class LongTermLoansResponse(StampedResponse):
    long_term_cnt: Count
    long_term_list: list[LongTermLoan]


def _customer_records(
    api_id: str,
    code: str,
    title: str,
    resource: str,
    scope: str,
    response: type[StandardModel],
    list_name: str,
    record: type[StandardModel],
    record_key: tuple[str, ...],
    note: str = "",
) -> ApiSpec:
    """A customer-level list (points, payments, revolving, loans): 추가 cycle, search_timestamp, no paging."""
    return ApiSpec(
        id=api_id,
        api_code=code,
        title=title,
        sector=Sector.CARD,
        method="GET",
        resource=resource,
        request=StampedRequest,
        response=response,
        kind=Kind.RECORDS,
        scope=scope,
        cycle=CycleClass.ADDITIONAL,
        list_field=f"{list_name}_list",
        count_field=f"{list_name}_cnt",
        record_model=record,
        search_timestamp=True,
        record_key=record_key,
        note=note,
    )


def _approvals(
    api_id: str, code: str, title: str, resource: str, response: type[StandardModel], record: type[StandardModel]
) -> ApiSpec:
    return ApiSpec(
        id=api_id,
        api_code=code,
        title=title,
        sector=Sector.CARD,
        method="GET",
        resource=resource,
        request=ApprovalsRequest,
        response=response,
        kind=Kind.RECORDS,
        scope="card.card",
        cycle=CycleClass.ADDITIONAL,
        list_field="approved_list",
        count_field="approved_cnt",
        record_model=record,
        paged=True,
        asset_field="card_id",
        key_fields=("card_id",),
        range_fields=("from_date", "to_date"),
        record_period_field="approved_dtime",
        record_key=("approved_dtime", "approved_num"),
        source=Source("카드-001", CARD_KEY),
        sensitive={"merchant_name": MERCHANT, "merchant_regno": MERCHANT},
        note=(
            "status codes 01 승인/02 승인취소/03 정정/04 무승인매입 and pay_type 01 신용/02 체크 per §10.2 "
            "(implementations, not the spec text); merchant_regno (aNS(12), with '-'), trans_dtime and "
            "modified_amt take their names from v2-era implementations; a cancellation keeps its approved_num "
            "and approved_dtime, so it updates the approved record."
        ),
    )


SPECS = [
    ApiSpec(
        id="카드-001",
        api_code="CD01",
        title="카드 목록 조회",
        sector=Sector.CARD,
        method="GET",
        resource="/cards",
        request=ListRequest,
        response=CardListResponse,
        kind=Kind.ASSET_LIST,
        scope="card.list",
        cycle=CycleClass.BASIC,
        list_field="card_list",
        count_field="card_cnt",
        record_model=Card,
        paged=True,
        search_timestamp=True,
        asset_id_field="card_id",
        record_key=("card_id",),
        note=(
            "Paged like 은행-001 (next_page/limit; the digest lists only search_timestamp). card_id is "
            "aNS(64), opaque and provider-issued (length not in the digest); card_member 1 본인/2 가족 per §10.2."
        ),
    ),
    ApiSpec(
        id="카드-002",
        api_code="CD02",
        title="카드 기본정보 조회",
        sector=Sector.CARD,
        method="GET",
        resource="/cards/{card_id}",
        request=CardRequest,
        response=CardBasicResponse,
        kind=Kind.ASSET_INFO,
        scope="card.card",
        cycle=CycleClass.BASIC,
        search_timestamp=True,
        asset_field="card_id",
        key_fields=("card_id",),
        source=Source("카드-001", CARD_KEY),
        note=(
            "card_type 01 신용/02 체크/03 소액신용체크 per §10.2; card_brand is a 3-character annex-13 code "
            "(I01 VISA … D08 국내전용), other codes of that form accepted; linked_bank_code and annual_fee "
            "optional."
        ),
    ),
    _customer_records(
        "카드-003",
        "CD11",
        "포인트 정보 조회",
        "/points",
        "card.point",
        PointsResponse,
        "point",
        Point,
        ("point_name",),
    ),
    ApiSpec(
        id="카드-004",
        api_code="CD21",
        title="월별 청구목록 조회",
        sector=Sector.CARD,
        method="GET",
        resource="/bills",
        request=BillsRequest,
        response=BillsResponse,
        kind=Kind.RECORDS,
        scope="card.bill",
        cycle=CycleClass.BASIC,
        list_field="bill_list",
        count_field="bill_cnt",
        record_model=Bill,
        paged=True,
        range_fields=("from_month", "to_month"),
        record_period_field="charge_month",
        record_key=("charge_month", "seqno"),
        note="seqno (결제순번) is aN(4); a bill is identified by (charge_month, seqno).",
    ),
    ApiSpec(
        id="카드-005",
        api_code="CD22",
        title="추가 청구정보 조회",
        sector=Sector.CARD,
        method="GET",
        resource="/bills/detail",
        request=BillDetailRequest,
        response=BillDetailResponse,
        kind=Kind.RECORDS,
        scope="card.bill",
        cycle=CycleClass.BASIC,
        list_field="bill_detail_list",
        count_field="bill_detail_cnt",
        record_model=BillDetail,
        paged=True,
        key_fields=("seqno", "charge_month"),
        record_period_field="paid_dtime",
        record_key=("card_id", "paid_dtime", "paid_amt", "cur_install_cnt"),
        source=Source("카드-004", {"seqno": "seqno", "charge_month": "charge_month"}),
        sensitive={"merchant_name": MERCHANT},
        note=(
            "Bill lines have no identifier: the record key is (card_id, paid_dtime, paid_amt, cur_install_cnt). "
            "prod_type is AN(2) with unconfirmed meanings, stored as given."
        ),
    ),
    _customer_records(
        "카드-006",
        "CD23",
        "결제정보 조회",
        "/payments",
        "card.bill",
        PaymentsResponse,
        "pay",
        Payment,
        ("seqno", "pay_due_date"),
    ),
    _customer_records(
        "카드-007",
        "CD24",
        "리볼빙 정보 조회",
        "/payments/revolving",
        "card.bill",
        RevolvingResponse,
        "revolving",
        Revolving,
        ("req_date",),
        note="The optional revolving_month one implementation sends is not modelled (ignored on input).",
    ),
    _approvals(
        "카드-008",
        "CD03",
        "국내 승인내역 조회",
        "/cards/{card_id}/approval-domestic",
        DomesticApprovalsResponse,
        DomesticApproval,
    ),
    _approvals(
        "카드-009",
        "CD04",
        "해외 승인내역 조회",
        "/cards/{card_id}/approval-overseas",
        OverseasApprovalsResponse,
        OverseasApproval,
    ),
    ApiSpec(
        id="카드-010",
        api_code="CD31",
        title="대출상품 목록 조회",
        sector=Sector.CARD,
        method="GET",
        resource="/loans",
        request=StampedRequest,
        response=LoansResponse,
        kind=Kind.ASSET_INFO,
        scope="card.loan",
        cycle=CycleClass.BASIC,
        search_timestamp=True,
        note="One object per customer (no key fields): which card-loan kinds the customer has.",
    ),
    _customer_records(
        "카드-011",
        "CD32",
        "단기대출정보 조회",
        "/loans/short-term",
        "card.loan",
        ShortTermLoansResponse,
        "short_term",
        ShortTermLoan,
        ("loan_dtime", "loan_amt"),
    ),
    _customer_records(
        "카드-012",
        "CD33",
        "장기대출정보 조회",
        "/loans/long-term",
        "card.loan",
        LongTermLoansResponse,
        "long_term",
        LongTermLoan,
        ("loan_dtime", "loan_cnt"),
        note="loan_type is aNS(15) and repay_method aN(2), stored as given (codes unconfirmed).",
    ),
]
