"""Debts held by debt buyers and money lenders (채권-001…003, digest §6.0 and §6.8).

Both the `bond` industry (인수채권: KAMCO, 국민행복기금 and other buyers of overdue debts) and the `usury` industry
(대부/매입추심) serve only these common APIs: GET `/bonds` (the person's debts), POST `/bonds/detail` (one debt's
state) and POST `/bonds/transactions` (repayments), paths per spec 첨부12 (BD01…BD03).

The digest's fields are unconfirmed; every field below is the project's reading, with names from a v2-era
implementation (digest §10.1 S3, `bond/Bond00x`) that follow the bank loan APIs:
- 채권-001 `bond_list[{bond_num (채권번호), is_consent, bond_type (기관분류 code), takeover_date, init_org_code}]`;
  takeover_date is the date the debt was acquired (채권인수일), moved to special (written-off) debts
  (특수채권 편입일) or, for a lender's own loan, first lent (최초대출일); init_org_code is the original lender;
- 채권-002 `prev_org_code` (the previous holder), `is_debt_mgmt` (under a debt-adjustment plan, 채무조정),
  `repay_method`, `balance_amt` and `bond_principal` (the principal taken over);
- 채권-003 `trans_list[{trans_dtime, trans_no, trans_amt, balance_amt, principal_amt, int_amt}]`.

Each entry is served under both industries (`ApiSpec.industries`): written for `bond` (`/v1/bond/bonds`, scopes
bond.list / bond.bond), bound to `usury` by the catalogue (`/v1/usury/bonds`, scopes usury.list / usury.bond;
`CATALOGUE.sector("usury")`, `ApiSpec.at`). `bond_specs(Sector.USURY)` writes the same entries for `usury` first.
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
    BondNum = str
    OrgCode = str
    Stamp = str
    Code2 = str
    TransNo = str
    Amount = Decimal
    Count = int
else:
    from openmydata.standard.types import F, N, aN, aNS

    BondNum = aNS(64)
    OrgCode = aN(10)
    Stamp = aNS(14)
    Code2 = aN(2)
    TransNo = aNS(64)
    Amount = F(18, 3)
    Count = N(3)

BOND_KEY = {"bond_num": "bond_num"}
DEBT_SECTORS = (Sector.BOND, Sector.USURY)


class BondRequest(InfoRequest):
    bond_num: BondNum
    search_timestamp: Stamp | None = None


class BondHistoryRequest(DateRange, PagedRequest):
    bond_num: BondNum


# 채권-001
class Bond(StandardModel):
    bond_num: BondNum
    is_consent: Bool
    bond_type: Code2  # 기관분류
    takeover_date: DATE
    init_org_code: OrgCode | None = None


class BondListResponse(ListResponse):
    bond_cnt: Count
    bond_list: list[Bond]


# 채권-002
class BondDetailResponse(StampedResponse):
    prev_org_code: OrgCode | None = None
    is_debt_mgmt: Bool
    repay_method: Code2
    balance_amt: Amount
    bond_principal: Amount


# 채권-003
class BondTransaction(StandardModel):
    trans_dtime: DATE_OR_DTIME
    trans_no: TransNo | None = None
    trans_amt: Amount
    balance_amt: Amount
    principal_amt: Amount
    int_amt: Amount


class BondTransactionsResponse(PagedResponse):
    trans_cnt: Count
    trans_list: list[BondTransaction]


def bond_specs(sector: Sector = Sector.BOND) -> list[ApiSpec]:
    """채권-001…003 written for one debt industry (`bond` or `usury`), served under both."""
    if sector not in DEBT_SECTORS:
        raise ValueError(f"채권-001…003 are served by bond and usury, not {sector}")
    industry = sector.value
    list_id = "채권-001"
    return [
        ApiSpec(
            id=list_id,
            api_code="BD01",
            title="채권 목록 조회",
            sector=sector,
            method="GET",
            resource="/bonds",
            request=ListRequest,
            response=BondListResponse,
            kind=Kind.ASSET_LIST,
            scope=f"{industry}.list",
            cycle=CycleClass.BASIC,
            list_field="bond_list",
            count_field="bond_cnt",
            record_model=Bond,
            paged=True,
            search_timestamp=True,
            asset_id_field="bond_num",
            record_key=("bond_num",),
            industries=DEBT_SECTORS,
            note=(
                "The project's reading (fields unconfirmed; names from a v2-era implementation): bond_num aNS(64), "
                "bond_type (기관분류 code), takeover_date (인수일/특수채권 편입일/최초대출일), init_org_code (original "
                "lender, optional); paged like 은행-001."
            ),
        ),
        ApiSpec(
            id="채권-002",
            api_code="BD02",
            title="채권 상세정보 조회",
            sector=sector,
            method="POST",
            resource="/bonds/detail",
            request=BondRequest,
            response=BondDetailResponse,
            kind=Kind.ASSET_INFO,
            scope=f"{industry}.bond",
            cycle=CycleClass.ADDITIONAL,
            search_timestamp=True,
            asset_field="bond_num",
            key_fields=("bond_num",),
            source=Source(list_id, BOND_KEY),
            industries=DEBT_SECTORS,
            note=(
                "The project's reading (fields and cycle unconfirmed; 추가 like the bank detail APIs): prev_org_code, "
                "is_debt_mgmt (채무조정), repay_method code, balance_amt and bond_principal (principal taken over)."
            ),
        ),
        ApiSpec(
            id="채권-003",
            api_code="BD03",
            title="채권 거래내역 조회",
            sector=sector,
            method="POST",
            resource="/bonds/transactions",
            request=BondHistoryRequest,
            response=BondTransactionsResponse,
            kind=Kind.RECORDS,
            scope=f"{industry}.bond",
            cycle=CycleClass.ADDITIONAL,
            list_field="trans_list",
            count_field="trans_cnt",
            record_model=BondTransaction,
            paged=True,
            asset_field="bond_num",
            key_fields=("bond_num",),
            range_fields=("from_date", "to_date"),
            record_period_field="trans_dtime",
            record_key=("trans_dtime", "trans_no"),
            source=Source(list_id, BOND_KEY),
            industries=DEBT_SECTORS,
            note=(
                "The project's reading (fields unconfirmed): repayments with the balance after and the split into "
                "principal_amt and int_amt; scheduled calls may span 3 months (§10.4)."
            ),
        ),
    ]


SPECS = bond_specs(Sector.BOND)
