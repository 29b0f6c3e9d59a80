"""The insurance entries (보험-001…012): paths, scopes, cycles, keys and sources, and the models on realistic
requests and responses in the standard's wire form."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import ApiSpec, CycleClass, Kind, Sector
from openmydata.standard.schedule import SCHEDULED_LONG_RANGE_APIS
from openmydata.standard.scopes import SCOPE_NAMES

ORG = "INSU000001"
OK = {"rsp_code": "00000", "rsp_msg": "성공"}
INSU = "X2024000123"
LOAN = "L000001201"
SPECS = [spec for spec in CATALOGUE.sector(Sector.INSU) if spec.id.startswith("보험-")]
IDS = [spec.id for spec in SPECS]

EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "보험-001": (
        {"org_code": ORG, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "insu_cnt": "2",
            "insu_list": [
                {
                    "insu_num": INSU,
                    "is_consent": "true",
                    "prod_name": "(무)실손의료비보험(갱신형)",
                    "insu_type": "05",
                    "insu_status": "01",
                },
                {
                    "insu_num": "X2024000124",
                    "is_consent": "false",
                    "prod_name": "개인용 자동차보험",
                    "insu_type": "20",
                    "insu_status": "01",
                },
            ],
        },
    ),
    "보험-002": (
        {"org_code": ORG, "insu_num": INSU, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "is_renewable": "true",
            "issue_date": "20190311",
            "exp_date": "99991231",
            "face_amt": "100000000",
            "currency_code": "KRW",
            "is_variable": "false",
            "is_universal": "true",
            "pension_rcv_start_date": "20510311",
            "pension_rcv_cycle": "01",
            "is_loanable": "true",
            "insured_cnt": "2",
            "insured_list": [
                {"insured_no": "1", "insured_name": "김보험"},
                {"insured_no": "2", "insured_name": "이배우"},
            ],
        },
    ),
    "보험-003": (
        {"org_code": ORG, "insu_num": INSU, "insured_no": "1", "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "contract_cnt": "2",
            "contract_list": [
                {
                    "insured_no": "1",
                    "contract_name": "기본계약(사망)",
                    "contract_status": "01",
                    "contract_exp_date": "99991231",
                    "contract_face_amt": "100000000",
                    "currency_code": "KRW",
                    "is_required": "true",
                },
                {
                    "contract_name": "암진단특약",
                    "contract_status": "01",
                    "contract_exp_date": "20390311",
                    "contract_face_amt": "20000000.000",
                    "currency_code": "KRW",
                    "is_required": "false",
                },
            ],
        },
    ),
    "보험-004": (
        {"org_code": ORG, "insu_num": INSU, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "car_insu_cnt": "1",
            "car_insu_list": [
                {
                    "insu_num": INSU,
                    "car_number": "123가4567",
                    "car_insu_type": "01",
                    "car_name": "쏘나타 (2021년식)",
                    "start_date": "20240815",
                    "end_date": "20250815",
                    "contract_age": "만 30세 이상",
                    "contract_driver": "부부 한정",
                    "is_own_dmg_coverage": "true",
                    "self_pay_rate": "01",
                    "self_pay_amt": "500000",
                }
            ],
        },
    ),
    "보험-005": (
        {"org_code": ORG, "insu_num": INSU, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "pay_due": "01",
            "pay_cycle": "01",
            "pay_cnt": "72",
            "pay_org_code": "004",
            "pay_date": "25",
            "pay_end_date": "20390211",
            "pay_amt": "152000",
            "currency_code": "KRW",
            "is_auto_pay": "true",
        },
    ),
    "보험-006": (
        {"org_code": ORG, "insu_num": INSU, "from_date": "20240701", "to_date": "20250630", "limit": "500"},
        {
            **OK,
            "next_page": "cursor-2",
            "trans_cnt": "2",
            "trans_list": [
                {
                    "trans_date": "20240725",
                    "trans_applied_month": "202407",
                    "trans_no": "65",
                    "paid_amt": "152000",
                    "currency_code": "KRW",
                    "pay_method": "01",
                },
                {
                    "trans_date": "20240911",
                    "trans_applied_month": "202408",
                    "trans_no": "66",
                    "paid_amt": "152000",
                    "currency_code": "KRW",
                    "pay_method": "03",
                },
            ],
        },
    ),
    "보험-007": (
        {
            "org_code": ORG,
            "insu_num": INSU,
            "car_number": "123가4567",
            "from_date": "20240701",
            "to_date": "20250630",
            "limit": "100",
        },
        {
            **OK,
            "trans_cnt": "1",
            "trans_list": [
                {
                    "trans_dtime": "20240815103000",
                    "trans_no": "1",
                    "face_amt": "812340",
                    "paid_amt": "812340",
                    "pay_method": "02",
                }
            ],
        },
    ),
    "보험-008": (
        {"org_code": ORG, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "loan_cnt": "1",
            "loan_list": [
                {
                    "prod_name": "보험계약대출(약관대출)",
                    "account_num": LOAN,
                    "is_consent": "true",
                    "account_type": "3400",
                    "account_status": "01",
                }
            ],
        },
    ),
    "보험-009": (
        {"org_code": ORG, "account_num": LOAN, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "loan_start_date": "20230405",
            "loan_exp_date": "20260405",
            "repay_method": "01",
            "insu_num": INSU,
        },
    ),
    "보험-010": (
        {"org_code": ORG, "account_num": LOAN, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "currency_code": "KRW",
            "balance_amt": "2500000",
            "loan_principal": "3000000",
            "next_repay_date": "20250705",
        },
    ),
    "보험-011": (
        {"org_code": ORG, "account_num": LOAN, "from_date": "20240701", "to_date": "20250630", "limit": "500"},
        {
            **OK,
            "trans_cnt": "1",
            "trans_list": [
                {
                    "trans_no": "000013",
                    "trans_dtime": "20240705070102",
                    "currency_code": "KRW",
                    "loan_paid_amt": "500000",
                    "int_paid_amt": "36210",
                    "int_cnt": "2",
                    "int_list": [
                        {
                            "int_start_date": "20240505",
                            "int_end_date": "20240704",
                            "int_rate": "6.75",
                            "int_type": "01",
                        },
                        {
                            "int_start_date": "20240605",
                            "int_end_date": "20240704",
                            "int_rate": "9.75",
                            "int_type": "02",
                        },
                    ],
                }
            ],
        },
    ),
    "보험-012": (
        {"org_code": ORG, "insu_num": INSU, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "coverage_cnt": "2",
            "coverage_list": [
                {
                    "insured_no": "1",
                    "coverage_num": "00101",
                    "coverage_name": "일반암진단비",
                    "coverage_status": "01",
                    "coverage_amt": "30000000",
                    "currency_code": "KRW",
                    "coverage_start_date": "20190311",
                    "coverage_exp_date": "20390311",
                },
                {
                    "coverage_num": "00201",
                    "coverage_name": "암수술비",
                    "coverage_status": "02",
                    "coverage_amt": "2000000",
                    "currency_code": "KRW",
                },
            ],
        },
    ),
}


def _all_strings(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_all_strings(v) for v in value.values())
    if isinstance(value, list):
        return all(_all_strings(v) for v in value)
    return isinstance(value, str)


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    if isinstance(data, list):
        return [_replace(item, tuple(rest), value) if i == head else item for i, item in enumerate(data)]
    return {k: (_replace(v, tuple(rest), value) if k == head else v) for k, v in data.items()}


class TestInsuranceEntries:
    def test_every_api_of_the_digest_is_catalogued_once(self) -> None:
        assert [f"보험-{n:03d}" for n in range(1, 13)] == IDS
        assert set(EXAMPLES) == set(IDS)

    def test_paths_methods_and_codes(self) -> None:
        routes = {spec.id: (spec.method, spec.path, spec.api_code) for spec in SPECS}
        assert routes == {
            "보험-001": ("GET", "/v1/insu/insurances", "IS01"),
            "보험-002": ("POST", "/v1/insu/insurances/basic", "IS02"),
            "보험-003": ("POST", "/v1/insu/insurances/contracts", "IS03"),
            "보험-004": ("POST", "/v1/insu/insurances/car", "IS04"),
            "보험-005": ("POST", "/v1/insu/insurances/payment", "IS05"),
            "보험-006": ("POST", "/v1/insu/insurances/transactions", "IS06"),
            "보험-007": ("POST", "/v1/insu/insurances/car/transactions", "IS07"),
            "보험-008": ("GET", "/v1/insu/loans", "IS11"),
            "보험-009": ("POST", "/v1/insu/loans/basic", "IS12"),
            "보험-010": ("POST", "/v1/insu/loans/detail", "IS13"),
            "보험-011": ("POST", "/v1/insu/loans/transactions", "IS14"),
            "보험-012": ("POST", "/v1/insu/insurances/coverages", "IS08"),
        }
        for spec in SPECS:
            assert CATALOGUE.by_route(spec.method, spec.path) == [spec]

    def test_scopes_follow_the_scope_map(self) -> None:
        scopes = {spec.id: spec.scope for spec in SPECS}
        assert {api for api, scope in scopes.items() if scope == "insu.list"} == {"보험-001", "보험-008"}
        assert {api for api, scope in scopes.items() if scope == "insu.loan"} == {"보험-009", "보험-010", "보험-011"}
        assert {api for api, scope in scopes.items() if scope == "insu.insurance"} == {
            f"보험-{n:03d}" for n in (2, 3, 4, 5, 6, 7, 12)
        }
        assert {scope for scope in scopes.values() if scope} <= set(SCOPE_NAMES)
        assert "insu.irp" not in scopes.values()

    def test_cycles_follow_the_digest(self) -> None:
        additional = {spec.id for spec in SPECS if spec.cycle is CycleClass.ADDITIONAL}
        assert additional == {"보험-006", "보험-007", "보험-010", "보험-011", "보험-012"}
        assert all(spec.cycle is not None for spec in SPECS)

    def test_two_asset_lists_and_where_detail_apis_take_their_keys(self) -> None:
        lists = [spec for spec in SPECS if spec.kind is Kind.ASSET_LIST]
        assert [(spec.id, spec.asset_id_field) for spec in lists] == [
            ("보험-001", "insu_num"),
            ("보험-008", "account_num"),
        ]
        assert CATALOGUE.asset_list_api(Sector.INSU).id == "보험-001"
        for spec in SPECS:
            if spec.kind is Kind.ASSET_LIST:
                continue
            assert spec.source is not None
            if spec.scope == "insu.loan":
                assert (spec.source.api_id, spec.asset_field, spec.key_fields) == (
                    "보험-008",
                    "account_num",
                    ("account_num",),
                )
            elif spec.id == "보험-007":
                assert spec.source.api_id == "보험-004"
                assert dict(spec.source.fields) == {"insu_num": "insu_num", "car_number": "car_number"}
                assert spec.key_fields == ("insu_num", "car_number")
            else:
                assert (spec.source.api_id, spec.asset_field, spec.key_fields) == (
                    "보험-001",
                    "insu_num",
                    ("insu_num",),
                )

    def test_ranged_histories_are_the_three_month_scheduled_ones(self) -> None:
        ranged = {spec.id for spec in SPECS if spec.is_ranged}
        assert ranged == {"보험-006", "보험-007", "보험-011"}
        assert ranged <= set(SCHEDULED_LONG_RANGE_APIS)
        for api_id in ranged:
            spec = CATALOGUE[api_id]
            assert spec.paged
            assert spec.range_unit == "date"
            assert spec.record_period_field in {"trans_date", "trans_dtime"}

    def test_every_unconfirmed_reading_is_noted(self) -> None:
        for api_id in ("보험-001", "보험-003", "보험-004", "보험-007", "보험-008", "보험-012"):
            assert CATALOGUE[api_id].note, api_id
        assert "project" in CATALOGUE["보험-012"].note


class TestInsuranceModels:
    @pytest.mark.parametrize("api_id", IDS)
    def test_example_validates_and_round_trips(self, api_id: str) -> None:
        spec = CATALOGUE[api_id]
        request_wire, response_wire = EXAMPLES[api_id]
        request = spec.request.model_validate(request_wire)
        assert spec.request.model_validate(request.to_wire()) == request
        wire = spec.response.model_validate(response_wire).to_wire()
        assert spec.response.model_validate(wire).to_wire() == wire
        assert _all_strings(wire)
        if spec.list_field:
            assert int(wire[spec.count_field or ""]) == len(wire[spec.list_field])
            assert spec.record_model is not None
            for record in wire[spec.list_field]:
                assert set(spec.record_key) <= set(spec.record_model.model_fields)
                spec.record_model.model_validate(record)

    def test_amounts_are_emitted_without_trailing_zeros(self) -> None:
        spec = CATALOGUE["보험-003"]
        wire = spec.response.model_validate(EXAMPLES["보험-003"][1]).to_wire()
        assert wire["contract_list"][1]["contract_face_amt"] == "20000000"
        assert "insured_no" not in wire["contract_list"][1]

    @pytest.mark.parametrize(
        ("api_id", "path", "value"),
        [
            ("보험-001", ("insu_list", 0, "insu_num"), "X" * 21),
            ("보험-001", ("insu_list", 0, "is_consent"), "maybe"),
            ("보험-001", ("insu_list", 0, "insu_type"), "001"),
            ("보험-002", ("exp_date",), "20250230"),
            ("보험-002", ("insured_list", 0, "insured_no"), "1-1"),
            ("보험-003", ("contract_list", 0, "contract_face_amt"), "1.0001"),
            ("보험-004", ("car_insu_list", 0, "car_number"), "서울123가45678901"),
            ("보험-005", ("pay_date",), "32"),
            ("보험-006", ("trans_list", 0, "trans_applied_month"), "2024-07"),
            ("보험-007", ("trans_list", 0, "trans_dtime"), "202408151030"),
            ("보험-008", ("loan_list", 0, "account_type"), "34000"),
            ("보험-011", ("trans_list", 0, "int_list", 0, "int_rate"), "123.4"),
            ("보험-012", ("coverage_list", 0, "currency_code"), "krw"),
        ],
    )
    def test_invalid_values_are_refused(self, api_id: str, path: tuple[Any, ...], value: str) -> None:
        spec = CATALOGUE[api_id]
        with pytest.raises(ValidationError):
            spec.response.model_validate(_replace(EXAMPLES[api_id][1], path, value))

    @pytest.mark.parametrize(
        ("api_id", "field", "value"),
        [
            ("보험-002", "insu_num", None),
            ("보험-006", "from_date", "202407"),
            ("보험-006", "limit", "501"),
            ("보험-007", "car_number", None),
            ("보험-009", "account_num", "L-0001"),
            ("보험-011", "to_date", None),
        ],
    )
    def test_invalid_requests_are_refused(self, api_id: str, field: str, value: str | None) -> None:
        spec = CATALOGUE[api_id]
        request = {**EXAMPLES[api_id][0], field: value}
        if value is None:
            del request[field]
        with pytest.raises(ValidationError):
            spec.request.model_validate(request)

    def test_contracts_may_be_asked_without_an_insured_person(self) -> None:
        spec = CATALOGUE["보험-003"]
        request = spec.request.model_validate({"org_code": ORG, "insu_num": INSU})
        assert request.to_wire() == {"org_code": ORG, "insu_num": INSU}

    def test_lists_are_not_paged(self) -> None:
        for api_id in ("보험-001", "보험-008"):
            spec: ApiSpec = CATALOGUE[api_id]
            assert not spec.paged
            assert spec.search_timestamp
            assert "next_page" not in spec.request.model_fields
