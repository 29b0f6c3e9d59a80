"""Spending analysis: categories from merchant names, what counts as spending, and the charts' geometry."""

from __future__ import annotations

from typing import Any

import pytest

from openmydata.operator.insights.categories import OTHER, category_of, merchant_label
from openmydata.operator.insights.charts import columns, rows
from openmydata.operator.insights.spending import TELECOM, analyse


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("GS25 역삼점", "편의점"),
        ("스타벅스 강남점", "카페"),
        ("이마트24 서초점", "편의점"),  # not 마트: the longer brand wins
        ("이마트 성수점", "마트"),
        ("쿠팡이츠", "배달"),
        ("쿠팡", "온라인쇼핑"),
        ("튼튼정형외과", OTHER),
        ("밝은안과의원", "의료"),
        ("", OTHER),
        (None, OTHER),
    ],
)
def test_merchants_are_classified_by_name(name: str | None, category: str) -> None:
    assert category_of(name) == category


def test_branches_are_summed_per_brand() -> None:
    assert merchant_label("GS25 역삼점") == "GS25"
    assert merchant_label("배달의민족") == "배달의민족"
    assert merchant_label("BURGER PLACE") == "BURGER PLACE"
    assert merchant_label(None) == "(가맹점명 없음)"


def _approval(day: str, amount: int, merchant: str, **extra: Any) -> tuple[str, str, dict[str, Any]]:
    return (
        "CARD01",
        "카드-008",
        {
            "approved_dtime": f"{day}120000",
            "approved_amt": str(amount),
            "merchant_name": merchant,
            "status": "01",
            **extra,
        },
    )


def test_spending_counts_approvals_once_and_bills_as_telecom() -> None:
    records = [
        _approval("20260105", 6_000, "스타벅스 역삼점"),
        _approval("20260107", 4_000, "스타벅스 강남점"),
        _approval("20260110", 50_000, "이마트 성수점", status="02"),  # cancelled: not spending
        _approval("20260211", 30_000, "쿠팡", modified_amt="20000"),  # partly cancelled
        (
            "CARD01",
            "카드-009",
            {
                "approved_dtime": "20260215090000",
                "approved_amt": "100",
                "krw_amt": "140000",
                "merchant_name": "SKY HOTEL",
                "status": "01",
            },
        ),
        (
            "CARD01",
            "카드-009",
            {
                "approved_dtime": "20260216090000",
                "approved_amt": "20",
                "krw_amt": "28000",
                "merchant_name": "MUSEUM SHOP",
                "status": "01",
            },
        ),
        ("TEL01", "통신-002", {"mgmt_id": "L1", "charge_amt": "55000", "charge_date": "20260125"}),
        ("TEL01", "통신-002", {"mgmt_id": "L1", "charge_amt": "65000", "charge_date": "20260225"}),
        ("TEL01", "통신-004", {"trans_date": "20260120", "trans_amt": "10000"}),
        ("CARD01", "카드-006", {"seqno": "1", "pay_due_date": "20260314", "pay_amt": "188000"}),
        ("CARD01", "카드-006", {"seqno": "1", "pay_due_date": "20260214", "pay_amt": "10000"}),
        (
            "BANK01",
            "은행-004",
            {"trans_dtime": "20260125090000", "trans_type": "02", "trans_amt": "900000"},
        ),  # not counted
    ]
    view = analyse(records)
    assert [(line.label, line.amount) for line in view.months] == [("202601", 65_000), ("202602", 253_000)]
    categories = {line.label: (line.amount, line.count) for line in view.categories}
    assert categories == {"카페": (10_000, 2), "온라인쇼핑": (20_000, 1), "여행": (168_000, 2), TELECOM: (120_000, 2)}
    assert view.categories[0].label == "여행"
    assert sum(line.share for line in view.categories) == pytest.approx(1.0)
    assert view.merchants[0].label == "SKY HOTEL"
    assert ("스타벅스", 10_000.0, 2) in [(m.label, m.amount, m.count) for m in view.merchants]
    assert view.micro_payments == 10_000
    assert [item["pay_due_date"] for item in view.upcoming] == ["20260214", "20260314"]
    assert view.total == 318_000
    assert view.monthly_average == 159_000
    assert view.unnamed_approvals == 0


def test_approvals_without_a_merchant_name_are_counted_as_such() -> None:
    view = analyse(
        [("CARD01", "카드-008", {"approved_dtime": "20260105120000", "approved_amt": "5000", "status": "01"})]
    )
    assert view.unnamed_approvals == 1
    assert [line.label for line in view.categories] == ["기타"]


def test_no_card_or_telecom_records_is_empty() -> None:
    view = analyse([("BANK01", "은행-001", {"account_num": "1"})])
    assert view.empty
    assert view.categories == []


def test_column_heights_are_proportional_to_the_values() -> None:
    chart = columns("월별", [("01", 100.0), ("02", 50.0), ("03", 0.0)], str)
    heights = [bar.height for bar in chart["bars"]]
    assert heights[0] == pytest.approx(2 * heights[1])
    assert heights[2] == 0
    assert all(bar.y + bar.height == pytest.approx(chart["baseline"]) for bar in chart["bars"])
    assert chart["ticks"][-1][1] == "100.0"  # the axis ends at a round number at or above the largest value


def test_row_bars_scale_to_the_largest() -> None:
    chart = rows("분류", [("a", 300.0), ("b", 150.0)], lambda v: f"{v:.0f}")
    assert chart["bars"][0].width == pytest.approx(2 * chart["bars"][1].width)
    assert chart["bars"][1].text == "150"
