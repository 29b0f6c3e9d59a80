"""The IRP entries (IRP-001…004), served under bank, invest and insu: one entry each, bound per industry (path and
scope), and models that accept a realistic exchange and refuse a malformed one."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from openmydata.operator.collector import collection_levels, plan_calls
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.apis.irp import IRP_INDUSTRIES, SPECS
from openmydata.standard.catalogue import ApiSpec, Catalogue, CycleClass, Kind, Sector
from openmydata.standard.scopes import SCOPE_NAMES

ORG = "INVEST0001"
OK = {"rsp_code": "00000", "rsp_msg": "성공"}
IRP = "12345678907"
TODAY = date(2025, 6, 30)
IDS = ["IRP-001", "IRP-002", "IRP-003", "IRP-004"]

EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "IRP-001": (
        {"org_code": ORG, "search_timestamp": "20250101000000", "limit": "500"},
        {
            **OK,
            "search_timestamp": "20250630120000",
            "irp_cnt": "1",
            "irp_list": [
                {"prod_name": "개인형IRP", "account_num": IRP, "is_consent": "true", "account_status": "01"},
            ],
        },
    ),
    "IRP-002": (
        {"org_code": ORG, "account_num": IRP, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250630120000",
            "accum_amt": "23500000",
            "eval_amt": "24871350",
            "employer_amt": "18000000",
            "employee_amt": "5500000",
            "issue_date": "20190312",
            "first_deposit_date": "20190315",
        },
    ),
    "IRP-003": (
        {"org_code": ORG, "account_num": IRP, "search_timestamp": "0", "limit": "500"},
        {
            **OK,
            "search_timestamp": "20250630120000",
            "irp_cnt": "2",
            "irp_list": [
                {
                    "irp_name": "정기예금 1년",
                    "irp_type": "01",
                    "eval_amt": "15380000",
                    "inv_principal": "15000000",
                    "open_date": "20240801",
                    "exp_date": "20250801",
                    "int_rate": "3.25",
                },
                {
                    "irp_name": "TDF 2040 혼합자산 펀드",
                    "irp_type": "02",
                    "eval_amt": "9491350",
                    "inv_principal": "8500000",
                    "fund_num": "7142857",
                    "open_date": "20210104",
                },
            ],
        },
    ),
    "IRP-004": (
        {"org_code": ORG, "account_num": IRP, "from_date": "20240701", "to_date": "20250630", "limit": "500"},
        {
            **OK,
            "next_page": "abc",
            "trans_cnt": "2",
            "trans_list": [
                {"trans_dtime": "20241220101500", "trans_no": "00000001", "trans_type": "01", "trans_amt": "3000000"},
                {"trans_dtime": "20250125", "trans_type": "02", "trans_amt": "450000"},
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


def _irp(specs: list[ApiSpec]) -> list[ApiSpec]:
    return [spec for spec in specs if spec.id.startswith("IRP-")]


class TestEntries:
    def test_one_entry_per_api_written_for_bank(self) -> None:
        table = [(spec.id, spec.api_code, spec.method, spec.path, spec.scope, spec.cycle, spec.kind) for spec in SPECS]
        basic, additional = CycleClass.BASIC, CycleClass.ADDITIONAL
        assert table == [
            ("IRP-001", "IR01", "GET", "/v1/bank/irps", "bank.list", basic, Kind.ASSET_LIST),
            ("IRP-002", "IR02", "POST", "/v1/bank/irps/basic", "bank.irp", basic, Kind.ASSET_INFO),
            ("IRP-003", "IR03", "POST", "/v1/bank/irps/detail", "bank.irp", additional, Kind.RECORDS),
            ("IRP-004", "IR04", "POST", "/v1/bank/irps/transactions", "bank.irp", additional, Kind.RECORDS),
        ]
        assert [CATALOGUE[api_id] for api_id in IDS] == SPECS
        assert all(spec.industries == (Sector.BANK, Sector.INVEST, Sector.INSU) for spec in SPECS)
        assert all(spec.is_shared and "project's reading" in spec.note for spec in SPECS)

    @pytest.mark.parametrize("industry", ["bank", "invest", "insu"])
    def test_each_industry_serves_them_at_its_path_with_its_scopes(self, industry: str) -> None:
        served = _irp(CATALOGUE.sector(industry))
        assert [(spec.id, spec.path, spec.scope) for spec in served] == [
            ("IRP-001", f"/v1/{industry}/irps", f"{industry}.list"),
            ("IRP-002", f"/v1/{industry}/irps/basic", f"{industry}.irp"),
            ("IRP-003", f"/v1/{industry}/irps/detail", f"{industry}.irp"),
            ("IRP-004", f"/v1/{industry}/irps/transactions", f"{industry}.irp"),
        ]
        assert all(spec.sector == industry for spec in served)
        assert {spec.scope for spec in served} <= set(SCOPE_NAMES)
        assert CATALOGUE.scopes(industry)[-1] == f"{industry}.irp"
        assert f"{industry}.irp" in SCOPE_NAMES
        for spec in served:
            assert CATALOGUE.by_route(spec.method, spec.path) == [spec]
            assert spec.path == CATALOGUE[spec.id].path_for(industry)
            assert spec.scope == CATALOGUE[spec.id].scope_for(industry)
            # the bound entry is the same API: models, keys and sources do not change
            assert replace(spec, sector=Sector.BANK, scope=CATALOGUE[spec.id].scope) == CATALOGUE[spec.id]

    def test_the_bound_entries_are_made_once(self) -> None:
        assert _irp(CATALOGUE.sector("invest"))[1] is _irp(CATALOGUE.sector("invest"))[1]
        assert _irp(CATALOGUE.sector("bank"))[1] is CATALOGUE["IRP-002"]

    def test_other_industries_do_not_serve_them(self) -> None:
        for industry in ("card", "telecom", "efin", "capital", "ginsu", "p2p", "bond", "usury"):
            assert _irp(CATALOGUE.sector(industry)) == []
        with pytest.raises(ValueError, match="not served under card"):
            CATALOGUE["IRP-001"].at("card")
        assert CATALOGUE.by_route("GET", "/v1/card/irps") == []
        assert CATALOGUE["IRP-002"].scope_for("card") == "bank.irp"  # not an industry of the API: unchanged

    def test_an_entry_must_be_written_for_one_of_its_industries(self) -> None:
        with pytest.raises(ValueError, match="industries"):
            replace(CATALOGUE["IRP-002"], sector=Sector.CARD, scope="card.irp")
        with pytest.raises(ValueError, match="scope"):
            replace(CATALOGUE["IRP-002"], scope="invest.irp")
        with pytest.raises(ValueError, match="industries"):
            replace(CATALOGUE["IRP-002"], industries=(Sector.BANK, Sector.COMMON))

    def test_keys_sources_and_history(self) -> None:
        listing = CATALOGUE["IRP-001"]
        assert (listing.list_field, listing.count_field, listing.asset_id_field) == (
            "irp_list",
            "irp_cnt",
            "account_num",
        )
        assert (listing.paged, listing.search_timestamp, listing.record_key) == (True, True, ("account_num", "seqno"))
        for api_id in IDS[1:]:
            spec = CATALOGUE[api_id]
            assert spec.source is not None
            assert (spec.source.api_id, dict(spec.source.fields), spec.source.where) == (
                "IRP-001",
                {"account_num": "account_num", "seqno": "seqno"},
                None,
            )
            assert (spec.key_fields, spec.asset_field) == (("account_num", "seqno"), "account_num")
        detail = CATALOGUE["IRP-003"]
        assert (detail.list_field, detail.count_field, detail.paged, detail.search_timestamp) == (
            "irp_list",
            "irp_cnt",
            True,
            True,
        )
        history = CATALOGUE["IRP-004"]
        assert (history.range_fields, history.record_period_field, history.record_key) == (
            ("from_date", "to_date"),
            "trans_dtime",
            ("trans_dtime", "trans_no"),
        )


class TestCatalogueViews:
    def test_info_apis_name_each_api_once_bound_to_the_first_industry_serving_it(self) -> None:
        both = CATALOGUE.info_apis(["bank", "invest"])
        assert [spec.id for spec in both].count("IRP-002") == 1
        assert {spec.path for spec in _irp(both)} == {spec.path for spec in _irp(CATALOGUE.sector("bank"))}
        reversed_order = _irp(CATALOGUE.info_apis(["invest", "bank"]))
        assert [spec.path for spec in reversed_order] == [f"/v1/invest{spec.resource}" for spec in SPECS]
        assert _irp(CATALOGUE.info_apis(["card"])) == []

    def test_the_industrys_own_asset_list_comes_first(self) -> None:
        assert CATALOGUE.asset_list_api("bank").id == "은행-001"
        assert CATALOGUE.asset_list_api("invest").id == "금투-001"
        assert CATALOGUE.asset_list_api("insu").id == "보험-001"
        assert [spec.id for spec in CATALOGUE.asset_lists("invest")] == ["금투-001", "IRP-001"]
        assert [spec.path for spec in CATALOGUE.asset_lists("insu")][-1] == "/v1/insu/irps"

    def test_an_irp_api_takes_its_assets_from_the_irp_list_only(self) -> None:
        for api_id in IDS[1:]:
            assert [spec.id for spec in CATALOGUE.asset_lists_for(CATALOGUE[api_id])] == ["IRP-001"]
        # without a source an API falls back to the lists of its own group, not to the industry's other lists
        sourceless = replace(CATALOGUE["IRP-003"], source=None)
        catalogue = Catalogue([sourceless if spec.id == "IRP-003" else spec for spec in CATALOGUE])
        assert [spec.id for spec in catalogue.asset_lists_for(sourceless)] == ["IRP-001"]
        assert [spec.id for spec in CATALOGUE.asset_lists_for(CATALOGUE["카드-003"])] == ["카드-001"]

    def test_family_is_the_group_served_together(self) -> None:
        invest_irp = _irp(CATALOGUE.sector("invest"))[0]
        assert [spec.id for spec in CATALOGUE.family(invest_irp)] == IDS
        assert {spec.scope for spec in CATALOGUE.family(invest_irp)} == {"invest.list", "invest.irp"}
        assert [spec.id for spec in CATALOGUE.family(CATALOGUE["금투-001"])] == [f"금투-{n:03d}" for n in range(1, 6)]

    def test_collection_starts_with_both_lists(self) -> None:
        levels = collection_levels(CATALOGUE.sector(Sector.INVEST))
        assert [spec.id for spec in levels[0]] == ["금투-001", "IRP-001"]
        assert {"IRP-002", "IRP-003", "IRP-004"} <= {spec.id for spec in levels[1]}

    def test_calls_are_planned_from_the_irp_list(self) -> None:
        listed = [{"account_num": IRP, "is_consent": "true"}, {"account_num": "99999999997", "is_consent": "false"}]
        spec = _irp(CATALOGUE.sector("insu"))[3]
        chains = plan_calls(spec, org_code=ORG, source_records=listed, today=TODAY)
        assert [[call.request for call in chain] for chain in chains] == [
            [{"org_code": ORG, "account_num": IRP, "limit": 500, "from_date": "20240701", "to_date": "20250630"}]
        ]
        assert chains[0][0].key == f"{IRP}|"

    def test_industries_listed_for_irp_are_the_digests(self) -> None:
        assert IRP_INDUSTRIES == (Sector.BANK, Sector.INVEST, Sector.INSU)


class TestModels:
    @pytest.mark.parametrize("api_id", IDS)
    def test_example_validates_and_round_trips(self, api_id: str) -> None:
        spec = CATALOGUE[api_id]
        request_wire, response_wire = EXAMPLES[api_id]
        request = spec.request.model_validate(request_wire)
        assert spec.request.model_validate(request.to_wire()) == request
        assert spec.response.model_validate(response_wire).to_wire() == response_wire
        if spec.list_field:
            assert int(response_wire[spec.count_field or ""]) == len(response_wire[spec.list_field])

    def test_optional_fields_may_be_left_out(self) -> None:
        basic = {k: v for k, v in EXAMPLES["IRP-002"][1].items() if k != "first_deposit_date"}
        assert CATALOGUE["IRP-002"].response.model_validate(basic).to_wire() == basic
        fund = EXAMPLES["IRP-003"][1]["irp_list"][1]
        assert "int_rate" not in CATALOGUE["IRP-003"].record_model.model_validate(fund).to_wire()  # type: ignore[union-attr]

    @pytest.mark.parametrize(
        ("api_id", "path", "value"),
        [
            ("IRP-001", ("irp_list", 0, "account_num"), "1234-5678-9012-3456-7890"),
            ("IRP-001", ("irp_list", 0, "is_consent"), "yes"),
            ("IRP-002", ("issue_date",), "20191332"),
            ("IRP-002", ("accum_amt",), "1234567890123456789"),
            ("IRP-003", ("irp_list", 0, "int_rate"), "123.456"),
            ("IRP-003", ("irp_list", 1, "irp_type"), "002"),
            ("IRP-004", ("trans_list", 0, "trans_amt"), "30000.1234"),
            ("IRP-004", ("trans_list", 1, "trans_dtime"), "2025012"),
        ],
    )
    def test_invalid_values_are_refused(self, api_id: str, path: tuple[Any, ...], value: str) -> None:
        with pytest.raises(ValidationError):
            CATALOGUE[api_id].response.model_validate(_replace(EXAMPLES[api_id][1], path, value))

    @pytest.mark.parametrize(
        ("api_id", "field"), [("IRP-002", "account_num"), ("IRP-003", "account_num"), ("IRP-004", "from_date")]
    )
    def test_requests_need_their_account_and_range(self, api_id: str, field: str) -> None:
        request = {k: v for k, v in EXAMPLES[api_id][0].items() if k != field}
        with pytest.raises(ValidationError):
            CATALOGUE[api_id].request.model_validate(request)
