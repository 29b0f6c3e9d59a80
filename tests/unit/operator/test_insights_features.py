"""Credit features from wire payloads: what each one counts, and that absent data reads as absent."""

from __future__ import annotations

from typing import Any

import pytest

from openmydata.operator.insights.features import FEATURE_NAMES, FEATURES, features, names


def test_no_records_give_a_row_of_zeros_with_every_feature() -> None:
    row = features([])
    assert list(row) == list(FEATURE_NAMES)
    assert set(row.values()) == {0.0}


def test_groups_split_the_features() -> None:
    financial, telecom = names(["financial"]), names(["telecom"])
    assert financial
    assert telecom
    assert set(financial) | set(telecom) == set(FEATURE_NAMES)
    assert not set(financial) & set(telecom)
    assert all(feature.label_ko and feature.label_en for feature in FEATURES)


def _telecom(payments: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    records: list[tuple[str, dict[str, Any]]] = [("통신-001", {"mgmt_id": "L1", "type": "01", "status": "01"})]
    for month in ("202601", "202602", "202603", "202604"):
        records.append(("통신-002", {"mgmt_id": "L1", "charge_amt": "50000.000", "charge_date": f"{month}25"}))
    records.extend(("통신-003", payment) for payment in payments)
    records.append(("통신-004", {"trans_date": "20260310", "trans_amt": "20000"}))
    return records


def test_telecom_payments_show_unpaid_months_and_arrears_paid_directly() -> None:
    on_time = [
        {"trans_month": m, "paid_amt": "50000", "pay_method": "01"} for m in ("202601", "202602", "202603", "202604")
    ]
    row = features(_telecom(on_time))
    assert row["tel_has_telecom"] == 1.0
    assert row["tel_months_billed"] == 4
    assert row["tel_unpaid_months"] == 0
    assert row["tel_direct_pay_share"] == 0
    assert row["tel_paid_to_billed"] == pytest.approx(1.0)
    assert row["tel_micro_share"] == pytest.approx(20000 / 200000)
    assert row["tel_micro_count"] == 1

    # February and March missed, paid in April together with a 2% late fee by direct payment (03)
    behind = [
        {"trans_month": "202601", "paid_amt": "50000", "pay_method": "01"},
        {"trans_month": "202604", "paid_amt": "152000", "pay_method": "03"},
    ]
    row = features(_telecom(behind))
    assert row["tel_unpaid_months"] == 2
    assert row["tel_direct_pay_share"] == pytest.approx(152000 / 202000)
    assert row["tel_paid_to_billed"] == pytest.approx(202000 / 200000)


def test_bank_and_card_records_give_income_loans_and_late_bills() -> None:
    records: list[tuple[str, dict[str, Any]]] = [
        ("은행-001", {"account_num": "1", "account_type": "1001"}),
        ("은행-001", {"account_num": "2", "account_type": "3100"}),
        ("은행-009", {"balance_amt": "12000000", "loan_principal": "15000000"}),
        ("은행-010", {"trans_type": "01", "trans_amt": "500000"}),
        ("은행-010", {"trans_type": "02", "trans_amt": "510000"}),
        ("카드-001", {"card_id": "C1"}),
        # charged on the 14th; the second paid out three days late
        (
            "카드-004",
            {"charge_month": "202602", "charge_day": "14", "paid_out_date": "20260214", "charge_amt": "300000"},
        ),
        (
            "카드-004",
            {"charge_month": "202603", "charge_day": "14", "paid_out_date": "20260317", "charge_amt": "500000"},
        ),
        ("카드-007", {"remained_amt": "200000"}),
    ]
    for month in ("202602", "202603"):
        records.append(("은행-004", {"trans_dtime": f"{month}25090000", "trans_type": "01", "trans_amt": "3000000"}))
        records.append(("은행-004", {"trans_dtime": f"{month}26090000", "trans_type": "02", "trans_amt": "1500000"}))
    row = features(records)
    assert row["fin_has_bank"] == 1.0
    assert row["fin_loan_count"] == 1
    assert row["fin_loan_late_repayments"] == 1
    assert row["fin_loan_to_income"] == pytest.approx(12_000_000 / 36_000_000)
    assert row["fin_income_cv"] == 0
    assert row["fin_spend_to_income"] == pytest.approx(0.5)
    assert row["fin_card_bills"] == 2
    assert row["fin_card_late_bills"] == 1
    assert row["fin_card_spend_to_income"] == pytest.approx(12 * 400_000 / 36_000_000)
    assert row["fin_revolving_log"] > 0
    assert row["tel_has_telecom"] == 0.0


def test_amounts_that_are_not_numbers_count_as_nothing() -> None:
    row = features([("통신-001", {"mgmt_id": "L1"}), ("통신-002", {"charge_amt": "n/a", "charge_date": "20260125"})])
    assert row["tel_months_billed"] == 1
    assert row["tel_bill_monthly_log"] == 0
