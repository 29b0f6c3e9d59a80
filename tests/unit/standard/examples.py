"""Plausible requests and responses for the card and telecom APIs, in the standard's wire form."""

from __future__ import annotations

from typing import Any

ORG = "ORG0000001"
OK = {"rsp_code": "00000", "rsp_msg": "성공"}

EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "카드-001": (
        {"org_code": ORG, "search_timestamp": "0", "limit": "500"},
        {
            **OK,
            "search_timestamp": "20240101000000",
            "card_cnt": "1",
            "card_list": [
                {
                    "card_id": "C-0001",
                    "card_num": "1234-56**-****-7890",
                    "is_consent": "true",
                    "card_name": "우리카드 플래티넘",
                    "card_member": "1",
                },
            ],
        },
    ),
    "카드-002": (
        {"org_code": ORG, "card_id": "C-0001", "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20240101000000",
            "card_type": "01",
            "is_trans_payable": "true",
            "is_cash_card": False,
            "linked_bank_code": "004",
            "card_brand": "I01",
            "annual_fee": "10000",
            "issue_date": "20200101",
        },
    ),
    "카드-003": (
        {"org_code": ORG},
        {
            **OK,
            "point_cnt": "1",
            "point_list": [
                {"point_name": "마이포인트", "remain_point_amt": "1200", "expiring_point_amt": "0"},
            ],
        },
    ),
    "카드-004": (
        {"org_code": ORG, "from_month": "202401", "to_month": "202403", "limit": 100},
        {
            **OK,
            "next_page": "abc",
            "bill_cnt": "1",
            "bill_list": [
                {
                    "seqno": "1",
                    "charge_amt": "123456.5",
                    "charge_day": "14",
                    "charge_month": "202402",
                    "paid_out_date": "20240214",
                    "card_type": "01",
                },
            ],
        },
    ),
    "카드-005": (
        {"org_code": ORG, "seqno": "1", "charge_month": "202402"},
        {
            **OK,
            "bill_detail_cnt": "1",
            "bill_detail_list": [
                {
                    "card_id": "C-0001",
                    "paid_dtime": "20240110123000",
                    "paid_amt": "5000",
                    "currency_code": "KRW",
                    "merchant_name": "스타벅스",
                    "credit_fee_amt": "0",
                    "total_install_cnt": "3",
                    "cur_install_cnt": "1",
                    "balance_amt": "10000",
                    "prod_type": "01",
                },
            ],
        },
    ),
    "카드-006": (
        {"org_code": ORG},
        {**OK, "pay_cnt": "1", "pay_list": [{"seqno": "1", "pay_due_date": "20240314", "pay_amt": "5000"}]},
    ),
    "카드-007": (
        {"org_code": ORG},
        {
            **OK,
            "revolving_cnt": "1",
            "revolving_list": [
                {
                    "req_date": "20230101",
                    "min_pay_rate": "10",
                    "min_pay_amt": "50000",
                    "agreed_pay_rate": "30.5",
                    "remained_amt": "100000",
                },
            ],
        },
    ),
    "카드-008": (
        {"org_code": ORG, "card_id": "C-0001", "from_date": "20240101", "to_date": "20240131"},
        {
            **OK,
            "approved_cnt": "1",
            "approved_list": [
                {
                    "approved_num": "12345678",
                    "approved_dtime": "20240105101010",
                    "status": "02",
                    "pay_type": "01",
                    "cancel_dtime": "20240106101010",
                    "merchant_name": "GS25",
                    "merchant_regno": "123-45-67890",
                    "approved_amt": "3500",
                    "total_install_cnt": "0",
                },
            ],
        },
    ),
    "카드-009": (
        {"org_code": ORG, "card_id": "C-0001", "from_date": "20240101", "to_date": "20240131", "limit": 50},
        {
            **OK,
            "approved_cnt": "1",
            "approved_list": [
                {
                    "approved_num": "12345678",
                    "approved_dtime": "20240105101010",
                    "status": "01",
                    "pay_type": "02",
                    "approved_amt": "35.12",
                    "country_code": "US",
                    "currency_code": "USD",
                    "krw_amt": "46000",
                },
            ],
        },
    ),
    "카드-010": (
        {"org_code": ORG, "search_timestamp": "0"},
        {**OK, "is_loan_revolving": "true", "is_loan_short_term": "false", "is_loan_long_term": True},
    ),
    "카드-011": (
        {"org_code": ORG},
        {
            **OK,
            "short_term_cnt": "1",
            "short_term_list": [
                {"loan_dtime": "20240105101010", "loan_amt": "300000", "pay_due_date": "20240214", "int_rate": "18.5"},
            ],
        },
    ),
    "카드-012": (
        {"org_code": ORG},
        {
            **OK,
            "long_term_cnt": "1",
            "long_term_list": [
                {
                    "loan_dtime": "20230105101010",
                    "loan_cnt": "1",
                    "loan_type": "01",
                    "loan_name": "카드론",
                    "loan_amt": "5000000",
                    "int_rate": "12.9",
                    "exp_date": "20260105",
                    "balance_amt": "3000000",
                    "repay_method": "01",
                    "int_amt": "40000",
                },
            ],
        },
    ),
    "통신-001": (
        {"org_code": ORG, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20240101000000",
            "telecom_cnt": "1",
            "telecom_list": [
                {
                    "mgmt_id": "M000123",
                    "is_consent": True,
                    "telecom_num": "010-****-1234",
                    "type": "01",
                    "status": "01",
                },
            ],
        },
    ),
    "통신-002": (
        {"org_code": ORG, "charge_month": "202402"},
        {
            **OK,
            "bill_cnt": "1",
            "bill_list": [{"mgmt_id": "M000123", "charge_amt": "65000", "charge_date": "20240325"}],
        },
    ),
    "통신-003": (
        {"org_code": ORG, "mgmt_id": "M000123", "from_month": "202401", "to_month": "202403"},
        {**OK, "trans_cnt": "1", "trans_list": [{"trans_month": "202401", "paid_amt": "65000", "pay_method": "01"}]},
    ),
    "통신-004": (
        {"org_code": ORG, "mgmt_id": "M000123", "from_date": "20240101", "to_date": "20240131", "limit": "10"},
        {
            **OK,
            "trans_cnt": "1",
            "trans_list": [
                {
                    "trans_date": "20240105",
                    "trans_amt": "12000",
                    "org_regno": "123-45-67890",
                    "merchant_name": "게임사",
                    "trans_title": "아이템",
                },
            ],
        },
    ),
}
