"""The capital / instalment-finance entries (할부금융-001…006): paths, scopes, keys (account_num + seqno), the
loan / operating-lease routing, and models that accept a realistic exchange and refuse a malformed one."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from openmydata.operator.collector import plan_calls
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.apis.capital import LOAN, OPERATING_LEASE, SPECS
from openmydata.standard.catalogue import CycleClass, Kind, Sector, selector_key
from openmydata.standard.scopes import SCOPE_NAMES

ORG = "CAPITAL001"
OK = {"rsp_code": "00000", "rsp_msg": "성공"}
CAR_LOAN = "1766470701"
LEASE = "1766470702"
TODAY = date(2025, 6, 30)

EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "할부금융-001": (
        {"org_code": ORG, "search_timestamp": "20250101000000"},
        {
            **OK,
            "search_timestamp": "20250630120000",
            "reg_date": "20240225",
            "account_cnt": "3",
            "account_list": [
                {
                    "account_num": CAR_LOAN,
                    "is_consent": "true",
                    "seqno": "1",
                    "prod_name": "신차 다이렉트 할부 - 기아 레이",
                    "account_type": "3500",
                    "account_status": "01",
                },
                {
                    "account_num": CAR_LOAN,
                    "is_consent": "true",
                    "seqno": "2",
                    "prod_name": "신차 다이렉트 할부 - 기아 레이 (추가대출)",
                    "account_type": "3100",
                    "account_status": "01",
                },
                {
                    "account_num": LEASE,
                    "is_consent": "false",
                    "seqno": "1",
                    "prod_name": "오토리스 (운용리스) - 제네시스 G80",
                    "account_type": "3710",
                    "account_status": "01",
                },
            ],
        },
    ),
    "할부금융-002": (
        {"org_code": ORG, "account_num": CAR_LOAN, "seqno": "1", "search_timestamp": "20250101000000"},
        {
            **OK,
            "search_timestamp": "20250630120000",
            "holder_name": "김예진",
            "issue_date": "20240225",
            "exp_date": "20270225",
            "last_offered_rate": "6.15",
            "repay_date": "10",
            "repay_method": "02",
            "repay_org_code": "A1AAAB0000",
            "repay_account_num": "11012345678",
        },
    ),
    "할부금융-003": (
        {"org_code": ORG, "account_num": CAR_LOAN, "seqno": "1"},
        {**OK, "balance_amt": "6244374", "loan_principal": "10800000", "next_repay_date": "20250710"},
    ),
    "할부금융-004": (
        {
            "org_code": ORG,
            "account_num": CAR_LOAN,
            "seqno": "1",
            "from_date": "20250101",
            "to_date": "20250331",
            "limit": "500",
        },
        {
            **OK,
            "trans_cnt": "1",
            "trans_list": [
                {
                    "trans_dtime": "20250214124420",
                    "trans_no": "1000007",
                    "trans_type": "02",
                    "trans_amt": "329991",
                    "balance_amt": "7416184",
                    "principal_amt": "281600",
                    "int_amt": "48391",
                    "int_cnt": "2",
                    "int_list": [
                        {
                            "int_start_date": "20250110",
                            "int_end_date": "20250209",
                            "int_rate": "6.15",
                            "int_type": "01",
                        },
                        {
                            "int_start_date": "20250210",
                            "int_end_date": "20250213",
                            "int_rate": "9.15",
                            "int_type": "02",
                        },
                    ],
                }
            ],
        },
    ),
    "할부금융-005": (
        {"org_code": ORG, "account_num": LEASE, "seqno": "1"},
        {
            **OK,
            "search_timestamp": "20250630120000",
            "holder_name": "김예진",
            "issue_date": "20240311",
            "exp_date": "20280311",
            "repay_date": "15",
            "repay_method": "04",
            "next_repay_date": "20250715",
        },
    ),
    "할부금융-006": (
        {"org_code": ORG, "account_num": LEASE, "from_date": "20250101", "to_date": "20250331"},
        {
            **OK,
            "next_page": "cursor-2",
            "trans_cnt": "2",
            "trans_list": [
                {"trans_dtime": "20250115061012", "trans_no": "1000010", "trans_type": "01", "trans_amt": "1124000"},
                {"trans_dtime": "20250217", "trans_type": "02", "trans_amt": "1125200"},
            ],
        },
    ),
}


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    if isinstance(data, list):
        return [_replace(item, tuple(rest), value) if i == head else item for i, item in enumerate(data)]
    return {k: (_replace(v, tuple(rest), value) if k == head else v) for k, v in data.items()}


def _all_strings(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_all_strings(v) for v in value.values())
    if isinstance(value, list):
        return all(_all_strings(v) for v in value)
    return isinstance(value, str)


class TestCapitalEntries:
    def test_ids_paths_methods_and_codes(self) -> None:
        specs = CATALOGUE.sector(Sector.CAPITAL)
        assert [spec.id for spec in specs] == [f"할부금융-{n:03d}" for n in range(1, 7)]
        assert [(spec.method, spec.path, spec.api_code) for spec in specs] == [
            ("GET", "/v1/capital/loans", "CP01"),
            ("POST", "/v1/capital/loans/basic", "CP02"),
            ("POST", "/v1/capital/loans/detail", "CP03"),
            ("POST", "/v1/capital/loans/transactions", "CP04"),
            ("POST", "/v1/capital/loans/oplease/basic", "CP05"),
            ("POST", "/v1/capital/loans/oplease/transactions", "CP06"),
        ]

    def test_scopes_and_cycles(self) -> None:
        assert [spec.scope for spec in SPECS] == ["capital.list"] + ["capital.loan"] * 5
        assert all(spec.scope in SCOPE_NAMES for spec in SPECS)
        assert CATALOGUE.scopes(Sector.CAPITAL) == ["capital.list", "capital.loan"]
        basic, additional = CycleClass.BASIC, CycleClass.ADDITIONAL
        assert [spec.cycle for spec in SPECS] == [basic, basic, additional, additional, basic, additional]

    def test_keys_sources_and_ranges(self) -> None:
        listing = CATALOGUE["할부금융-001"]
        assert listing.kind is Kind.ASSET_LIST
        assert listing.asset_id_field == "account_num"
        assert listing.record_key == ("account_num", "seqno")
        for spec in SPECS[1:]:
            assert spec.key_fields == ("account_num", "seqno")
            assert spec.asset_field == "account_num"
            assert spec.source is not None
            assert spec.source.api_id == "할부금융-001"
            assert dict(spec.source.fields) == {"account_num": "account_num", "seqno": "seqno"}
        for api_id in ("할부금융-004", "할부금융-006"):
            spec = CATALOGUE[api_id]
            assert spec.kind is Kind.RECORDS
            assert spec.paged
            assert spec.range_fields == ("from_date", "to_date")
            assert spec.record_key == ("trans_dtime", "trans_no")
        assert selector_key({"account_num": CAR_LOAN, "seqno": "2"}, CATALOGUE["할부금융-002"].key_fields) == (
            f"{CAR_LOAN}|2"
        )

    @pytest.mark.parametrize(
        ("account_type", "loan", "lease"),
        [
            ("3100", True, False),
            ("3500", True, False),
            ("3510", True, False),
            ("3590", True, False),
            ("3700", True, False),
            ("3710", False, True),
            ("3999", True, False),
            ("3001", True, False),
        ],
    )
    def test_operating_leases_and_loans_are_routed_apart(self, account_type: str, loan: bool, lease: bool) -> None:
        record = {"account_type": account_type}
        assert (LOAN(record), OPERATING_LEASE(record)) == (loan, lease)

    def test_the_collector_asks_each_contract_its_own_apis(self) -> None:
        listed = EXAMPLES["할부금융-001"][1]["account_list"]
        listed = [{**entry, "is_consent": "true"} for entry in listed]

        def keys(api_id: str) -> list[str]:
            chains = plan_calls(CATALOGUE[api_id], org_code=ORG, source_records=listed, today=TODAY)
            return [chain[0].key for chain in chains]

        loans = [f"{CAR_LOAN}|1", f"{CAR_LOAN}|2"]
        assert keys("할부금융-002") == loans
        assert keys("할부금융-003") == loans
        assert keys("할부금융-004") == loans
        assert keys("할부금융-005") == [f"{LEASE}|1"]
        assert keys("할부금융-006") == [f"{LEASE}|1"]
        chain = plan_calls(CATALOGUE["할부금융-006"], org_code=ORG, source_records=listed, today=TODAY)[0]
        assert chain[0].request["seqno"] == "1"
        assert (chain[0].request["from_date"], chain[0].request["to_date"]) == ("20240701", "20250630")

    @pytest.mark.parametrize("api_id", list(EXAMPLES))
    def test_a_realistic_exchange_validates_and_round_trips(self, api_id: str) -> None:
        spec = CATALOGUE[api_id]
        request_wire, response_wire = EXAMPLES[api_id]
        request = spec.request.model_validate(request_wire)
        assert spec.request.model_validate(request.to_wire()) == request
        wire = spec.response.model_validate(response_wire).to_wire()
        assert spec.response.model_validate(wire).to_wire() == wire
        assert _all_strings(wire)
        if spec.list_field:
            assert spec.count_field is not None
            assert int(wire[spec.count_field]) == len(wire[spec.list_field])

    def test_the_lease_basic_info_may_leave_out_its_end_date(self) -> None:
        spec = CATALOGUE["할부금융-005"]
        response = {k: v for k, v in EXAMPLES["할부금융-005"][1].items() if k != "exp_date"}
        assert "exp_date" not in spec.response.model_validate(response).to_wire()
        with pytest.raises(ValidationError):
            CATALOGUE["할부금융-002"].response.model_validate(
                {k: v for k, v in EXAMPLES["할부금융-002"][1].items() if k != "exp_date"}
            )

    @pytest.mark.parametrize(
        ("api_id", "path", "value"),
        [
            ("할부금융-001", ("account_list", 0, "seqno"), "12345678"),
            ("할부금융-001", ("account_list", 0, "account_type"), "35000"),
            ("할부금융-002", ("last_offered_rate",), "123.5"),
            ("할부금융-002", ("repay_org_code",), "A" * 11),
            ("할부금융-003", ("balance_amt",), "-"),
            ("할부금융-004", ("trans_list", 0, "int_list", 0, "int_end_date"), "20250229"),
            ("할부금융-004", ("trans_list", 0, "int_cnt"), "1000"),
            ("할부금융-005", ("repay_method",), "004"),
            ("할부금융-006", ("trans_list", 0, "trans_amt"), None),
        ],
    )
    def test_malformed_responses_are_refused(self, api_id: str, path: tuple[Any, ...], value: Any) -> None:
        spec = CATALOGUE[api_id]
        with pytest.raises(ValidationError):
            spec.response.model_validate(_replace(EXAMPLES[api_id][1], path, value))

    @pytest.mark.parametrize(
        ("api_id", "field", "value"),
        [
            ("할부금융-001", "limit", "0"),
            ("할부금융-002", "seqno", "12345678"),
            ("할부금융-004", "to_date", "2025033"),
            ("할부금융-006", "account_num", None),
        ],
    )
    def test_malformed_requests_are_refused(self, api_id: str, field: str, value: Any) -> None:
        spec = CATALOGUE[api_id]
        with pytest.raises(ValidationError):
            spec.request.model_validate({**EXAMPLES[api_id][0], field: value})
