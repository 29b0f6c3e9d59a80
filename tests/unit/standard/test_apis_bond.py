"""The debt entries (채권-001…003) under `bond`, the same APIs built for `usury`, and their models."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from openmydata.standard.apis import CATALOGUE
from openmydata.standard.apis.bond import bond_specs
from openmydata.standard.catalogue import Catalogue, CycleClass, Kind, Sector
from openmydata.standard.scopes import SCOPE_NAMES

ORG = "R1ABCD0000"
OK = {"rsp_code": "00000", "rsp_msg": "성공"}
BOND = "BD1234567801"

EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "채권-001": (
        {"org_code": ORG, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "bond_cnt": "1",
            "bond_list": [
                {
                    "bond_num": BOND,
                    "is_consent": "true",
                    "bond_type": "01",
                    "takeover_date": "20210315",
                    "init_org_code": "D1ABCD0000",
                }
            ],
        },
    ),
    "채권-002": (
        {"org_code": ORG, "bond_num": BOND, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "prev_org_code": "D1ABCD0000",
            "is_debt_mgmt": "true",
            "repay_method": "02",
            "balance_amt": "3261000",
            "bond_principal": "4410000",
        },
    ),
    "채권-003": (
        {"org_code": ORG, "bond_num": BOND, "from_date": "20241001", "to_date": "20241231"},
        {
            **OK,
            "next_page": "abc",
            "trans_cnt": "1",
            "trans_list": [
                {
                    "trans_dtime": "20241125101500",
                    "trans_no": "00000007",
                    "trans_amt": "51972",
                    "balance_amt": "3537000",
                    "principal_amt": "46000",
                    "int_amt": "5972",
                }
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


class TestBondEntries:
    def test_ids_paths_methods_scopes_and_cycles(self) -> None:
        table = [
            (spec.id, spec.api_code, spec.method, spec.path, spec.scope, spec.cycle, spec.kind)
            for spec in CATALOGUE.sector(Sector.BOND)
        ]
        basic, additional = CycleClass.BASIC, CycleClass.ADDITIONAL
        assert table == [
            ("채권-001", "BD01", "GET", "/v1/bond/bonds", "bond.list", basic, Kind.ASSET_LIST),
            ("채권-002", "BD02", "POST", "/v1/bond/bonds/detail", "bond.bond", additional, Kind.ASSET_INFO),
            ("채권-003", "BD03", "POST", "/v1/bond/bonds/transactions", "bond.bond", additional, Kind.RECORDS),
        ]
        assert {"bond.list", "bond.bond"} <= set(SCOPE_NAMES)
        # the same entries, bound to usury (ApiSpec.industries)
        assert [(spec.id, spec.path) for spec in CATALOGUE.sector(Sector.USURY)] == [
            ("채권-001", "/v1/usury/bonds"),
            ("채권-002", "/v1/usury/bonds/detail"),
            ("채권-003", "/v1/usury/bonds/transactions"),
        ]

    def test_keys_sources_and_history(self) -> None:
        for api_id in ("채권-002", "채권-003"):
            spec = CATALOGUE[api_id]
            assert spec.source is not None
            assert (spec.source.api_id, dict(spec.source.fields)) == ("채권-001", {"bond_num": "bond_num"})
            assert (spec.key_fields, spec.asset_field) == (("bond_num",), "bond_num")
        history = CATALOGUE["채권-003"]
        assert (history.paged, history.range_fields, history.record_key) == (
            True,
            ("from_date", "to_date"),
            ("trans_dtime", "trans_no"),
        )
        for spec in CATALOGUE.sector(Sector.BOND):
            assert "project's reading" in spec.note, spec.id

    def test_the_same_apis_build_for_usury_under_its_own_path_and_scopes(self) -> None:
        usury = bond_specs(Sector.USURY)
        assert [(spec.id, spec.path, spec.scope) for spec in usury] == [
            ("채권-001", "/v1/usury/bonds", "usury.list"),
            ("채권-002", "/v1/usury/bonds/detail", "usury.bond"),
            ("채권-003", "/v1/usury/bonds/transactions", "usury.bond"),
        ]
        assert {spec.scope for spec in usury} <= set(SCOPE_NAMES)
        assert [spec.response for spec in usury] == [spec.response for spec in CATALOGUE.sector(Sector.BOND)]
        # one catalogue cannot hold both: the ids are the standard's, shared by the two industries
        with pytest.raises(ValueError, match="duplicate"):
            Catalogue([*CATALOGUE.sector(Sector.BOND), *usury])
        with pytest.raises(ValueError, match="bond and usury"):
            bond_specs(Sector.CAPITAL)

    @pytest.mark.parametrize("api_id", list(EXAMPLES))
    def test_example_validates_and_round_trips(self, api_id: str) -> None:
        spec = CATALOGUE[api_id]
        request_wire, response_wire = EXAMPLES[api_id]
        request = spec.request.model_validate(request_wire)
        assert spec.request.model_validate(request.to_wire()) == request
        wire = spec.response.model_validate(response_wire).to_wire()
        assert wire == response_wire

    def test_init_and_prev_org_codes_are_optional(self) -> None:
        entry = _replace(EXAMPLES["채권-001"][1], ("bond_list", 0), {**EXAMPLES["채권-001"][1]["bond_list"][0]})
        del entry["bond_list"][0]["init_org_code"]
        assert "init_org_code" not in CATALOGUE["채권-001"].response.model_validate(entry).to_wire()["bond_list"][0]
        detail = {k: v for k, v in EXAMPLES["채권-002"][1].items() if k != "prev_org_code"}
        assert CATALOGUE["채권-002"].response.model_validate(detail).to_wire() == detail

    @pytest.mark.parametrize(
        ("api_id", "path", "value"),
        [
            ("채권-001", ("bond_list", 0, "takeover_date"), "20211315"),
            ("채권-001", ("bond_list", 0, "init_org_code"), "카드사"),
            ("채권-002", ("is_debt_mgmt",), "yes"),
            ("채권-002", ("balance_amt",), "12345678901234567"),
            ("채권-003", ("trans_list", 0, "int_amt"), "5972.1234"),
        ],
    )
    def test_invalid_values_are_refused(self, api_id: str, path: tuple[Any, ...], value: str) -> None:
        with pytest.raises(ValidationError):
            CATALOGUE[api_id].response.model_validate(_replace(EXAMPLES[api_id][1], path, value))

    def test_a_history_request_needs_its_range(self) -> None:
        request = {k: v for k, v in EXAMPLES["채권-003"][0].items() if k != "from_date"}
        with pytest.raises(ValidationError):
            CATALOGUE["채권-003"].request.model_validate(request)
