"""The sandbox's product catalogue: deposits, savings, cards, loans and telecom plans a MyData service can
recommend (the project's own, fictional products; rates and fees are in the range Korean products had in 2025).

The operator does not import the sandbox: `openmydata sandbox products --out FILE` (and the demo, at start) write
the catalogue as JSON, and the operator reads it from `OPENMYDATA_OPERATOR_PRODUCT_CATALOGUE_PATH`. The
carrier's own plans (`kind` telecom_plan, `carrier` true) are the telecom sandbox's plans with the data each
includes, so the operator can tell which plan a bill belongs to.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openmydata.sandbox.telecom import PLAN_NAMES, PLANS

FORMAT = "openmydata-products/1"

# data included per month by the carrier's plans (MB; 0 = unlimited)
_CARRIER_DATA_MB = {
    33_000: 4_000,
    45_000: 10_000,
    55_000: 20_000,
    69_000: 40_000,
    79_000: 80_000,
    89_000: 0,
    109_000: 0,
}

PRODUCTS: tuple[dict[str, Any], ...] = (
    # 정기예금 (time deposits): yearly rate %, minimum amount, term
    {
        "id": "DEP-01",
        "kind": "deposit",
        "name": "오픈 정기예금",
        "provider": "오픈은행",
        "rate": 3.35,
        "min_amount": 1_000_000,
        "term_months": 12,
    },
    {
        "id": "DEP-02",
        "kind": "deposit",
        "name": "모바일 플러스 예금",
        "provider": "한빛저축은행",
        "rate": 3.80,
        "min_amount": 3_000_000,
        "term_months": 12,
    },
    {
        "id": "DEP-03",
        "kind": "deposit",
        "name": "파킹 통장 프리미엄",
        "provider": "누리은행",
        "rate": 2.90,
        "min_amount": 0,
        "term_months": 0,
    },
    # 적금 (instalment savings): yearly rate %, most per month
    {
        "id": "SAV-01",
        "kind": "savings",
        "name": "오픈 자유적금",
        "provider": "오픈은행",
        "rate": 3.90,
        "max_monthly": 500_000,
        "term_months": 12,
    },
    {
        "id": "SAV-02",
        "kind": "savings",
        "name": "청년 도약 적금",
        "provider": "누리은행",
        "rate": 5.00,
        "max_monthly": 700_000,
        "term_months": 12,
        "max_age": 34,
    },
    # cards: annual fee, benefits per category (rate and monthly cap in KRW), spending needed per month
    {
        "id": "CARD-01",
        "kind": "card",
        "name": "오픈 데일리 카드",
        "provider": "오픈카드",
        "annual_fee": 15_000,
        "min_monthly_spend": 300_000,
        "benefits": [
            {"category": "카페", "rate": 0.10, "monthly_cap": 10_000},
            {"category": "편의점", "rate": 0.07, "monthly_cap": 7_000},
            {"category": "교통", "rate": 0.10, "monthly_cap": 7_000},
        ],
    },
    {
        "id": "CARD-02",
        "kind": "card",
        "name": "오픈 쇼핑 플러스",
        "provider": "오픈카드",
        "annual_fee": 20_000,
        "min_monthly_spend": 400_000,
        "benefits": [
            {"category": "온라인쇼핑", "rate": 0.05, "monthly_cap": 15_000},
            {"category": "배달", "rate": 0.10, "monthly_cap": 10_000},
            {"category": "마트", "rate": 0.05, "monthly_cap": 10_000},
        ],
    },
    {
        "id": "CARD-03",
        "kind": "card",
        "name": "드라이브 카드",
        "provider": "한빛카드",
        "annual_fee": 12_000,
        "min_monthly_spend": 300_000,
        "benefits": [
            {"category": "주유", "rate": 0.06, "monthly_cap": 15_000},
            {"category": "교통", "rate": 0.05, "monthly_cap": 5_000},
        ],
    },
    {
        "id": "CARD-04",
        "kind": "card",
        "name": "컬처 체크카드",
        "provider": "누리은행",
        "annual_fee": 0,
        "min_monthly_spend": 200_000,
        "check_card": True,
        "benefits": [
            {"category": "문화", "rate": 0.10, "monthly_cap": 5_000},
            {"category": "구독", "rate": 0.10, "monthly_cap": 3_000},
            {"category": "카페", "rate": 0.05, "monthly_cap": 3_000},
        ],
    },
    # credit loans for refinancing: yearly rate % by the credit view's band, most one can borrow
    {
        "id": "LOAN-01",
        "kind": "loan",
        "name": "갈아타기 신용대출",
        "provider": "오픈은행",
        "rate_by_band": {"A": 4.6, "B": 5.3, "C": 6.6, "D": 8.9},
        "max_amount": 100_000_000,
    },
    {
        "id": "LOAN-02",
        "kind": "loan",
        "name": "중금리 대환대출",
        "provider": "한빛저축은행",
        "rate_by_band": {"B": 7.9, "C": 9.5, "D": 11.9, "E": 14.5},
        "max_amount": 30_000_000,
    },
    # telecom plans: the carrier's own (what bills show) and cheaper ones on the same network (알뜰폰)
    *(
        {
            "id": f"PLAN-C{fee}",
            "kind": "telecom_plan",
            "name": PLAN_NAMES[fee],
            "provider": "오픈텔레콤",
            "monthly_fee": fee,
            "data_mb": _CARRIER_DATA_MB[fee],
            "carrier": True,
        }
        for fee in PLANS
    ),
    {
        "id": "PLAN-M01",
        "kind": "telecom_plan",
        "name": "알뜰 LTE 7GB",
        "provider": "누리모바일",
        "monthly_fee": 16_500,
        "data_mb": 7_000,
        "carrier": False,
    },
    {
        "id": "PLAN-M02",
        "kind": "telecom_plan",
        "name": "알뜰 5G 20GB",
        "provider": "누리모바일",
        "monthly_fee": 29_700,
        "data_mb": 20_000,
        "carrier": False,
    },
    {
        "id": "PLAN-M03",
        "kind": "telecom_plan",
        "name": "알뜰 5G 50GB",
        "provider": "한빛모바일",
        "monthly_fee": 39_600,
        "data_mb": 50_000,
        "carrier": False,
    },
    {
        "id": "PLAN-M04",
        "kind": "telecom_plan",
        "name": "알뜰 5G 무제한",
        "provider": "한빛모바일",
        "monthly_fee": 55_000,
        "data_mb": 0,
        "carrier": False,
    },
)


def catalogue() -> dict[str, Any]:
    return {"format": FORMAT, "products": [dict(product) for product in PRODUCTS]}


def write_catalogue(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(catalogue(), ensure_ascii=False, indent=1), encoding="utf-8")
    return path
