"""개인형 IRP (IRP-001…004, digest §6.0 and §10.2), served by banks, investment firms and insurers.

One entry per API, served under each of the three industries (`ApiSpec.industries`): written for `bank`
(`/v1/bank/irps…`, scopes bank.list / bank.irp) and bound by the catalogue to `invest` (`/v1/invest/irps…`,
invest.irp) and `insu` (`/v1/insu/irps…`, insu.irp), per §10.7 (`<industry>.irp` covers `/irps/*`). api_codes
IR01…IR04 (spec 첨부12).

Fields are the digest's (§6.0 row IRP-001…004):
- IRP-001 GET `/irps`: `irp_list[{prod_name, account_num, seqno, is_consent, account_status}]`;
- IRP-002 POST `/irps/basic`: `accum_amt` (적립금), `eval_amt` (평가금), `employer_amt` (사용자부담금: the employer's
  contributions and transferred retirement pay), `employee_amt` (가입자부담금: the holder's own), `issue_date`,
  `first_deposit_date`;
- IRP-003 POST `/irps/detail` (paged): the products held in the account,
  `irp_list[{irp_name, irp_type, eval_amt, inv_principal, fund_num, open_date, exp_date, int_rate}]`, irp_type per
  §10.2 (01 원리금 보장, 02 원리금 비보장, 03 기타);
- IRP-004 POST `/irps/transactions`: `trans_list[{trans_dtime (DTIME or DATE), trans_no, trans_type, trans_amt}]`,
  trans_type per §10.2 (01 입금, 02 지급).

The project's reading where the digest is silent (marked in each spec's `note`): the request fields follow the bank
account APIs (`account_num` aN(20), `seqno` aN(7), search_timestamp on the list, basic and detail APIs, from_date /
to_date with next_page / limit on the transactions); IRP-001 pages like 은행-001 and needs `<industry>.list` (§10.7:
the list APIs); the count fields are `irp_cnt` and `trans_cnt`; the cycles are 기본 for the list and basic APIs,
추가 for detail and transactions, like the bank deposit APIs; first_deposit_date (an account not yet paid into),
fund_num (funds only), exp_date and int_rate (deposits only) and trans_no may be absent.
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
    AccountNum = str
    Seqno = str
    Stamp = str
    TransNo = str
    Code2 = str
    Name = str
    Amount = Decimal
    Rate = Decimal
    FundUnits = Decimal
    Count = int
    LongCount = int
else:
    from openmydata.standard.types import AH, F, N, aN, aNS

    AccountNum = aN(20)
    Seqno = aN(7)
    Stamp = aNS(14)
    TransNo = aNS(64)
    Code2 = aN(2)
    Name = AH(300)
    Amount = F(18, 3)
    Rate = F(5, 3)
    FundUnits = F(18, 3)
    Count = N(3)
    LongCount = N(5)

IRP_INDUSTRIES = (Sector.BANK, Sector.INVEST, Sector.INSU)
IRP_KEY = {"account_num": "account_num", "seqno": "seqno"}
LIST_ID = "IRP-001"


class IrpRequest(InfoRequest):
    account_num: AccountNum
    seqno: Seqno | None = None
    search_timestamp: Stamp | None = None


class IrpDetailRequest(PagedRequest):
    account_num: AccountNum
    seqno: Seqno | None = None
    search_timestamp: Stamp | None = None


class IrpHistoryRequest(DateRange, PagedRequest):
    account_num: AccountNum
    seqno: Seqno | None = None


# IRP-001
class IrpAccount(StandardModel):
    prod_name: Name
    account_num: AccountNum
    seqno: Seqno | None = None
    is_consent: Bool
    account_status: Code2


class IrpListResponse(ListResponse):
    irp_cnt: LongCount
    irp_list: list[IrpAccount]


# IRP-002
class IrpBasicResponse(StampedResponse):
    accum_amt: Amount
    eval_amt: Amount
    employer_amt: Amount
    employee_amt: Amount
    issue_date: DATE
    first_deposit_date: DATE | None = None


# IRP-003
class IrpProduct(StandardModel):
    irp_name: Name
    irp_type: Code2
    eval_amt: Amount
    inv_principal: Amount
    fund_num: FundUnits | None = None
    open_date: DATE
    exp_date: DATE | None = None
    int_rate: Rate | None = None


class IrpDetailResponse(PagedResponse):
    search_timestamp: Stamp | None = None
    irp_cnt: Count
    irp_list: list[IrpProduct]


# IRP-004
class IrpTransaction(StandardModel):
    trans_dtime: DATE_OR_DTIME
    trans_no: TransNo | None = None
    trans_type: Code2
    trans_amt: Amount


class IrpTransactionsResponse(PagedResponse):
    trans_cnt: Count
    trans_list: list[IrpTransaction]


SPECS = [
    ApiSpec(
        id=LIST_ID,
        api_code="IR01",
        title="개인형 IRP 계좌 목록 조회",
        sector=Sector.BANK,
        industries=IRP_INDUSTRIES,
        method="GET",
        resource="/irps",
        request=ListRequest,
        response=IrpListResponse,
        kind=Kind.ASSET_LIST,
        scope="bank.list",
        cycle=CycleClass.BASIC,
        list_field="irp_list",
        count_field="irp_cnt",
        record_model=IrpAccount,
        paged=True,
        search_timestamp=True,
        asset_id_field="account_num",
        record_key=("account_num", "seqno"),
        note=(
            "The project's reading: served by banks, investment firms and insurers under /v1/<industry>/irps with "
            "<industry>.list (§10.7: the list APIs); paged with search_timestamp like 은행-001; count field irp_cnt."
        ),
    ),
    ApiSpec(
        id="IRP-002",
        api_code="IR02",
        title="개인형 IRP 계좌 기본정보 조회",
        sector=Sector.BANK,
        industries=IRP_INDUSTRIES,
        method="POST",
        resource="/irps/basic",
        request=IrpRequest,
        response=IrpBasicResponse,
        kind=Kind.ASSET_INFO,
        scope="bank.irp",
        cycle=CycleClass.BASIC,
        search_timestamp=True,
        asset_field="account_num",
        key_fields=("account_num", "seqno"),
        source=Source(LIST_ID, IRP_KEY),
        note=(
            "The project's reading: request fields as 은행-002 (account_num, seqno, search_timestamp); cycle 기본; "
            "first_deposit_date is left out for an account never paid into."
        ),
    ),
    ApiSpec(
        id="IRP-003",
        api_code="IR03",
        title="개인형 IRP 계좌 추가정보 조회",
        sector=Sector.BANK,
        industries=IRP_INDUSTRIES,
        method="POST",
        resource="/irps/detail",
        request=IrpDetailRequest,
        response=IrpDetailResponse,
        kind=Kind.RECORDS,
        scope="bank.irp",
        cycle=CycleClass.ADDITIONAL,
        list_field="irp_list",
        count_field="irp_cnt",
        record_model=IrpProduct,
        paged=True,
        search_timestamp=True,
        asset_field="account_num",
        key_fields=("account_num", "seqno"),
        record_key=("irp_name", "open_date"),
        source=Source(LIST_ID, IRP_KEY),
        note=(
            "The project's reading: one entry per product held (paged, search_timestamp on the first page, count "
            "field irp_cnt); fund_num only for funds, exp_date and int_rate only for deposits; cycle 추가."
        ),
    ),
    ApiSpec(
        id="IRP-004",
        api_code="IR04",
        title="개인형 IRP 계좌 거래내역 조회",
        sector=Sector.BANK,
        industries=IRP_INDUSTRIES,
        method="POST",
        resource="/irps/transactions",
        request=IrpHistoryRequest,
        response=IrpTransactionsResponse,
        kind=Kind.RECORDS,
        scope="bank.irp",
        cycle=CycleClass.ADDITIONAL,
        list_field="trans_list",
        count_field="trans_cnt",
        record_model=IrpTransaction,
        paged=True,
        asset_field="account_num",
        key_fields=("account_num", "seqno"),
        range_fields=("from_date", "to_date"),
        record_period_field="trans_dtime",
        record_key=("trans_dtime", "trans_no"),
        source=Source(LIST_ID, IRP_KEY),
        note=(
            "The project's reading: request fields as 은행-004 (from_date, to_date, next_page, limit); trans_type "
            "01 입금 (contributions, transferred retirement pay) and 02 지급 (payouts), §10.2; cycle 추가."
        ),
    ),
]
