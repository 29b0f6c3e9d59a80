"""Display labels and masking on the operator's pages, and how the dashboard view uses them."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from openmydata.operator.labels import code_label, cycle_label, mask_account, scope_labels
from openmydata.operator.personal import HeldAsset, HeldRecord
from openmydata.operator.views import build_dashboard, signed_won

BANK = "BANK000001"


def _asset(api_id: str, key: str, payload: dict[str, Any]) -> HeldAsset:
    return HeldAsset(org_code=BANK, api_id=api_id, asset_key=key, payload=payload)


def _record(api_id: str, key: str, payload: dict[str, Any], natural_key: str = "1") -> HeldRecord:
    return HeldRecord(org_code=BANK, api_id=api_id, key=key, natural_key=natural_key, payload=payload)


class TestMaskAccount:
    def test_keeps_only_the_last_four_digits(self) -> None:
        assert mask_account("32302774023652") == "***-****-3652"
        assert mask_account("323-02-774023652") == "***-****-3652"

    def test_short_or_missing_numbers_show_nothing_of_the_number(self) -> None:
        assert mask_account("999") == "***"
        assert mask_account(None) == ""
        assert mask_account("") == ""

    @given(st.text(alphabet="0123456789", min_size=5, max_size=20))
    def test_never_shows_more_than_four_digits(self, number: str) -> None:
        masked = mask_account(number)
        assert masked.endswith(number[-4:])
        assert sum(ch.isdigit() for ch in masked) == 4


class TestLabels:
    def test_scopes_in_korean_and_unknown_ones_as_codes(self) -> None:
        assert scope_labels("bank.list bank.deposit") == "계좌 목록, 예금·적금"
        assert scope_labels(["telecom.mgmt", "new.scope"]) == "청구·납부·소액결제, new.scope"
        assert scope_labels(None) == ""

    def test_transfer_cycles(self) -> None:
        assert cycle_label("1/w") == "주 1회"
        assert cycle_label("2/d") == "일 2회"
        assert cycle_label("1/m") == "월 1회"
        assert cycle_label("1/x") == "1/x"
        assert cycle_label("") == ""

    def test_codes_fall_back_to_the_code(self) -> None:
        assert code_label({"01": "이동전화"}, "01") == "이동전화"
        assert code_label({"01": "이동전화"}, "09") == "09"
        assert code_label({"01": "이동전화"}, None) == ""

    def test_signed_amounts(self) -> None:
        assert signed_won("9300", "KRW", outgoing=True) == "-₩9,300"
        assert signed_won("374000", "KRW", outgoing=False) == "+₩374,000"
        assert signed_won("-5000", "KRW", outgoing=True) == "-₩5,000"


class TestDashboardView:
    def test_accounts_are_masked_and_outgoing_amounts_signed(self) -> None:
        account = {"account_num": "32302774023652", "prod_name": "입출금통장", "account_type": "1001", "seqno": ""}
        view = build_dashboard(
            [_asset("은행-001", "32302774023652|", account)],
            [
                _record("은행-003", "32302774023652|", {"currency_code": "KRW", "balance_amt": "10000"}),
                _record(
                    "은행-004",
                    "32302774023652|",
                    {
                        "trans_dtime": "20261101120000",
                        "trans_type": "02",
                        "trans_class": "체크카드",
                        "trans_amt": "9300",
                    },
                ),
                _record(
                    "은행-004",
                    "99990000123456|",
                    {
                        "trans_dtime": "20261102120000",
                        "trans_type": "01",
                        "trans_class": "이체입금",
                        "trans_amt": "500",
                    },
                    natural_key="2",
                ),
            ],
            [],
            {BANK: "가나은행"},
            {BANK: ["bank"]},
        )
        assert [a["number"] for a in view.accounts] == ["***-****-3652"]
        assert [(t["account"], t["amount"]) for t in view.transactions] == [
            ("***-****-3456", "+₩500"),
            ("입출금통장", "-₩9,300"),
        ]
        assert view.has_deposit
        assert not view.has_invest
        assert not view.has_memo

    def test_telecom_codes_as_labels_and_sensitive_fields_detected(self) -> None:
        view = build_dashboard(
            [
                _asset(
                    "통신-001", "M1", {"mgmt_id": "M1", "telecom_num": "010-****-5678", "type": "01", "status": "01"}
                ),
                _asset(
                    "통신-001", "M2", {"mgmt_id": "M2", "telecom_num": "010-****-0000", "type": "07", "status": "09"}
                ),
            ],
            [_record("카드-008", "C1", {"approved_dtime": "20261101120000", "merchant_name": "가나마트"})],
            [],
            {},
            {},
        )
        assert [(t["type"], t["status"]) for t in view.telecom_lines] == [("이동전화", "개인"), ("07", "09")]
        assert view.has_merchant

    def test_insurance_policies_and_securities_accounts(self) -> None:
        view = build_dashboard(
            [
                _asset(
                    "보험-001",
                    "P1",
                    {"insu_num": "P1", "prod_name": "건강보험", "insu_type": "03", "insu_status": "01"},
                ),
                _asset(
                    "보험-001",
                    "P2",
                    {"insu_num": "P2", "prod_name": "저축보험", "insu_type": "08", "insu_status": "02"},
                ),
                _asset(
                    "금투-001", "S1", {"account_num": "55501234567", "account_name": "종합매매", "account_type": "101"}
                ),
            ],
            [
                _record("보험-002", "P1", {"face_amt": "30000000", "exp_date": "20450101"}),
                _record("보험-005", "P1", {"pay_amt": "52000"}),
                _record("보험-005", "P2", {"pay_amt": "100000"}),
                _record("금투-002", "S1", {"withholdings_amt": "150000"}),
                _record("금투-004", "S1", {"eval_amt": "1200000", "purchase_amt": "1000000"}),
                _record("금투-004", "S1", {"eval_amt": "300000", "purchase_amt": "400000"}, natural_key="2"),
            ],
            [],
            {},
            {},
        )
        assert [(i["product"], i["status"], i["premium"], i["face"]) for i in view.insurances] == [
            ("건강보험", "유지", "₩52,000", "₩30,000,000"),
            ("저축보험", "실효", "₩100,000", "-"),
        ]
        assert view.totals["premium"] == 52000  # a lapsed policy is not paid any more
        [account] = view.securities
        assert (account["holdings"], account["evaluation"], account["cash"], account["gain"]) == (
            2,
            "₩1,500,000",
            "₩150,000",
            "+₩100,000",
        )
        assert account["number"] == "***-****-4567"
        assert view.totals["invest"] == 1_650_000
        assert view.has_invest
