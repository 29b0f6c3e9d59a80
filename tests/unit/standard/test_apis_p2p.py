"""The P2P lending entries (P2P-001…004): paths, scopes, keys, and models against realistic messages."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import CycleClass, Kind, Sector
from openmydata.standard.scopes import SCOPE_NAMES

ORG = "P1ABCD0000"
OK = {"rsp_code": "00000", "rsp_msg": "성공"}
LENDING = "LD1234567801"

EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "P2P-001": (
        {"org_code": ORG, "search_timestamp": "0", "limit": "100"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "reg_date": "20240301",
            "lending_cnt": "2",
            "lending_list": [
                {
                    "lending_id": LENDING,
                    "is_consent": "true",
                    "type": "01",
                    "lending_amt": "5000000",
                    "issue_date": "20240301",
                },
                {
                    "lending_id": "LD1234567802",
                    "is_consent": "false",
                    "type": "02",
                    "lending_amt": "150000000",
                    "issue_date": "20241110",
                },
            ],
        },
    ),
    "P2P-002": (
        {"org_code": ORG, "lending_id": LENDING, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "exp_date": "20260301",
            "offered_rate": "14.5",
            "repay_method": "02",
            "ltv_rate": "72.5",
        },
    ),
    "P2P-003": (
        {"org_code": ORG, "lending_id": LENDING},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "balance_amt": "2612345",
            "next_repay_cnt": "11",
            "next_repay_date": "20250201",
            "principal_amt": "209000",
            "int_amt": "31564",
        },
    ),
    "P2P-004": (
        {"org_code": ORG, "lending_id": LENDING, "from_date": "20241001", "to_date": "20241231", "limit": 500},
        {
            **OK,
            "trans_cnt": "2",
            "trans_list": [
                {
                    "trans_dtime": "20241101070312",
                    "repay_cnt": "8",
                    "repay_type": "01",
                    "trans_amt": "240564",
                    "principal_amt": "207000",
                    "int_amt": "33564",
                },
                {
                    "trans_dtime": "20241210",
                    "repay_cnt": "9",
                    "repay_type": "02",
                    "trans_amt": "241800",
                    "principal_amt": "208000",
                    "int_amt": "33800",
                },
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


class TestP2PEntries:
    def test_ids_paths_methods_scopes_and_cycles(self) -> None:
        table = [
            (spec.id, spec.api_code, spec.method, spec.path, spec.scope, spec.cycle, spec.kind)
            for spec in CATALOGUE.sector(Sector.P2P)
        ]
        basic, additional = CycleClass.BASIC, CycleClass.ADDITIONAL
        assert table == [
            ("P2P-001", "LD01", "GET", "/v1/p2p/lendings", "p2p.list", basic, Kind.ASSET_LIST),
            ("P2P-002", "LD02", "POST", "/v1/p2p/lendings/basic", "p2p.lending", basic, Kind.ASSET_INFO),
            ("P2P-003", "LD03", "POST", "/v1/p2p/lendings/detail", "p2p.lending", additional, Kind.ASSET_INFO),
            ("P2P-004", "LD04", "POST", "/v1/p2p/lendings/transactions", "p2p.lending", additional, Kind.RECORDS),
        ]
        assert CATALOGUE.scopes(Sector.P2P) == ["p2p.list", "p2p.lending"]
        assert {"p2p.list", "p2p.lending"} <= set(SCOPE_NAMES)
        assert CATALOGUE.asset_list_api(Sector.P2P).id == "P2P-001"

    def test_every_api_after_the_list_is_keyed_by_the_lending(self) -> None:
        for api_id in ("P2P-002", "P2P-003", "P2P-004"):
            spec = CATALOGUE[api_id]
            assert spec.source is not None
            assert (spec.source.api_id, dict(spec.source.fields)) == ("P2P-001", {"lending_id": "lending_id"})
            assert (spec.key_fields, spec.asset_field) == (("lending_id",), "lending_id")
        assert CATALOGUE["P2P-001"].asset_id_field == "lending_id"
        assert CATALOGUE["P2P-001"].paged
        assert CATALOGUE["P2P-001"].search_timestamp
        history = CATALOGUE["P2P-004"]
        assert (history.paged, history.range_fields, history.record_period_field) == (
            True,
            ("from_date", "to_date"),
            "trans_dtime",
        )
        assert history.record_key == ("trans_dtime", "repay_cnt")
        assert all(not spec.sensitive for spec in CATALOGUE.sector(Sector.P2P))

    def test_notes_mark_the_projects_reading(self) -> None:
        for spec in CATALOGUE.sector(Sector.P2P):
            assert "project's reading" in spec.note, spec.id

    def test_examples_cover_every_api(self) -> None:
        assert set(EXAMPLES) == {spec.id for spec in CATALOGUE.sector(Sector.P2P)}

    @pytest.mark.parametrize("api_id", list(EXAMPLES))
    def test_example_validates_and_round_trips(self, api_id: str) -> None:
        spec = CATALOGUE[api_id]
        request_wire, response_wire = EXAMPLES[api_id]
        request = spec.request.model_validate(request_wire)
        assert spec.request.model_validate(request.to_wire()) == request
        wire = spec.response.model_validate(response_wire).to_wire()
        assert wire == response_wire
        if spec.list_field and spec.count_field:
            assert int(wire[spec.count_field]) == len(wire[spec.list_field])

    def test_optional_fields_may_be_left_out(self) -> None:
        basic = {k: v for k, v in EXAMPLES["P2P-002"][1].items() if k != "ltv_rate"}
        assert "ltv_rate" not in CATALOGUE["P2P-002"].response.model_validate(basic).to_wire()
        settled = {**OK, "balance_amt": "0"}
        assert CATALOGUE["P2P-003"].response.model_validate(settled).to_wire() == settled

    @pytest.mark.parametrize(
        ("api_id", "path", "value"),
        [
            ("P2P-001", ("lending_list", 0, "lending_id"), "L" * 65),
            ("P2P-001", ("lending_list", 0, "issue_date"), "2024-03-01"),
            ("P2P-001", ("lending_list", 0, "type"), "001"),
            ("P2P-002", ("offered_rate",), "120.5"),
            ("P2P-002", ("ltv_rate",), "1000"),
            ("P2P-003", ("next_repay_cnt",), "123456"),
            ("P2P-004", ("trans_list", 0, "principal_amt"), "abc"),
            ("P2P-004", ("trans_list", 1, "trans_dtime"), "202412"),
        ],
    )
    def test_invalid_values_are_refused(self, api_id: str, path: tuple[Any, ...], value: str) -> None:
        with pytest.raises(ValidationError):
            CATALOGUE[api_id].response.model_validate(_replace(EXAMPLES[api_id][1], path, value))

    @pytest.mark.parametrize(
        ("api_id", "field", "value"),
        [("P2P-002", "lending_id", ""), ("P2P-004", "from_date", "20241301"), ("P2P-004", "limit", "0")],
    )
    def test_invalid_requests_are_refused(self, api_id: str, field: str, value: str) -> None:
        request = {**EXAMPLES[api_id][0], field: value}
        if field == "lending_id":
            del request[field]
        with pytest.raises(ValidationError):
            CATALOGUE[api_id].request.model_validate(request)
