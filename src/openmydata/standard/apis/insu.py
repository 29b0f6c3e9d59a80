"""Insurance (보험-001…012, `/v1/insu/...`, digest §6.5, scopes per §10.7; IRP is in `irp`).

Two asset lists: 보험-001 lists the person's insurance contracts (`insu_num`), 보험-008 the loans taken against
them (보험계약대출, `account_num`). 보험-002…007 and 보험-012 are per contract, 보험-009…011 per loan. Everything
after the lists is POST with a JSON body.

The project's readings where the digest is silent (each also in the spec's `note`):
- both lists are not paged: the digest and the one collector seen send org_code and search_timestamp only;
- 보험-002 carries `insured_cnt` (every list has a count; an operator's schema stores it);
- 보험-003 is selected by `insu_num` alone: the standard's request adds `insured_no` (from 보험-002's
  insured_list), but a collector cannot take a key from a list nested in an ASSET_INFO response, so a request's
  `insured_no` is optional and the answer lists the riders of every insured person, each entry naming its
  `insured_no`;
- 보험-004 entries name their `insu_num`, so that 보험-007 can take (insu_num, car_number) from one record;
- 보험-007 entries carry `trans_dtime` (the API is date-ranged, yet the digest lists no date; one operator's
  schema stores trans_dtime); `face_amt` there is read as the premium billed for the payment;
- 보험-006 `trans_applied_month` is a month (YYYYMM), `trans_no` (납입회차 in implementations) is aNS(64);
- 보험-012 (보장정보) is the project's design: coverage_list[{insured_no, coverage_num, coverage_name,
  coverage_status, coverage_amt, currency_code, coverage_start_date, coverage_exp_date}];
- code fields (insu_type, insu_status, contract_status, car_insu_type, self_pay_rate, pay_due, pay_cycle,
  pay_method, pension_rcv_cycle, repay_method, int_type, coverage_status) are aN(2) stored as given; the
  sandbox's meanings are in `openmydata.sandbox.insu.CODES`.

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
from openmydata.standard.types import DATE, DATE_OR_DTIME, DAY, MONTH, Bool, StandardModel

if TYPE_CHECKING:
    InsuNum = str
    AccountNum = str
    InsuredNo = str
    CoverageNum = str
    CarNumber = str
    OrgCode = str
    Stamp = str
    TransNo = str
    Code2 = str
    Code4 = str
    Currency = str
    Name = str
    PersonName = str
    Text = str
    Amount = Decimal
    Rate = Decimal
    Count = int
    PayCount = int
else:
    from openmydata.standard.types import AH, AN, F, N, aN, aNS

    InsuNum = aNS(20)
    AccountNum = aN(20)
    InsuredNo = aN(10)
    CoverageNum = aN(20)
    CarNumber = AH(17)
    OrgCode = aN(10)
    Stamp = aNS(14)
    TransNo = aNS(64)
    Code2 = aN(2)
    Code4 = aN(4)
    Currency = AN(3)
    Name = AH(300)
    PersonName = AH(90)
    Text = AH(90)
    Amount = F(18, 3)
    Rate = F(5, 3)
    Count = N(3)
    PayCount = N(5)

INSU_KEY = {"insu_num": "insu_num"}
LOAN_KEY = {"account_num": "account_num"}


class InsuranceRequest(InfoRequest):
    insu_num: InsuNum
    search_timestamp: Stamp | None = None


class InsuranceHistoryRequest(DateRange, PagedRequest):
    insu_num: InsuNum


class LoanRequest(InfoRequest):
    account_num: AccountNum
    search_timestamp: Stamp | None = None


class LoanHistoryRequest(DateRange, PagedRequest):
    account_num: AccountNum


# 보험-001
class Insurance(StandardModel):
    insu_num: InsuNum
    is_consent: Bool
    prod_name: Name
    insu_type: Code2  # 보험종류
    insu_status: Code2  # 계약상태


class InsuranceListResponse(StampedResponse):
    insu_cnt: Count
    insu_list: list[Insurance]


# 보험-002
class Insured(StandardModel):
    insured_no: InsuredNo
    insured_name: PersonName


class InsuranceBasicResponse(StampedResponse):
    is_renewable: Bool
    issue_date: DATE
    exp_date: DATE
    face_amt: Amount
    currency_code: Currency
    is_variable: Bool
    is_universal: Bool
    pension_rcv_start_date: DATE | None = None
    pension_rcv_cycle: Code2 | None = None
    is_loanable: Bool
    insured_cnt: Count
    insured_list: list[Insured]


# 보험-003
class ContractsRequest(InsuranceRequest):
    insured_no: InsuredNo | None = None


class Contract(StandardModel):
    insured_no: InsuredNo | None = None  # the project's addition: whose rider this is
    contract_name: Name
    contract_status: Code2
    contract_exp_date: DATE
    contract_face_amt: Amount
    currency_code: Currency
    is_required: Bool  # 기본계약 (true) or 특약 (false)


class ContractsResponse(StampedResponse):
    contract_cnt: Count
    contract_list: list[Contract]


# 보험-004
class CarInsurance(StandardModel):
    insu_num: InsuNum | None = None  # the project's addition: the key 보험-007 takes with car_number
    car_number: CarNumber
    car_insu_type: Code2
    car_name: Name
    start_date: DATE
    end_date: DATE
    contract_age: Text  # 연령특약, e.g. 만 26세 이상
    contract_driver: Text  # 운전자 범위, e.g. 부부 한정
    is_own_dmg_coverage: Bool  # 자기차량손해 가입
    self_pay_rate: Code2  # 자기부담금 구분
    self_pay_amt: Amount


class CarInsuranceResponse(StampedResponse):
    car_insu_cnt: Count
    car_insu_list: list[CarInsurance]


# 보험-005
class PaymentResponse(StampedResponse):
    pay_due: Code2  # 납입기간구분
    pay_cycle: Code2  # 납입주기
    pay_cnt: PayCount  # 납입회차 (payments made so far)
    pay_org_code: OrgCode | None = None  # where automatic payments are drawn from
    pay_date: DAY | None = None  # 납입일 (day of month)
    pay_end_date: DATE  # 납입만기일
    pay_amt: Amount  # 납입보험료 per payment
    currency_code: Currency
    is_auto_pay: Bool


# 보험-006
class InsuranceTransaction(StandardModel):
    trans_date: DATE
    trans_applied_month: MONTH  # the month the premium is for
    trans_no: TransNo  # 납입회차
    paid_amt: Amount
    currency_code: Currency
    pay_method: Code2  # 수금방법


class InsuranceTransactionsResponse(PagedResponse):
    trans_cnt: Count
    trans_list: list[InsuranceTransaction]


# 보험-007
class CarHistoryRequest(InsuranceHistoryRequest):
    car_number: CarNumber


class CarTransaction(StandardModel):
    trans_dtime: DATE_OR_DTIME  # the project's addition (the API is date-ranged)
    trans_no: TransNo
    face_amt: Amount  # the premium billed for this payment
    paid_amt: Amount
    pay_method: Code2


class CarTransactionsResponse(PagedResponse):
    trans_cnt: Count
    trans_list: list[CarTransaction]


# 보험-008
class Loan(StandardModel):
    prod_name: Name
    account_num: AccountNum
    is_consent: Bool
    account_type: Code4  # 3400 보험계약대출 (§10.2)
    account_status: Code2


class LoanListResponse(StampedResponse):
    loan_cnt: Count
    loan_list: list[Loan]


# 보험-009
class LoanBasicResponse(StampedResponse):
    loan_start_date: DATE
    loan_exp_date: DATE
    repay_method: Code2
    insu_num: InsuNum | None = None  # the contract the loan is drawn on


# 보험-010
class LoanDetailResponse(StampedResponse):
    currency_code: Currency
    balance_amt: Amount
    loan_principal: Amount
    next_repay_date: DATE | None = None


# 보험-011
class Interest(StandardModel):
    int_start_date: DATE
    int_end_date: DATE
    int_rate: Rate
    int_type: Code2


class LoanTransaction(StandardModel):
    trans_no: TransNo | None = None
    trans_dtime: DATE_OR_DTIME
    currency_code: Currency
    loan_paid_amt: Amount  # 상환원금
    int_paid_amt: Amount  # 이자
    int_cnt: Count
    int_list: list[Interest]


class LoanTransactionsResponse(PagedResponse):
    trans_cnt: Count
    trans_list: list[LoanTransaction]


# 보험-012 (the project's design)
class Coverage(StandardModel):
    insured_no: InsuredNo | None = None
    coverage_num: CoverageNum  # the coverage's number within the contract
    coverage_name: Name  # 보장명, e.g. 일반암진단비
    coverage_status: Code2
    coverage_amt: Amount  # 보장금액
    currency_code: Currency
    coverage_start_date: DATE | None = None
    coverage_exp_date: DATE | None = None


class CoveragesResponse(StampedResponse):
    coverage_cnt: Count
    coverage_list: list[Coverage]


def _insurance_info(
    api_id: str,
    code: str,
    title: str,
    resource: str,
    response: type[StandardModel],
    note: str = "",
) -> ApiSpec:
    """One object per contract (보험-002, 보험-005): 기본 cycle, search_timestamp."""
    return ApiSpec(
        id=api_id,
        api_code=code,
        title=title,
        sector=Sector.INSU,
        method="POST",
        resource=resource,
        request=InsuranceRequest,
        response=response,
        kind=Kind.ASSET_INFO,
        scope="insu.insurance",
        cycle=CycleClass.BASIC,
        search_timestamp=True,
        asset_field="insu_num",
        key_fields=("insu_num",),
        source=Source("보험-001", INSU_KEY),
        note=note,
    )


def _insurance_records(
    api_id: str,
    code: str,
    title: str,
    resource: str,
    cycle: CycleClass,
    request: type[StandardModel],
    response: type[StandardModel],
    list_name: str,
    record: type[StandardModel],
    record_key: tuple[str, ...],
    note: str,
) -> ApiSpec:
    """A list per contract without paging (보험-003, 보험-004, 보험-012)."""
    return ApiSpec(
        id=api_id,
        api_code=code,
        title=title,
        sector=Sector.INSU,
        method="POST",
        resource=resource,
        request=request,
        response=response,
        kind=Kind.RECORDS,
        scope="insu.insurance",
        cycle=cycle,
        list_field=f"{list_name}_list",
        count_field=f"{list_name}_cnt",
        record_model=record,
        search_timestamp=True,
        asset_field="insu_num",
        key_fields=("insu_num",),
        record_key=record_key,
        source=Source("보험-001", INSU_KEY),
        note=note,
    )


def _loan_info(
    api_id: str, code: str, title: str, resource: str, cycle: CycleClass, response: type[StandardModel]
) -> ApiSpec:
    return ApiSpec(
        id=api_id,
        api_code=code,
        title=title,
        sector=Sector.INSU,
        method="POST",
        resource=resource,
        request=LoanRequest,
        response=response,
        kind=Kind.ASSET_INFO,
        scope="insu.loan",
        cycle=cycle,
        search_timestamp=True,
        asset_field="account_num",
        key_fields=("account_num",),
        source=Source("보험-008", LOAN_KEY),
    )


SPECS = [
    ApiSpec(
        id="보험-001",
        api_code="IS01",
        title="보험 목록 조회",
        sector=Sector.INSU,
        method="GET",
        resource="/insurances",
        request=StampedRequest,
        response=InsuranceListResponse,
        kind=Kind.ASSET_LIST,
        scope="insu.list",
        cycle=CycleClass.BASIC,
        list_field="insu_list",
        count_field="insu_cnt",
        record_model=Insurance,
        search_timestamp=True,
        asset_id_field="insu_num",
        record_key=("insu_num",),
        note=(
            "Not paged (org_code and search_timestamp only, as the one collector seen calls it). insu_num is "
            "aNS(20); insu_type (보험종류) and insu_status (계약상태) are aN(2) codes stored as given."
        ),
    ),
    _insurance_info(
        "보험-002",
        "IS02",
        "보험 기본정보 조회",
        "/insurances/basic",
        InsuranceBasicResponse,
        note=(
            "insured_cnt (the count of insured_list) is the project's addition, as every list has a count; "
            "insured_no aN(10), insured_name AH(90); pension_rcv_start_date and pension_rcv_cycle only for "
            "pension contracts."
        ),
    ),
    _insurance_records(
        "보험-003",
        "IS03",
        "보험 특약정보 조회",
        "/insurances/contracts",
        CycleClass.BASIC,
        ContractsRequest,
        ContractsResponse,
        "contract",
        Contract,
        ("insured_no", "contract_name"),
        note=(
            "Selected by insu_num alone: the standard's request adds insured_no from 보험-002's insured_list, "
            "which a collector cannot take from a list nested in an ASSET_INFO answer, so insured_no is optional "
            "and the answer lists the riders of every insured person, each entry naming its insured_no (the "
            "project's addition)."
        ),
    ),
    _insurance_records(
        "보험-004",
        "IS04",
        "자동차보험 정보 조회",
        "/insurances/car",
        CycleClass.BASIC,
        InsuranceRequest,
        CarInsuranceResponse,
        "car_insu",
        CarInsurance,
        ("car_number", "car_insu_type"),
        note=(
            "Called for every contract (the list is empty for contracts other than car insurance, since no "
            "insu_type code is confirmed); each entry also names its insu_num (the project's addition) so that "
            "보험-007 takes (insu_num, car_number) from one record; car_number is AH(17) (plates carry Hangul)."
        ),
    ),
    _insurance_info(
        "보험-005",
        "IS05",
        "보험 납입정보 조회",
        "/insurances/payment",
        PaymentResponse,
        note=(
            "pay_date is the day of the month (DD), pay_cnt N(5) the payments made so far, pay_org_code aN(10) "
            "is only sent for automatic payments; pay_due, pay_cycle codes stored as given."
        ),
    ),
    ApiSpec(
        id="보험-006",
        api_code="IS06",
        title="보험 거래내역 조회",
        sector=Sector.INSU,
        method="POST",
        resource="/insurances/transactions",
        request=InsuranceHistoryRequest,
        response=InsuranceTransactionsResponse,
        kind=Kind.RECORDS,
        scope="insu.insurance",
        cycle=CycleClass.ADDITIONAL,
        list_field="trans_list",
        count_field="trans_cnt",
        record_model=InsuranceTransaction,
        paged=True,
        asset_field="insu_num",
        key_fields=("insu_num",),
        range_fields=("from_date", "to_date"),
        record_period_field="trans_date",
        record_key=("trans_date", "trans_no"),
        source=Source("보험-001", INSU_KEY),
        note=(
            "Paged like every ranged history. trans_applied_month is read as the month (YYYYMM) the premium is "
            "for; trans_no is the instalment number (납입회차) in implementations, typed aNS(64)."
        ),
    ),
    ApiSpec(
        id="보험-007",
        api_code="IS07",
        title="자동차보험 거래내역 조회",
        sector=Sector.INSU,
        method="POST",
        resource="/insurances/car/transactions",
        request=CarHistoryRequest,
        response=CarTransactionsResponse,
        kind=Kind.RECORDS,
        scope="insu.insurance",
        cycle=CycleClass.ADDITIONAL,
        list_field="trans_list",
        count_field="trans_cnt",
        record_model=CarTransaction,
        paged=True,
        asset_field="insu_num",
        key_fields=("insu_num", "car_number"),
        range_fields=("from_date", "to_date"),
        record_period_field="trans_dtime",
        record_key=("trans_dtime", "trans_no"),
        source=Source("보험-004", {"insu_num": "insu_num", "car_number": "car_number"}),
        note=(
            "The digest lists no date on the entries of this date-ranged API: trans_dtime (DTIME or DATE) is the "
            "project's addition, as one operator's schema stores it; face_amt is read as the premium billed for "
            "the payment and paid_amt as the amount paid."
        ),
    ),
    ApiSpec(
        id="보험-008",
        api_code="IS11",
        title="대출상품 목록 조회",
        sector=Sector.INSU,
        method="GET",
        resource="/loans",
        request=StampedRequest,
        response=LoanListResponse,
        kind=Kind.ASSET_LIST,
        scope="insu.list",
        cycle=CycleClass.BASIC,
        list_field="loan_list",
        count_field="loan_cnt",
        record_model=Loan,
        search_timestamp=True,
        asset_id_field="account_num",
        record_key=("account_num",),
        note=(
            "The sector's second asset list (loans against insurance contracts), not paged; account_type uses the "
            "bank table of §10.2 (3400 보험계약대출)."
        ),
    ),
    _loan_info("보험-009", "IS12", "대출상품 기본정보 조회", "/loans/basic", CycleClass.BASIC, LoanBasicResponse),
    _loan_info(
        "보험-010", "IS13", "대출상품 추가정보 조회", "/loans/detail", CycleClass.ADDITIONAL, LoanDetailResponse
    ),
    ApiSpec(
        id="보험-011",
        api_code="IS14",
        title="대출상품 거래내역 조회",
        sector=Sector.INSU,
        method="POST",
        resource="/loans/transactions",
        request=LoanHistoryRequest,
        response=LoanTransactionsResponse,
        kind=Kind.RECORDS,
        scope="insu.loan",
        cycle=CycleClass.ADDITIONAL,
        list_field="trans_list",
        count_field="trans_cnt",
        record_model=LoanTransaction,
        paged=True,
        asset_field="account_num",
        key_fields=("account_num",),
        range_fields=("from_date", "to_date"),
        record_period_field="trans_dtime",
        record_key=("trans_dtime", "trans_no"),
        source=Source("보험-008", LOAN_KEY),
        note="int_list entries as in 은행-010 (int_type aN(2) stored as given); trans_no optional.",
    ),
    _insurance_records(
        "보험-012",
        "IS08",
        "보험 보장정보 조회",
        "/insurances/coverages",
        CycleClass.ADDITIONAL,
        InsuranceRequest,
        CoveragesResponse,
        "coverage",
        Coverage,
        ("insured_no", "coverage_num"),
        note=(
            "Fields unconfirmed (a later addition); the project's design: coverage_list[{insured_no, "
            "coverage_num aN(20), coverage_name, coverage_status aN(2), coverage_amt, currency_code, "
            "coverage_start_date, coverage_exp_date}], per contract, not paged."
        ),
    ),
]
