"""E-finance (전자금융, 전금-001…004 and 전금-101…103, `/v1/efin/...`, digest §6.4).

Two groups of APIs, each with its own asset list:
- prepaid e-money (선불전자지급수단): 전금-001 lists the person's prepaid means (권면, e.g. a pay-money balance),
  전금-002 gives one means' balances, 전금-003 its automatic top-up settings, 전금-004 its transactions;
- payments (결제내역): 전금-101 lists the person's payment accounts at the provider (`sub_key`), 전금-102 the
  payment methods registered on one account, 전금-103 the payments made with it.

The digest gives field names only for a 2021 draft that had one account list under `/accounts…`. The project's
reading of the current split, checked against a v2-era implementation (digest §10.1 S3, `elec/Elec00x`):
- the draft's per-account `fob_list` (balance) became the prepaid asset list: a prepaid means is identified by
  `fob_id` (권면 ID) and carries its name, limit (`limit_amt`, in the draft's balance list), whether an automatic
  top-up is registered (`is_charge`) and the member accounts holding it (`account_list[{account_id}]`);
- the draft's balance fields stay in 전금-002 (`total_balance_amt`, `charge_balance_amt`, `reserve_balance_amt`,
  `reserve_due_amt`, `exp_due_amt`) plus `withdrawable_amt`; the draft's charge fields became a list in 전금-003
  (`charge_list[{auto_charge_seq, charge_org_code, charge_account_num, charge_option, charge_day, charge_base_amt,
  charge_amt}]`);
- the draft's account entry (`sub_key`, `account_id`, `is_consent`, `account_status`) is the paid asset list
  (전금-101, `is_pay` replacing the draft's `is_pay_reg`), and its nested `pay_list[{pay_org_code, pay_id,
  is_primary}]` is 전금-102 (with `pay_type`);
- the draft's two transaction lists map onto 전금-004 and 전금-103, with the S3 additions (`trans_no`, order
  number `trans_num`, merchant registration number, `is_scheduled` on prepaid transactions, card fields on
  payments). Neither list carries `fob_name` any more: 전금-004 is requested per prepaid means.

A `reg_date` (가입일) per entry, which S3 has on both lists, is carried by the list response's `reg_date` instead:
the sandbox and provider treat `reg_date` as an exchange field, not a stored one. Code values (`charge_option`,
`trans_type`, `pay_type`, `pay_method`, `trans_category`) are unconfirmed and stored as given.

The generic provider checks an API's asset (40105/40402) against the sector's first asset list, which is the prepaid
list here; the paid APIs (전금-102/103) therefore set no `asset_field` and select records by `sub_key` only.
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
from openmydata.standard.types import DATE_OR_DTIME, DAY, Bool, StandardModel

if TYPE_CHECKING:
    FobId = str
    SubKey = str
    AccountId = str
    OrgCode = str
    Stamp = str
    Name = str
    Code2 = str
    TransType = str
    Category = str
    Currency = str
    ChargeAccount = str
    TransNo = str
    Counterpart = str
    Memo = str
    Regno = str
    PayId = str
    ApprovedNum = str
    Amount = Decimal
    Count = int
    Seq = int
    InstallCount = int
else:
    from openmydata.standard.types import AH, AN, F, N, aN, aNS

    FobId = aNS(64)
    SubKey = aNS(64)
    AccountId = aNS(100)
    OrgCode = aN(10)
    Stamp = aNS(14)
    Name = AH(300)
    Code2 = aN(2)
    TransType = aN(4)
    Category = aN(4)
    Currency = AN(3)
    ChargeAccount = AH(90)
    TransNo = aNS(64)
    Counterpart = AH(100)
    Memo = AH(90)
    Regno = aNS(12)
    PayId = aNS(100)
    ApprovedNum = aNS(20)
    Amount = F(18, 3)
    Count = N(3)
    Seq = N(3)
    InstallCount = N(5)

FOB_KEY = {"fob_id": "fob_id"}
SUB_KEY = {"sub_key": "sub_key"}
MEMO = "is_consent_trans_memo"
MERCHANT = "is_consent_merchant_name_regno"
CATEGORY = "is_consent_trans_category"
SENSITIVE = {
    "trans_memo": MEMO,
    "merchant_name": MERCHANT,
    "merchant_regno": MERCHANT,
    "trans_title": CATEGORY,
    "trans_category": CATEGORY,
}


# 전금-001
class FobAccount(StandardModel):
    account_id: AccountId  # 계정식별값, masked as the provider chooses


class Fob(StandardModel):
    fob_id: FobId
    fob_name: Name
    is_consent: Bool
    limit_amt: Amount | None = None
    is_charge: Bool = False
    is_withdrawable: Bool = False
    currency_code: Currency | None = None
    account_cnt: Count
    account_list: list[FobAccount]


class FobListResponse(ListResponse):
    fob_cnt: Count
    fob_list: list[Fob]


# 전금-002 / 전금-003
class FobRequest(InfoRequest):
    fob_id: FobId
    search_timestamp: Stamp | None = None


class BalanceResponse(StampedResponse):
    total_balance_amt: Amount
    charge_balance_amt: Amount
    reserve_balance_amt: Amount
    withdrawable_amt: Amount | None = None
    reserve_due_amt: Amount | None = None
    exp_due_amt: Amount | None = None


class AutoCharge(StandardModel):
    auto_charge_seq: Seq
    charge_org_code: OrgCode
    charge_account_num: ChargeAccount
    charge_option: Code2
    charge_day: DAY | None = None
    charge_base_amt: Amount | None = None
    charge_amt: Amount


class AutoChargeResponse(StampedResponse):
    charge_cnt: Count
    charge_list: list[AutoCharge]


# 전금-004
class FobTransactionsRequest(DateRange, PagedRequest):
    fob_id: FobId


class PrepaidTransaction(StandardModel):
    trans_dtime: DATE_OR_DTIME
    trans_no: TransNo | None = None
    trans_type: TransType
    trans_amt: Amount
    balance_amt: Amount
    trans_org_code: OrgCode | None = None
    trans_id: Counterpart | None = None
    trans_num: TransNo | None = None
    trans_memo: Memo | None = None
    merchant_name: Name | None = None
    merchant_regno: Regno | None = None
    trans_title: Name | None = None
    trans_category: Category | None = None
    pay_method: Code2 | None = None
    is_scheduled: Bool | None = None


class PrepaidTransactionsResponse(PagedResponse):
    trans_cnt: Count
    trans_list: list[PrepaidTransaction]


# 전금-101
class PaidAccount(StandardModel):
    sub_key: SubKey
    account_id: AccountId
    is_consent: Bool
    is_pay: Bool = False
    account_status: Code2 | None = None


class PaidAccountListResponse(ListResponse):
    account_cnt: Count
    account_list: list[PaidAccount]


# 전금-102
class SubKeyRequest(InfoRequest):
    sub_key: SubKey
    search_timestamp: Stamp | None = None


class PayMethod(StandardModel):
    pay_org_code: OrgCode
    pay_type: Code2
    pay_id: PayId
    is_primary: Bool = False


class PayMethodsResponse(StampedResponse):
    pay_cnt: Count
    pay_list: list[PayMethod]


# 전금-103
class PaymentsRequest(DateRange, PagedRequest):
    sub_key: SubKey


class Payment(StandardModel):
    trans_dtime: DATE_OR_DTIME
    trans_no: TransNo | None = None
    trans_num: TransNo | None = None
    trans_type: TransType
    currency_code: Currency | None = None
    trans_amt: Amount
    trans_org_code: OrgCode | None = None
    pay_type: Code2 | None = None
    pay_id: PayId | None = None
    approved_num: ApprovedNum | None = None
    card_name: Name | None = None
    total_install_cnt: InstallCount | None = None
    trans_memo: Memo | None = None
    merchant_name: Name | None = None
    merchant_regno: Regno | None = None
    trans_title: Name | None = None
    trans_category: Category | None = None
    pay_method: Code2 | None = None


class PaymentsResponse(PagedResponse):
    trans_cnt: Count
    trans_list: list[Payment]


SPECS = [
    ApiSpec(
        id="전금-001",
        api_code="EF01",
        title="선불전자지급수단 목록 조회",
        sector=Sector.EFIN,
        method="GET",
        resource="/prepaid",
        request=ListRequest,
        response=FobListResponse,
        kind=Kind.ASSET_LIST,
        scope="efin.list",
        cycle=CycleClass.BASIC,
        list_field="fob_list",
        count_field="fob_cnt",
        record_model=Fob,
        paged=True,
        search_timestamp=True,
        asset_id_field="fob_id",
        record_key=("fob_id",),
        note=(
            "The project's reading (2021 draft mapped onto the split, names from a v2-era implementation): one entry "
            "per prepaid means (권면) with fob_id aNS(64), limit_amt, is_charge, is_withdrawable, currency_code and "
            "account_list[{account_id}]; paged like 은행-001; the per-entry 가입일 travels as the response's reg_date."
        ),
    ),
    ApiSpec(
        id="전금-002",
        api_code="EF02",
        title="선불전자지급수단 잔액정보 조회",
        sector=Sector.EFIN,
        method="POST",
        resource="/prepaid/balance",
        request=FobRequest,
        response=BalanceResponse,
        kind=Kind.ASSET_INFO,
        scope="efin.prepaid",
        cycle=CycleClass.ADDITIONAL,
        search_timestamp=True,
        asset_field="fob_id",
        key_fields=("fob_id",),
        source=Source("전금-001", FOB_KEY),
        note=(
            "The project's reading: one object per prepaid means (requested by fob_id) with the 2021 draft's balance "
            "fields and withdrawable_amt; total = charge (충전) + reserve (적립) balance."
        ),
    ),
    ApiSpec(
        id="전금-003",
        api_code="EF03",
        title="선불전자지급수단 자동충전정보 조회",
        sector=Sector.EFIN,
        method="POST",
        resource="/prepaid/charge",
        request=FobRequest,
        response=AutoChargeResponse,
        kind=Kind.RECORDS,
        scope="efin.prepaid",
        cycle=CycleClass.BASIC,
        list_field="charge_list",
        count_field="charge_cnt",
        record_model=AutoCharge,
        search_timestamp=True,
        asset_field="fob_id",
        key_fields=("fob_id",),
        record_key=("auto_charge_seq",),
        source=Source("전금-001", FOB_KEY),
        note=(
            "The project's reading: the 2021 draft's single charge object became charge_list, one entry per "
            "automatic top-up setting (auto_charge_seq); charge_option (충전조건) is a code stored as given, "
            "charge_org_code aN(10) accepts 3-digit bank codes, charge_account_num is masked text."
        ),
    ),
    ApiSpec(
        id="전금-004",
        api_code="EF04",
        title="선불전자지급수단 거래내역 조회",
        sector=Sector.EFIN,
        method="POST",
        resource="/prepaid/transactions",
        request=FobTransactionsRequest,
        response=PrepaidTransactionsResponse,
        kind=Kind.RECORDS,
        scope="efin.prepaid",
        cycle=CycleClass.ADDITIONAL,
        list_field="trans_list",
        count_field="trans_cnt",
        record_model=PrepaidTransaction,
        paged=True,
        asset_field="fob_id",
        key_fields=("fob_id",),
        range_fields=("from_date", "to_date"),
        record_period_field="trans_dtime",
        record_key=("trans_dtime", "trans_no"),
        source=Source("전금-001", FOB_KEY),
        sensitive=SENSITIVE,
        note=(
            "The project's reading: requested per prepaid means; trans_type aN(4) (mocks send 4 digits), balance_amt "
            "is the means' total balance after the transaction; trans_memo, merchant name and registration number, "
            "trans_title and trans_category need their consent flags."
        ),
    ),
    ApiSpec(
        id="전금-101",
        api_code="EF11",
        title="결제내역 계정 목록 조회",
        sector=Sector.EFIN,
        method="GET",
        resource="/paid",
        request=ListRequest,
        response=PaidAccountListResponse,
        kind=Kind.ASSET_LIST,
        scope="efin.list",
        cycle=CycleClass.BASIC,
        list_field="account_list",
        count_field="account_cnt",
        record_model=PaidAccount,
        paged=True,
        search_timestamp=True,
        asset_id_field="sub_key",
        record_key=("sub_key",),
        note=(
            "The project's reading: the 2021 draft's account entry (sub_key ≤64, request key of 전금-102/103; "
            "account_id masked; optional account_status) with is_pay (결제수단 등록 여부, the draft's is_pay_reg); "
            "paged like 은행-001."
        ),
    ),
    ApiSpec(
        id="전금-102",
        api_code="EF12",
        title="결제수단 정보 조회",
        sector=Sector.EFIN,
        method="POST",
        resource="/paid/methods",
        request=SubKeyRequest,
        response=PayMethodsResponse,
        kind=Kind.RECORDS,
        scope="efin.paid",
        cycle=CycleClass.BASIC,
        list_field="pay_list",
        count_field="pay_cnt",
        record_model=PayMethod,
        search_timestamp=True,
        key_fields=("sub_key",),
        record_key=("pay_type", "pay_org_code", "pay_id"),
        source=Source("전금-101", SUB_KEY),
        note=(
            "The project's reading: the 2021 draft's nested pay_list per account, plus pay_type (결제수단 식별코드); "
            "no asset_field because the generic provider checks assets against the sector's first list (전금-001)."
        ),
    ),
    ApiSpec(
        id="전금-103",
        api_code="EF13",
        title="결제내역 조회",
        sector=Sector.EFIN,
        method="POST",
        resource="/paid/transactions",
        request=PaymentsRequest,
        response=PaymentsResponse,
        kind=Kind.RECORDS,
        scope="efin.paid",
        cycle=CycleClass.ADDITIONAL,
        list_field="trans_list",
        count_field="trans_cnt",
        record_model=Payment,
        paged=True,
        key_fields=("sub_key",),
        range_fields=("from_date", "to_date"),
        record_period_field="trans_dtime",
        record_key=("trans_dtime", "trans_no"),
        source=Source("전금-101", SUB_KEY),
        sensitive=SENSITIVE,
        note=(
            "The project's reading: the 2021 draft's payment fields without fob_name, with trans_no, currency_code, "
            "pay_type/pay_id of the method used and card fields (approved_num, card_name); a cancellation is its own "
            "record at its own trans_dtime; no asset_field (see 전금-102)."
        ),
    ),
]
