"""Recommendations: which product, why, and how much it is worth, from held records and the sandbox catalogue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from openmydata.operator.insights.recommend import Held, load_catalogue, recommend
from openmydata.operator.insights.spending import analyse
from openmydata.sandbox.products import catalogue, write_catalogue

PRODUCTS = catalogue()["products"]


def _by_kind(held: list[Held], **options: Any) -> dict[str, Any]:
    spending = analyse((org, api_id, payload) for org, api_id, _, payload in held)
    return {offer.kind: offer for offer in recommend(held, PRODUCTS, spending, **options)}


def _bank(balance: int, money_in: int, money_out: int) -> list[Held]:
    held: list[Held] = [
        ("BANK", "은행-001", "111", {"account_num": "111", "account_type": "1001", "prod_name": "입출금"}),
        ("BANK", "은행-003", "111|", {"balance_amt": str(balance)}),
    ]
    for month in ("202601", "202602", "202603"):
        held.append(
            (
                "BANK",
                "은행-004",
                "111|",
                {"trans_dtime": f"{month}25090000", "trans_type": "01", "trans_amt": str(money_in)},
            )
        )
        held.append(
            (
                "BANK",
                "은행-004",
                "111|",
                {"trans_dtime": f"{month}27090000", "trans_type": "02", "trans_amt": str(money_out)},
            )
        )
    return held


def test_idle_money_beyond_a_month_of_spending_goes_to_the_best_deposit() -> None:
    offers = _by_kind(_bank(10_000_000, 3_000_000, 2_000_000))
    deposit = offers["deposit"]
    assert deposit.product_id == "DEP-02"  # 3.8%: 8,000,000 to move is above its 3,000,000 minimum
    assert deposit.yearly_gain == pytest.approx(8_000_000 * (3.80 - 0.1) / 100)
    assert "₩10,000,000" in deposit.reason
    assert "₩8,000,000" in deposit.reason
    assert "deposit" not in _by_kind(_bank(2_500_000, 3_000_000, 2_000_000))


def test_savings_take_half_the_monthly_surplus_and_respect_age_limits() -> None:
    young = _by_kind(_bank(0, 3_000_000, 2_000_000), age=29)["savings"]
    assert young.product_id == "SAV-02"  # 청년 도약 적금, up to age 34
    assert "월 ₩500,000씩" in young.reason
    assert young.yearly_gain == pytest.approx(500_000 * 0.05 * 6.5)
    older = _by_kind(_bank(0, 3_000_000, 2_000_000), age=40)["savings"]
    assert older.product_id == "SAV-01"
    assert "savings" not in _by_kind(_bank(0, 3_000_000, 2_950_000), age=40)


def _cards(per_month: dict[str, int]) -> list[Held]:
    held: list[Held] = []
    for month in ("202601", "202602"):
        for merchant, amount in per_month.items():
            held.append(
                (
                    "CARD",
                    "카드-008",
                    "C1",
                    {
                        "approved_dtime": f"{month}10120000",
                        "approved_amt": str(amount),
                        "merchant_name": merchant,
                        "status": "01",
                    },
                )
            )
    return held


def test_the_card_whose_benefits_fit_the_spending_best() -> None:
    offers = _by_kind(_cards({"스타벅스 역삼점": 150_000, "GS25 선릉점": 100_000, "카카오T": 100_000}))
    card = offers["card"]
    assert card.product_id == "CARD-01"
    assert card.yearly_gain == pytest.approx(12 * (10_000 + 7_000 + 7_000) - 15_000)
    assert "카페 ₩150,000" in card.reason
    # too little card spending for any card's minimum
    assert "card" not in _by_kind(_cards({"스타벅스 역삼점": 50_000}))


def _loan(rate: str, balance: str) -> list[Held]:
    return [
        ("BANK", "은행-001", "999", {"account_num": "999", "account_type": "3100", "prod_name": "직장인 신용대출"}),
        ("BANK", "은행-008", "999|", {"last_offered_rate": rate}),
        ("BANK", "은행-009", "999|", {"balance_amt": balance, "loan_principal": "30000000"}),
    ]


def test_a_dear_loan_is_refinanced_at_the_band_rate() -> None:
    loan = _by_kind(_loan("9.5", "20000000"), band="B")["loan"]
    assert loan.product_id == "LOAN-01"
    assert loan.yearly_gain == pytest.approx(20_000_000 * (9.5 - 5.3) / 100)
    assert "직장인 신용대출" in loan.reason
    assert "등급 B" in loan.reason
    assert "loan" not in _by_kind(_loan("9.5", "20000000"))  # no credit view, no band: no offer
    assert "loan" not in _by_kind(_loan("5.5", "20000000"), band="B")  # already cheap


def _telecom(bill: int, usage_mb: list[int] | None = None) -> list[Held]:
    held: list[Held] = []
    for month in ("202601", "202602", "202603"):
        held.append(
            ("TEL", "통신-002", "", {"mgmt_id": "L1", "charge_amt": str(bill + 5_000), "charge_date": f"{month}25"})
        )
    # last month's micro-payments are on each bill
    for month in ("202512", "202601", "202602"):
        held.append(("TEL", "통신-004", "L1", {"trans_date": f"{month}10", "trans_amt": "5000"}))
    for index, used in enumerate(usage_mb or []):
        held.append(("TEL", "통신(전국)-004", "L1", {"use_month": f"20260{index + 1}", "data_usage": str(used)}))
    return held


def test_a_cheaper_plan_with_at_least_the_data_the_bills_show() -> None:
    plan = _by_kind(_telecom(69_000))["telecom_plan"]
    assert plan.product_id == "PLAN-M03"  # 50GB for 39,600 against the carrier's 69,000 plan with 40GB
    assert plan.yearly_gain == pytest.approx(12 * (69_000 - 39_600))
    assert "5G 스탠다드 69" in plan.reason
    # with monthly usage from a nationwide-profile telecom: 1.2 × the most used month is what must fit
    plan = _by_kind(_telecom(69_000, [8_000, 12_000, 9_000]))["telecom_plan"]
    assert plan.product_id == "PLAN-M02"
    assert "12.0GB" in plan.reason
    assert "telecom_plan" not in _by_kind(_telecom(30_000))  # below every carrier plan: nothing known


def test_offers_are_ordered_by_value() -> None:
    held = _bank(10_000_000, 3_000_000, 2_000_000) + _telecom(69_000)
    spending = analyse((org, api_id, payload) for org, api_id, _, payload in held)
    offers = recommend(held, PRODUCTS, spending, age=40)
    assert [offer.yearly_gain for offer in offers] == sorted((offer.yearly_gain for offer in offers), reverse=True)


def test_the_catalogue_file(tmp_path: Path) -> None:
    assert load_catalogue(tmp_path / "missing.json") == []
    path = write_catalogue(tmp_path / "products.json")
    assert load_catalogue(path) == PRODUCTS
    (tmp_path / "bad.json").write_text(json.dumps({"format": "other"}), encoding="utf-8")
    with pytest.raises(ValueError, match="not a product catalogue"):
        load_catalogue(tmp_path / "bad.json")


def test_reasons_in_english() -> None:
    from openmydata.operator.i18n import translations

    held = (
        _bank(10_000_000, 3_000_000, 2_000_000)
        + _telecom(69_000)
        + _cards({"스타벅스 역삼점": 150_000, "GS25 선릉점": 100_000, "카카오T": 100_000})
    )
    spending = analyse((org, api_id, payload) for org, api_id, _, payload in held)
    offers = recommend(held, PRODUCTS, spending, age=40, tr=translations("en").gettext)
    reasons = {offer.kind: offer.reason for offer in offers}
    assert reasons["deposit"].startswith("You have ₩10,000,000 in demand-deposit accounts")
    assert reasons["savings"].startswith("On average ₩3,000,000 comes into your bank account")
    assert reasons["card"].startswith("Each month you spend on average Cafés ₩")
    assert reasons["telecom_plan"].startswith("Your telecom bill is")
    assert not any("입출금" in reason or "요금" in reason for reason in reasons.values())
