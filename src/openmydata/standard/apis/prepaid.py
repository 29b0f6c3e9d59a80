"""Prepaid cards (선불카드, 선불-001…004, `/v1/card/prepaid...`, digest §6.0 and 첨부12 PP01…PP04).

The standard lists these APIs among the common ones ("은행, 카드 공통"), to be served by card companies first and by
banks later (spec ch. 4: "선불-001~선불-004는 카드업권 우선 적용"). They are served under the card industry here
(`/v1/card/prepaid…`, scopes card.list / card.prepaid per §10.7) as a group of their own: `industries=(CARD,)`
makes them one `Catalogue.family`, apart from 카드-001…012, so that the card APIs without a source (points, bills,
loans) take no assets from the prepaid list, and a card.prepaid consent does not mark the cards of 카드-001 as
consented (nor card.card the prepaid cards). When banks start serving them, `INDUSTRIES` becomes (CARD, BANK)
and a `bank.prepaid` scope is added. The cycles are the spec's table (기본 for the list, 추가 for the others); the
methods and paths are the digest's.

The digest gives no fields. Every field below is the project's reading, built from the neighbouring APIs so that a
receiver can reuse what it does for them:
- 선불-001 lists the person's prepaid cards: `prepaid_list[{pp_id, is_consent, pp_name}]` (`pp_id` the
  provider-issued identifier, opaque like 카드-001's card_id), paged like 카드-001;
- 선불-002 gives one card's balances with the e-money balance fields of 전금-002 (`total_balance_amt` = charged
  `charge_balance_amt` + reward `reserve_balance_amt`, `reserve_due_amt`, `exp_due_amt`) and the card's holding
  limit `limit_amt` (보유한도);
- 선불-003 lists the balance movements (top-ups, payments, refunds, rewards):
  `trans_list[{trans_type, trans_dtime, trans_no, trans_amt, balance_amt, trans_org_nm, approved_num}]`, with the
  balance after each movement as 전금-004 has it, the name of the institution a top-up came from or a refund went
  to (`trans_org_nm`), and for a payment the `approved_num` of its approval in 선불-004;
- 선불-004 lists the card's approvals with the fields of 카드-008/009 in one list: `approved_list[{approved_num,
  approved_dtime, status, pay_type, trans_dtime, cancel_dtime, merchant_name, merchant_regno, approved_amt,
  country_code, currency_code, krw_amt}]`, where pay_type tells domestic from overseas use (a prepaid card has no
  credit or instalments) and the currency fields are sent for overseas use only.

Requests follow the other per-asset APIs: `pp_id` with search_timestamp (선불-002) or with from_date / to_date,
next_page and limit (선불-003/004). `status` takes the card approval codes (§10.2, enforced as for 카드-008);
`trans_type` and `pay_type` are codes whose values are unconfirmed and stored as given. Merchant name and
registration number need `is_consent_merchant_name_regno`, as for the card approvals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from openmydata.standard.apis.card import ApprovalStatus
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
from openmydata.standard.types import DATE_OR_DTIME, DTIME, Bool, StandardModel

if TYPE_CHECKING:
    PrepaidId = str
    Name = str
    OrgName = str
    Stamp = str
    Code2 = str
    TransNo = str
    ApprovedNum = str
    MerchantRegno = str
    Currency = str
    CountryCode = str
    Amount = Decimal
    Count = int
else:
    from openmydata.standard.types import AH, AN, A, F, N, aN, aNS

    PrepaidId = aNS(64)
    Name = AH(300)
    OrgName = AH(100)
    Stamp = aNS(14)
    Code2 = aN(2)
    TransNo = aNS(64)
    ApprovedNum = aNS(20)
    MerchantRegno = aNS(12)
    Currency = AN(3)
    CountryCode = A(2)
    Amount = F(18, 3)
    Count = N(3)

PREPAID_KEY = {"pp_id": "pp_id"}
INDUSTRIES = (Sector.CARD,)  # banks later (spec ch. 4)
MERCHANT = "is_consent_merchant_name_regno"


# 선불-001
class PrepaidCard(StandardModel):
    pp_id: PrepaidId
    is_consent: Bool
    pp_name: Name


class PrepaidListResponse(ListResponse):
    prepaid_cnt: Count
    prepaid_list: list[PrepaidCard]


# 선불-002
class PrepaidRequest(InfoRequest):
    pp_id: PrepaidId
    search_timestamp: Stamp | None = None


class PrepaidBalanceResponse(StampedResponse):
    total_balance_amt: Amount
    charge_balance_amt: Amount
    reserve_balance_amt: Amount
    reserve_due_amt: Amount | None = None
    exp_due_amt: Amount | None = None
    limit_amt: Amount | None = None


# 선불-003 / 선불-004
class PrepaidHistoryRequest(DateRange, PagedRequest):
    pp_id: PrepaidId


class PrepaidTransaction(StandardModel):
    trans_type: Code2
    trans_dtime: DATE_OR_DTIME
    trans_no: TransNo
    trans_amt: Amount
    balance_amt: Amount
    trans_org_nm: OrgName | None = None
    approved_num: ApprovedNum | None = None


class PrepaidTransactionsResponse(PagedResponse):
    trans_cnt: Count
    trans_list: list[PrepaidTransaction]


class PrepaidApproval(StandardModel):
    approved_num: ApprovedNum
    approved_dtime: DTIME
    status: ApprovalStatus
    pay_type: Code2
    trans_dtime: DTIME | None = None
    cancel_dtime: DTIME | None = None
    merchant_name: Name | None = None
    merchant_regno: MerchantRegno | None = None
    approved_amt: Amount
    country_code: CountryCode | None = None
    currency_code: Currency | None = None
    krw_amt: Amount | None = None


class PrepaidApprovalsResponse(PagedResponse):
    approved_cnt: Count
    approved_list: list[PrepaidApproval]


def _history(
    api_id: str,
    code: str,
    title: str,
    resource: str,
    response: type[StandardModel],
    list_name: str,
    record: type[StandardModel],
    period_field: str,
    record_key: tuple[str, ...],
    note: str,
) -> ApiSpec:
    return ApiSpec(
        id=api_id,
        api_code=code,
        title=title,
        sector=Sector.CARD,
        method="POST",
        resource=resource,
        request=PrepaidHistoryRequest,
        response=response,
        kind=Kind.RECORDS,
        scope="card.prepaid",
        cycle=CycleClass.ADDITIONAL,
        list_field=f"{list_name}_list",
        count_field=f"{list_name}_cnt",
        record_model=record,
        paged=True,
        asset_field="pp_id",
        key_fields=("pp_id",),
        range_fields=("from_date", "to_date"),
        record_period_field=period_field,
        record_key=record_key,
        source=Source("선불-001", PREPAID_KEY),
        sensitive={"merchant_name": MERCHANT, "merchant_regno": MERCHANT} if list_name == "approved" else {},
        note=note,
        industries=INDUSTRIES,
    )


SPECS = [
    ApiSpec(
        id="선불-001",
        api_code="PP01",
        title="선불카드 목록 조회",
        sector=Sector.CARD,
        method="GET",
        resource="/prepaid",
        request=ListRequest,
        response=PrepaidListResponse,
        kind=Kind.ASSET_LIST,
        scope="card.list",
        cycle=CycleClass.BASIC,
        list_field="prepaid_list",
        count_field="prepaid_cnt",
        record_model=PrepaidCard,
        paged=True,
        search_timestamp=True,
        asset_id_field="pp_id",
        record_key=("pp_id",),
        note=(
            "The project's reading (fields unconfirmed): prepaid_list[{pp_id aNS(64) (provider-issued, opaque like "
            "card_id), is_consent, pp_name}], paged like 카드-001; served by card companies (banks later)."
        ),
        industries=INDUSTRIES,
    ),
    ApiSpec(
        id="선불-002",
        api_code="PP02",
        title="선불카드 잔액정보 조회",
        sector=Sector.CARD,
        method="POST",
        resource="/prepaid/balance",
        request=PrepaidRequest,
        response=PrepaidBalanceResponse,
        kind=Kind.ASSET_INFO,
        scope="card.prepaid",
        cycle=CycleClass.ADDITIONAL,
        search_timestamp=True,
        asset_field="pp_id",
        key_fields=("pp_id",),
        source=Source("선불-001", PREPAID_KEY),
        note=(
            "The project's reading (fields unconfirmed): one object per prepaid card (requested by pp_id) with "
            "전금-002's balance fields (total = charge + reserve balance; reserve_due_amt, exp_due_amt) and the "
            "holding limit limit_amt."
        ),
        industries=INDUSTRIES,
    ),
    _history(
        "선불-003",
        "PP03",
        "선불카드 거래내역 조회",
        "/prepaid/transactions",
        PrepaidTransactionsResponse,
        "trans",
        PrepaidTransaction,
        "trans_dtime",
        ("trans_dtime", "trans_no"),
        "The project's reading (fields unconfirmed): every balance movement (top-up, payment, refund, reward) with "
        "trans_type aN(2) (codes unconfirmed, stored as given), balance_amt = total balance after it (as 전금-004), "
        "trans_org_nm = institution a top-up came from or a refund went to, approved_num linking a payment to "
        "선불-004.",
    ),
    _history(
        "선불-004",
        "PP04",
        "선불카드 승인내역 조회",
        "/prepaid/approval",
        PrepaidApprovalsResponse,
        "approved",
        PrepaidApproval,
        "approved_dtime",
        ("approved_dtime", "approved_num"),
        "The project's reading (fields unconfirmed): 카드-008 and 카드-009 in one list; status per §10.2 (enforced), "
        "pay_type aN(2) tells domestic from overseas use (codes unconfirmed), country_code/currency_code/krw_amt "
        "for overseas use only; merchant fields need is_consent_merchant_name_regno; a cancellation updates its "
        "approval.",
    ),
]
