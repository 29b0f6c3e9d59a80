"""Telecom, 2025 nationwide standard (전 분야 마이데이터, digest §8 "Telecom data" and §10.8): the nationwide profile.

The nationwide scheme publishes 15 telecom items in 5 groups, but no API IDs, URIs or field names were found
(digest §10.8: unconfirmed). Everything below is the project's reading (docs/decisions.md), chosen so that a
provider of the nationwide profile reuses the financial machinery (digest §8, practical guidance):
- IDs `통신(전국)-001…004` (a project-named series: the real numbering is unknown), api_codes TN01…TN04, served
  under the telecom industry at the financial telecom paths plus `/telecoms/usages`; a provider serves either
  these or 통신-001…004 (`ApiSpec.profile`), never both, so the paths cannot clash;
- field names of the financial telecom APIs where the item is the same (digest §10.8 design hint): 고객정보
  `mgmt_id` 계약관리번호, `telecom_num` 가입번호, `type` 통신구분, `status` 가입구분; 청구정보 `charge_month`
  청구연월, `charge_amt` 청구금액, `charge_date` 납부예정일자; 납부정보 `trans_month` 납부연월, `paid_amt`
  납부금액, `pay_method` 납부수단;
- new fields for the new items: 가입정보 `plan_name` 서비스요금제명 (in the contract list: one current plan per
  contract), 이용정보 `use_month` 서비스이용연월 with `voice_usage` (minutes), `sms_usage` (messages) and
  `data_usage` (MB, three decimals);
- groups → APIs: 고객정보 and 가입정보 are the contract list (-001); 이용정보 (-002), 청구정보 (-003) and 납부정보
  (-004) are per contract over a month range, like 통신-003 (so 청구연월 is a record field here, not a request
  field as in 통신-002);
- scopes `telecom.list` / `telecom.mgmt` and the cycle classes as in the financial telecom APIs; micro-payments
  (통신-004) are not among the 15 items and have no nationwide API.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from openmydata.standard.apis.telecom import MGMT_KEY, PaymentsRequest, PaymentsResponse
from openmydata.standard.apis.telecom import Payment as TelecomPayment
from openmydata.standard.catalogue import ApiSpec, CycleClass, Kind, Sector, Source
from openmydata.standard.models import Envelope, StampedRequest, StampedResponse
from openmydata.standard.profiles import Profile
from openmydata.standard.types import DATE, MONTH, Bool, StandardModel

if TYPE_CHECKING:
    MgmtId = str
    TelecomNum = str
    Code2 = str
    PlanName = str
    Amount = Decimal
    Volume = Decimal
    UsageCount = int
    Count = int
else:
    from openmydata.standard.types import AH, F, N, aN, aNS

    MgmtId = aNS(15)
    TelecomNum = aNS(20)
    Code2 = aN(2)
    PlanName = AH(100)
    Amount = F(18, 3)
    Volume = F(18, 3)
    UsageCount = N(10)
    Count = N(3)

NOTE = "The project's reading (nationwide telecom IDs, URIs and fields are unconfirmed, digest §10.8): "


# 통신(전국)-001: 고객정보 + 가입정보
class NationwideContract(StandardModel):
    mgmt_id: MgmtId  # 계약관리번호
    is_consent: Bool
    telecom_num: TelecomNum  # 가입번호
    type: Code2  # 통신구분
    status: Code2  # 가입구분
    plan_name: PlanName  # 서비스요금제명


class NationwideContractListResponse(StampedResponse):
    telecom_cnt: Count
    telecom_list: list[NationwideContract]


# 통신(전국)-002: 이용정보
class Usage(StandardModel):
    use_month: MONTH  # 서비스이용연월
    voice_usage: UsageCount  # 음성 이용량 (minutes)
    sms_usage: UsageCount  # 문자 이용량 (messages)
    data_usage: Volume  # 데이터 이용량 (MB)


class UsagesResponse(Envelope):
    use_cnt: Count
    use_list: list[Usage]


# 통신(전국)-003: 청구정보
class MonthlyBill(StandardModel):
    charge_month: MONTH  # 청구연월
    charge_amt: Amount  # 청구금액
    charge_date: DATE  # 납부예정일자


class MonthlyBillsResponse(Envelope):
    bill_cnt: Count
    bill_list: list[MonthlyBill]


def _per_contract(
    api_id: str,
    code: str,
    title: str,
    resource: str,
    response: type[StandardModel],
    list_field: str,
    count_field: str,
    record_model: type[StandardModel],
    period: str,
    record_key: tuple[str, ...],
    note: str,
) -> ApiSpec:
    return ApiSpec(
        id=api_id,
        api_code=code,
        title=title,
        sector=Sector.TELECOM,
        method="POST",
        resource=resource,
        request=PaymentsRequest,  # org_code, mgmt_id, from_month, to_month (as 통신-003)
        response=response,
        kind=Kind.RECORDS,
        scope="telecom.mgmt",
        cycle=CycleClass.ADDITIONAL,
        list_field=list_field,
        count_field=count_field,
        record_model=record_model,
        asset_field="mgmt_id",
        key_fields=("mgmt_id",),
        range_fields=("from_month", "to_month"),
        record_period_field=period,
        record_key=record_key,
        source=Source("통신(전국)-001", MGMT_KEY),
        note=NOTE + note,
        profile=Profile.NATIONWIDE,
    )


SPECS = [
    ApiSpec(
        id="통신(전국)-001",
        api_code="TN01",
        title="통신 가입정보 목록 조회 (전 분야)",
        sector=Sector.TELECOM,
        method="GET",
        resource="/telecoms",
        request=StampedRequest,
        response=NationwideContractListResponse,
        kind=Kind.ASSET_LIST,
        scope="telecom.list",
        cycle=CycleClass.BASIC,
        list_field="telecom_list",
        count_field="telecom_cnt",
        record_model=NationwideContract,
        search_timestamp=True,
        asset_id_field="mgmt_id",
        record_key=("mgmt_id",),
        note=(
            f"{NOTE}고객정보 (mgmt_id, telecom_num, type, status as in 통신-001) with 가입정보 plan_name AH(100), "
            "the contract's current 서비스요금제명; not paged, search_timestamp as in 통신-001."
        ),
        profile=Profile.NATIONWIDE,
    ),
    _per_contract(
        "통신(전국)-002",
        "TN02",
        "통신 이용정보 조회 (전 분야)",
        "/telecoms/usages",
        UsagesResponse,
        "use_list",
        "use_cnt",
        Usage,
        "use_month",
        ("use_month",),
        "이용정보: one record per 서비스이용연월 (use_month) with voice_usage in minutes and sms_usage in messages "
        "(N(10)) and data_usage in MB (F(18,3)); per contract over from_month…to_month, not paged.",
    ),
    _per_contract(
        "통신(전국)-003",
        "TN03",
        "통신 청구정보 조회 (전 분야)",
        "/telecoms/bills",
        MonthlyBillsResponse,
        "bill_list",
        "bill_cnt",
        MonthlyBill,
        "charge_month",
        ("charge_month",),
        "청구정보: one record per 청구연월 (charge_month, a record field unlike 통신-002's request field) with "
        "charge_amt and charge_date (납부예정일자); per contract over from_month…to_month, not paged.",
    ),
    _per_contract(
        "통신(전국)-004",
        "TN04",
        "통신 납부정보 조회 (전 분야)",
        "/telecoms/transactions",
        PaymentsResponse,
        "trans_list",
        "trans_cnt",
        TelecomPayment,
        "trans_month",
        ("trans_month", "pay_method", "paid_amt"),
        "납부정보: trans_month 납부연월, paid_amt 납부금액, pay_method 납부수단, exactly the 통신-003 record; per "
        "contract over from_month…to_month, not paged.",
    ),
]
