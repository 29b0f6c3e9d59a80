"""The guarantee-insurance entries (보증보험-001…003): paths, scopes, keys and the models on realistic wire data."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import CycleClass, Kind, Sector
from openmydata.standard.schedule import SCHEDULED_LONG_RANGE_APIS
from openmydata.standard.scopes import SCOPE_NAMES

ORG = "GINSU00001"
OK = {"rsp_code": "00000", "rsp_msg": "성공"}
INSU = "100202400012"
SPECS = CATALOGUE.sector(Sector.GINSU)

EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "보증보험-001": (
        {"org_code": ORG, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "insu_cnt": "1",
            "insu_list": [
                {
                    "insu_num": INSU,
                    "is_consent": "true",
                    "prod_name": "전세금보장신용보험",
                    "insu_type": "03",
                    "insu_status": "01",
                }
            ],
        },
    ),
    "보증보험-002": (
        {"org_code": ORG, "insu_num": INSU, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "issue_date": "20240418",
            "exp_date": "20260518",
            "face_amt": "250000000",
            "pay_due": "04",
            "pay_amt": "952630",
            "insured_cnt": "1",
            "insured_list": [{"insured_name": "김세입"}],
        },
    ),
    "보증보험-003": (
        {"org_code": ORG, "insu_num": INSU, "from_date": "20240701", "to_date": "20250630", "limit": "500"},
        {
            **OK,
            "trans_cnt": "1",
            "trans_list": [{"trans_date": "20240418", "trans_no": "1", "paid_amt": "952630", "pay_method": "02"}],
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


class TestGuaranteeEntries:
    def test_paths_methods_codes_scopes_and_cycles(self) -> None:
        rows = [(s.id, s.method, s.path, s.api_code, s.scope, s.cycle, s.kind) for s in SPECS]
        assert rows == [
            ("보증보험-001", "GET", "/v1/ginsu/insurances", "GI01", "ginsu.list", CycleClass.BASIC, Kind.ASSET_LIST),
            (
                "보증보험-002",
                "POST",
                "/v1/ginsu/insurances/basic",
                "GI02",
                "ginsu.insurance",
                CycleClass.BASIC,
                Kind.ASSET_INFO,
            ),
            (
                "보증보험-003",
                "POST",
                "/v1/ginsu/insurances/transactions",
                "GI03",
                "ginsu.insurance",
                CycleClass.ADDITIONAL,
                Kind.RECORDS,
            ),
        ]
        assert CATALOGUE.scopes(Sector.GINSU) == ["ginsu.list", "ginsu.insurance"]
        assert set(CATALOGUE.scopes(Sector.GINSU)) <= set(SCOPE_NAMES)

    def test_paths_do_not_collide_with_insurance(self) -> None:
        for spec in SPECS:
            assert CATALOGUE.by_route(spec.method, spec.path) == [spec]

    def test_details_take_insu_num_from_the_list(self) -> None:
        assert CATALOGUE.asset_list_api(Sector.GINSU).id == "보증보험-001"
        for api_id in ("보증보험-002", "보증보험-003"):
            spec = CATALOGUE[api_id]
            assert spec.source is not None
            assert (spec.source.api_id, dict(spec.source.fields)) == ("보증보험-001", {"insu_num": "insu_num"})
            assert (spec.asset_field, spec.key_fields) == ("insu_num", ("insu_num",))

    def test_history_is_ranged_paged_and_three_months_when_scheduled(self) -> None:
        spec = CATALOGUE["보증보험-003"]
        assert spec.range_fields == ("from_date", "to_date")
        assert spec.paged
        assert spec.record_period_field == "trans_date"
        assert spec.record_key == ("trans_date", "trans_no")
        assert spec.id in SCHEDULED_LONG_RANGE_APIS

    def test_readings_are_noted(self) -> None:
        assert all(spec.note for spec in SPECS)


class TestGuaranteeModels:
    @pytest.mark.parametrize("api_id", list(EXAMPLES))
    def test_example_validates_and_round_trips(self, api_id: str) -> None:
        spec = CATALOGUE[api_id]
        request_wire, response_wire = EXAMPLES[api_id]
        request = spec.request.model_validate(request_wire)
        assert spec.request.model_validate(request.to_wire()) == request
        wire = spec.response.model_validate(response_wire).to_wire()
        assert wire == response_wire
        if spec.list_field:
            assert spec.record_model is not None
            assert int(wire[spec.count_field or ""]) == len(wire[spec.list_field])

    @pytest.mark.parametrize(
        ("api_id", "path", "value"),
        [
            ("보증보험-001", ("insu_list", 0, "insu_num"), "1" * 21),
            ("보증보험-001", ("insu_list", 0, "prod_name"), "보" * 101),
            ("보증보험-002", ("face_amt",), "-"),
            ("보증보험-002", ("insured_list", 0, "insured_name"), "가" * 31),
            ("보증보험-002", ("issue_date",), "2024-04-18"),
            ("보증보험-003", ("trans_list", 0, "pay_method"), "001"),
        ],
    )
    def test_invalid_values_are_refused(self, api_id: str, path: tuple[Any, ...], value: str) -> None:
        with pytest.raises(ValidationError):
            CATALOGUE[api_id].response.model_validate(_replace(EXAMPLES[api_id][1], path, value))

    def test_a_basic_answer_needs_its_insured_list(self) -> None:
        response = {k: v for k, v in EXAMPLES["보증보험-002"][1].items() if k != "insured_list"}
        with pytest.raises(ValidationError):
            CATALOGUE["보증보험-002"].response.model_validate(response)

    @pytest.mark.parametrize(("field", "value"), [("from_date", "20240732"), ("limit", "0"), ("insu_num", "")])
    def test_invalid_history_requests_are_refused(self, field: str, value: str) -> None:
        spec = CATALOGUE["보증보험-003"]
        request = {**EXAMPLES["보증보험-003"][0], field: value}
        if field == "insu_num":
            del request[field]
        with pytest.raises(ValidationError):
            spec.request.model_validate(request)
