"""Telecom, financial standard (통신-001…004, `/v1/telecom/...`, digest §6.3 with the §10.2 glosses).

통신-001 lists the person's contracts (`mgmt_id` 계약관리번호); 통신-002 gives every contract's bill for one
charge month; 통신-003 (monthly payments) and 통신-004 (micro-payments charged to the phone bill) are per contract.
Everything after the list is POST with a JSON body.

Field types are named aliases: mypy sees the plain Python type, pydantic the standard's constrained type.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from openmydata.standard.catalogue import ApiSpec, CycleClass, Kind, Sector, Source
from openmydata.standard.models import (
    DateRange,
    Envelope,
    InfoRequest,
    MonthRange,
    PagedRequest,
    PagedResponse,
    StampedRequest,
    StampedResponse,
)
from openmydata.standard.types import DATE, MONTH, Bool, StandardModel

if TYPE_CHECKING:
    MgmtId = str
    TelecomNum = str
    Code2 = str
    Text = str
    Regno = str
    Amount = Decimal
    Count = int
else:
    from openmydata.standard.types import AH, F, N, aN, aNS

    MgmtId = aNS(15)
    TelecomNum = aNS(20)
    Code2 = aN(2)
    Text = AH(300)
    Regno = aNS(12)
    Amount = F(18, 3)
    Count = N(3)

MGMT_KEY = {"mgmt_id": "mgmt_id"}


# 통신-001
class Contract(StandardModel):
    mgmt_id: MgmtId
    is_consent: Bool
    telecom_num: TelecomNum
    type: Code2  # 통신구분 (service kind)
    status: Code2  # 가입구분 (subscription class)


class ContractListResponse(StampedResponse):
    telecom_cnt: Count
    telecom_list: list[Contract]


# 통신-002
class BillsRequest(InfoRequest):
    charge_month: MONTH


class Bill(StandardModel):
    mgmt_id: MgmtId
    charge_amt: Amount
    charge_date: DATE  # 납부예정일자 (payment due date)


class BillsResponse(Envelope):
    bill_cnt: Count
    bill_list: list[Bill]


# 통신-003
class PaymentsRequest(MonthRange, InfoRequest):
    mgmt_id: MgmtId


class Payment(StandardModel):
    trans_month: MONTH
    paid_amt: Amount
    pay_method: Code2


class PaymentsResponse(Envelope):
    trans_cnt: Count
    trans_list: list[Payment]


# 통신-004
class PaidTransactionsRequest(DateRange, PagedRequest):
    mgmt_id: MgmtId


class PaidTransaction(StandardModel):
    trans_date: DATE
    trans_amt: Amount
    org_regno: Regno | None = None  # the merchant's business registration number
    merchant_name: Text | None = None
    trans_title: Text | None = None  # the item bought


class PaidTransactionsResponse(PagedResponse):
    trans_cnt: Count
    trans_list: list[PaidTransaction]


SPECS = [
    ApiSpec(
        id="통신-001",
        api_code="TC01",
        title="통신 계약 목록 조회",
        sector=Sector.TELECOM,
        method="GET",
        resource="/telecoms",
        request=StampedRequest,
        response=ContractListResponse,
        kind=Kind.ASSET_LIST,
        scope="telecom.list",
        cycle=CycleClass.BASIC,
        list_field="telecom_list",
        count_field="telecom_cnt",
        record_model=Contract,
        search_timestamp=True,
        asset_id_field="mgmt_id",
        record_key=("mgmt_id",),
        note=(
            "Not paged (the digest lists org_code and search_timestamp only). mgmt_id aNS(15); telecom_num "
            "aNS(20), masked as the provider chooses; type (통신구분) and status (가입구분, not a contract state) "
            "are aN(2) codes stored as given."
        ),
    ),
    ApiSpec(
        id="통신-002",
        api_code="TC02",
        title="통신 청구 정보 조회",
        sector=Sector.TELECOM,
        method="POST",
        resource="/telecoms/bills",
        request=BillsRequest,
        response=BillsResponse,
        kind=Kind.RECORDS,
        scope="telecom.mgmt",
        cycle=CycleClass.ADDITIONAL,
        list_field="bill_list",
        count_field="bill_cnt",
        record_model=Bill,
        period_field="charge_month",
        record_key=("mgmt_id", "charge_date"),
        note=(
            "POST with a JSON body (2021 builds used GET). Customer-level: selects every contract's bill for "
            "charge_month; a bill entry carries no charge_month, so a stored record's period is its charge "
            "month (StoredRecord.period) and a collector iterates months. Record key (mgmt_id, charge_date)."
        ),
    ),
    ApiSpec(
        id="통신-003",
        api_code="TC03",
        title="통신 납부 정보 조회",
        sector=Sector.TELECOM,
        method="POST",
        resource="/telecoms/transactions",
        request=PaymentsRequest,
        response=PaymentsResponse,
        kind=Kind.RECORDS,
        scope="telecom.mgmt",
        cycle=CycleClass.ADDITIONAL,
        list_field="trans_list",
        count_field="trans_cnt",
        record_model=Payment,
        asset_field="mgmt_id",
        key_fields=("mgmt_id",),
        range_fields=("from_month", "to_month"),
        record_period_field="trans_month",
        record_key=("trans_month", "pay_method", "paid_amt"),
        source=Source("통신-001", MGMT_KEY),
        note=(
            "Cycle 추가 as in the latest table (the v202105-1 changelog says 기본; conflicting). Not paged. "
            "pay_method (납부수단) aN(2) stored as given."
        ),
    ),
    ApiSpec(
        id="통신-004",
        api_code="TC04",
        title="통신 결제 내역 조회",
        sector=Sector.TELECOM,
        method="POST",
        resource="/telecoms/paid-transactions",
        request=PaidTransactionsRequest,
        response=PaidTransactionsResponse,
        kind=Kind.RECORDS,
        scope="telecom.mgmt",
        cycle=CycleClass.ADDITIONAL,
        list_field="trans_list",
        count_field="trans_cnt",
        record_model=PaidTransaction,
        paged=True,
        asset_field="mgmt_id",
        key_fields=("mgmt_id",),
        range_fields=("from_date", "to_date"),
        record_period_field="trans_date",
        record_key=("trans_date", "trans_amt"),
        source=Source("통신-001", MGMT_KEY),
        sensitive={
            "merchant_name": "is_consent_merchant_name_regno",
            "org_regno": "is_consent_merchant_name_regno",
            "trans_title": "is_consent_trans_category",
        },
        note=(
            "org_regno (merchant registration number, aNS(12)) and merchant_name need "
            "is_consent_merchant_name_regno; trans_title (the item bought) is read as the purchase category "
            "and needs is_consent_trans_category."
        ),
    ),
]
