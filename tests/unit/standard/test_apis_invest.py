"""The investment entries (금투-001…005): paths, scopes, keys, and models that accept a realistic exchange and
refuse a malformed one."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from openmydata.operator.collector import collection_levels, plan_calls
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.apis.invest import PENSION, SPECS
from openmydata.standard.catalogue import CycleClass, Kind, Sector
from openmydata.standard.scopes import SCOPE_NAMES

ORG = "INVEST0001"
OK = {"rsp_code": "00000", "rsp_msg": "성공"}
BROKERAGE = "1234567801"
PENSION_ACCOUNT = "1234567822"
TODAY = date(2025, 6, 30)

EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "금투-001": (
        {"org_code": ORG, "search_timestamp": "20250101000000", "limit": "500"},
        {
            **OK,
            "search_timestamp": "20250630120000",
            "reg_date": "20190312",
            "account_cnt": "2",
            "account_list": [
                {
                    "account_num": BROKERAGE,
                    "is_consent": "true",
                    "account_name": "위탁종합계좌",
                    "account_type": "101",
                    "account_status": "01",
                },
                {
                    "account_num": PENSION_ACCOUNT,
                    "is_consent": "false",
                    "account_name": "연금저축계좌",
                    "account_type": "201",
                    "account_status": "01",
                },
            ],
        },
    ),
    "금투-002": (
        {"org_code": ORG, "account_num": BROKERAGE, "search_timestamp": "20250101000000"},
        {
            **OK,
            "search_timestamp": "20250630120000",
            "issue_date": "20190312",
            "is_tax_benefits": "false",
            "withholdings_amt": "1234567",
            "credit_loan_amt": "0",
            "mortgage_amt": "5000000",
            "currency_code": "KRW",
        },
    ),
    "금투-003": (
        {"org_code": ORG, "account_num": BROKERAGE, "from_date": "20250101", "to_date": "20250131", "limit": 100},
        {
            **OK,
            "next_page": "cursor-1",
            "trans_cnt": "3",
            "trans_list": [
                {
                    "prod_name": "삼성전자",
                    "prod_code": "005930",
                    "trans_dtime": "20250106141953",
                    "trans_no": "20250106000016",
                    "trans_type": "101",
                    "trans_type_detail": "현금매수",
                    "trans_num": "22",
                    "base_amt": "66400",
                    "trans_amt": "1460800",
                    "settle_amt": "1461019",
                    "balance_amt": "218434",
                    "currency_code": "KRW",
                },
                {
                    "trans_dtime": "20250120",
                    "trans_type": "201",
                    "trans_type_detail": "이체입금",
                    "trans_amt": "1020000",
                    "settle_amt": "1020000",
                    "balance_amt": "1238434",
                    "currency_code": "KRW",
                },
                {
                    "prod_name": "애플",
                    "prod_code": "AAPL",
                    "trans_dtime": "20250121231500",
                    "trans_type": "102",
                    "trans_num": "3",
                    "base_amt": "222.64",
                    "trans_amt": "667.92",
                    "settle_amt": "666.25",
                    "balance_amt": "666.25",
                    "currency_code": "USD",
                },
            ],
        },
    ),
    "금투-004": (
        {"org_code": ORG, "account_num": BROKERAGE},
        {
            **OK,
            "search_timestamp": "20250630120000",
            "prod_cnt": "2",
            "prod_list": [
                {
                    "prod_type": "101",
                    "prod_type_detail": "코스피",
                    "prod_code": "005930",
                    "prod_name": "삼성전자",
                    "purchase_amt": "8146134",
                    "holding_num": "104",
                    "avail_for_sale_num": "104",
                    "eval_amt": "5938400",
                    "currency_code": "KRW",
                },
                {
                    "prod_type": "201",
                    "prod_code": "KR5235AK9808",
                    "prod_name": "미래에셋전략배분TDF2045혼합자산자투자신탁",
                    "purchase_amt": "4912721",
                    "holding_num": "3858351",
                    "eval_amt": "6004867",
                    "issue_date": "20180730",
                    "paid_in_amt": "4912721",
                    "withdrawal_amt": "0",
                    "last_paid_in_date": "20250623",
                    "rcv_amt": "0",
                    "currency_code": "KRW",
                },
            ],
        },
    ),
    "금투-005": (
        {"org_code": ORG, "account_num": PENSION_ACCOUNT, "search_timestamp": "20250101000000"},
        {
            **OK,
            "search_timestamp": "20250630120000",
            "pension_rcv_start_date": "20390301",
            "total_paid_in_amt": "14250000",
            "cur_year_paid_in_amt": "1500000",
            "tax_deductible_amt": "14250000",
            "non_deductible_amt": "0",
            "paid_in_limit_amt": "18000000",
            "currency_code": "KRW",
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


class TestInvestEntries:
    def test_ids_paths_methods_and_codes(self) -> None:
        specs = [spec for spec in CATALOGUE.sector(Sector.INVEST) if not spec.is_shared]  # IRP: test_apis_irp
        assert [spec.id for spec in specs] == [f"금투-{n:03d}" for n in range(1, 6)]
        assert [(spec.method, spec.path, spec.api_code) for spec in specs] == [
            ("GET", "/v1/invest/accounts", "IV01"),
            ("POST", "/v1/invest/accounts/basic", "IV02"),
            ("POST", "/v1/invest/accounts/transactions", "IV03"),
            ("POST", "/v1/invest/accounts/products", "IV04"),
            ("POST", "/v1/invest/accounts/pension", "IV05"),
        ]
        assert CATALOGUE.by_route("POST", "/v1/invest/accounts/pension")[0].id == "금투-005"

    def test_scopes_and_cycles(self) -> None:
        assert [spec.scope for spec in SPECS] == ["invest.list"] + ["invest.account"] * 4
        assert all(spec.scope in SCOPE_NAMES for spec in SPECS)
        assert [spec.cycle for spec in SPECS] == [CycleClass.BASIC] + [CycleClass.ADDITIONAL] * 4
        # IRP (invest.irp) is not this module's
        assert not any(spec.resource.startswith("/irps") for spec in SPECS)

    def test_kinds_keys_and_sources(self) -> None:
        listing = CATALOGUE["금투-001"]
        assert (listing.kind, listing.asset_id_field, listing.record_key) == (
            Kind.ASSET_LIST,
            "account_num",
            ("account_num",),
        )
        assert listing.paged
        assert listing.search_timestamp
        for api_id in ("금투-002", "금투-003", "금투-004", "금투-005"):
            spec = CATALOGUE[api_id]
            assert spec.key_fields == ("account_num",)
            assert spec.asset_field == "account_num"
            assert spec.source is not None
            assert spec.source.api_id == "금투-001"
            assert dict(spec.source.fields) == {"account_num": "account_num"}
        assert [CATALOGUE[i].kind for i in ("금투-002", "금투-003", "금투-004", "금투-005")] == [
            Kind.ASSET_INFO,
            Kind.RECORDS,
            Kind.RECORDS,
            Kind.ASSET_INFO,
        ]
        transactions = CATALOGUE["금투-003"]
        assert transactions.paged
        assert transactions.range_fields == ("from_date", "to_date")
        assert transactions.record_period_field == "trans_dtime"
        assert not CATALOGUE["금투-004"].paged
        pension_source = CATALOGUE["금투-005"].source
        assert pension_source is not None
        assert pension_source.where is PENSION

    def test_every_spec_notes_the_projects_reading(self) -> None:
        for spec in SPECS:
            assert spec.note, spec.id
            assert "\n" not in spec.note
        assert "project" in CATALOGUE["금투-005"].note

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
            assert spec.record_model is not None
            for record in wire[spec.list_field]:
                spec.record_model.model_validate(record)

    def test_optional_fields_are_left_out_of_the_wire_form(self) -> None:
        spec = CATALOGUE["금투-003"]
        wire = spec.response.model_validate(EXAMPLES["금투-003"][1]).to_wire()
        deposit = wire["trans_list"][1]
        assert "prod_code" not in deposit
        assert "trans_num" not in deposit
        assert deposit["trans_amt"] == "1020000"

    @pytest.mark.parametrize(
        ("api_id", "path", "value"),
        [
            ("금투-001", ("account_list", 0, "account_num"), "1" * 21),
            ("금투-001", ("account_list", 0, "account_type"), "1011"),
            ("금투-001", ("account_list", 0, "is_consent"), "maybe"),
            ("금투-002", ("is_tax_benefits",), "yes please"),
            ("금투-002", ("issue_date",), "20190231"),
            ("금투-002", ("currency_code",), "krw"),
            ("금투-003", ("trans_list", 0, "trans_dtime"), "202501061419"),
            ("금투-003", ("trans_list", 0, "trans_amt"), "1460800.0001"),
            ("금투-003", ("trans_list", 1, "settle_amt"), None),
            ("금투-004", ("prod_list", 0, "eval_amt"), "lots"),
            ("금투-004", ("prod_list", 1, "last_paid_in_date"), "2025-06-23"),
            ("금투-005", ("total_paid_in_amt",), "1" * 17),
            ("금투-005", ("pension_rcv_start_date",), "203903"),
        ],
    )
    def test_malformed_responses_are_refused(self, api_id: str, path: tuple[Any, ...], value: Any) -> None:
        spec = CATALOGUE[api_id]
        with pytest.raises(ValidationError):
            spec.response.model_validate(_replace(EXAMPLES[api_id][1], path, value))

    @pytest.mark.parametrize(
        ("api_id", "field", "value"),
        [
            ("금투-001", "limit", "501"),
            ("금투-002", "account_num", "계좌번호"),
            ("금투-003", "from_date", "202501"),
            ("금투-004", "account_num", None),
            ("금투-005", "org_code", "X" * 11),
        ],
    )
    def test_malformed_requests_are_refused(self, api_id: str, field: str, value: Any) -> None:
        spec = CATALOGUE[api_id]
        with pytest.raises(ValidationError):
            spec.request.model_validate({**EXAMPLES[api_id][0], field: value})


class TestInvestCollectionPlan:
    def test_the_pension_api_is_asked_only_for_pension_accounts(self) -> None:
        accounts = EXAMPLES["금투-001"][1]["account_list"]
        listed = [{**account, "is_consent": "true"} for account in accounts]
        calls = {
            api_id: [
                chain[0].request["account_num"]
                for chain in plan_calls(CATALOGUE[api_id], org_code=ORG, source_records=listed, today=TODAY)
            ]
            for api_id in ("금투-002", "금투-003", "금투-004", "금투-005")
        }
        assert calls == {
            "금투-002": [BROKERAGE, PENSION_ACCOUNT],
            "금투-003": [BROKERAGE, PENSION_ACCOUNT],
            "금투-004": [BROKERAGE, PENSION_ACCOUNT],
            "금투-005": [PENSION_ACCOUNT],
        }
        ranged = plan_calls(CATALOGUE["금투-003"], org_code=ORG, source_records=listed[:1], today=TODAY)
        assert ranged[0][0].request["from_date"] == "20240701"
        assert ranged[0][0].key == BROKERAGE

    def test_collection_order_starts_with_the_account_list(self) -> None:
        levels = collection_levels([spec for spec in CATALOGUE.sector(Sector.INVEST) if not spec.is_shared])
        assert [spec.id for spec in levels[0]] == ["금투-001"]
        assert {spec.id for spec in levels[1]} == {"금투-002", "금투-003", "금투-004", "금투-005"}
