"""The catalogue's consistency, and the card and telecom entries."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import (
    INFO_SECTORS,
    ApiSpec,
    Catalogue,
    Kind,
    Match,
    Sector,
    record_natural_key,
    selector_key,
)
from openmydata.standard.types import StandardModel

from .examples import EXAMPLES

SPECS = list(CATALOGUE)
DATA_KINDS = {Kind.ASSET_LIST, Kind.ASSET_INFO, Kind.RECORDS}
DATA_SPECS = [spec for spec in SPECS if spec.kind in DATA_KINDS]


def ids(specs: list[ApiSpec]) -> list[str]:
    return [spec.id for spec in specs]


def fields(model: type[StandardModel] | None) -> set[str]:
    assert model is not None
    return set(model.model_fields)


class TestCatalogueIntegrity:
    def test_ids_are_unique(self) -> None:
        assert len(set(ids(SPECS))) == len(SPECS) == len(CATALOGUE)

    def test_duplicate_id_is_refused(self) -> None:
        with pytest.raises(ValueError, match="duplicate"):
            Catalogue([SPECS[0], SPECS[0]])

    def test_api_codes_are_unique_outside_auth(self) -> None:
        codes = [spec.api_code for spec in SPECS if spec.sector is not Sector.AUTH]
        assert len(codes) == len(set(codes))

    @pytest.mark.parametrize("spec", SPECS, ids=ids(SPECS))
    def test_path_starts_with_slash(self, spec: ApiSpec) -> None:
        assert spec.path.startswith("/")
        assert "//" not in spec.path

    @pytest.mark.parametrize("spec", SPECS, ids=ids(SPECS))
    def test_path_params_are_request_fields(self, spec: ApiSpec) -> None:
        for name in spec.path_params:
            if name == "industry" and spec.kind is Kind.CONSENT:
                continue  # 정보제공-공통-002 is mounted once per industry
            assert name in fields(spec.request), name

    @pytest.mark.parametrize("spec", DATA_SPECS, ids=ids(DATA_SPECS))
    def test_info_api_scope_prefix_is_the_sector(self, spec: ApiSpec) -> None:
        assert spec.sector in INFO_SECTORS
        assert spec.scope is not None
        assert spec.scope.split(".")[0] == spec.sector.value
        assert spec.cycle is not None
        assert spec.path.startswith(f"/{spec.version}/{spec.sector.value}/")

    @pytest.mark.parametrize("spec", DATA_SPECS, ids=ids(DATA_SPECS))
    def test_every_sector_has_a_list_scope_for_its_asset_list(self, spec: ApiSpec) -> None:
        list_api = CATALOGUE.asset_list_api(spec.sector)
        assert list_api.scope == f"{spec.sector.value}.list"
        assert list_api.asset_id_field in fields(list_api.record_model)

    @pytest.mark.parametrize("spec", DATA_SPECS, ids=ids(DATA_SPECS))
    def test_key_range_and_asset_fields_are_request_fields(self, spec: ApiSpec) -> None:
        request = fields(spec.request)
        assert set(spec.key_fields) <= request
        if spec.range_fields:
            assert set(spec.range_fields) <= request
            assert spec.range_fields[0].startswith("from_")
            assert spec.range_fields[1].startswith("to_")
        if spec.period_field:
            assert spec.period_field in request
        if spec.asset_field:
            assert spec.asset_field in request
            assert spec.asset_field in spec.key_fields
        if spec.paged:
            assert {"next_page", "limit"} <= request
            assert "next_page" in fields(spec.response)
        if spec.search_timestamp:
            assert "search_timestamp" in request
            assert "search_timestamp" in fields(spec.response)

    @pytest.mark.parametrize("spec", DATA_SPECS, ids=ids(DATA_SPECS))
    def test_list_and_record_fields(self, spec: ApiSpec) -> None:
        if spec.kind is Kind.ASSET_INFO:
            assert spec.list_field is None
            assert spec.record_model is None
            return
        assert spec.list_field in fields(spec.response)
        assert spec.count_field in fields(spec.response)
        assert spec.list_field is not None
        assert spec.list_field.endswith("_list")
        record = fields(spec.record_model)
        assert spec.record_key
        assert set(spec.record_key) <= record
        if spec.record_period_field:
            assert spec.record_period_field in record
        assert set(spec.sensitive) <= record

    @pytest.mark.parametrize("spec", DATA_SPECS, ids=ids(DATA_SPECS))
    def test_sensitive_fields_are_optional_and_name_a_consent_flag(self, spec: ApiSpec) -> None:
        model = spec.record_model or spec.response
        for name, flag in spec.sensitive.items():
            assert not model.model_fields[name].is_required(), name
            assert flag in {"is_consent_trans_memo", "is_consent_merchant_name_regno", "is_consent_trans_category"}

    @pytest.mark.parametrize("spec", [s for s in DATA_SPECS if s.source], ids=ids([s for s in DATA_SPECS if s.source]))
    def test_source_references_an_earlier_api_with_the_fields(self, spec: ApiSpec) -> None:
        assert spec.source is not None
        assert spec.source.api_id in CATALOGUE
        source = CATALOGUE[spec.source.api_id]
        assert source.sector is spec.sector
        assert source.kind in {Kind.ASSET_LIST, Kind.RECORDS}
        assert set(spec.source.fields) == set(spec.key_fields)
        assert set(spec.source.fields.values()) <= fields(source.record_model)
        if spec.source.where:
            assert spec.source.where.field in fields(source.record_model)

    @pytest.mark.parametrize("spec", DATA_SPECS, ids=ids(DATA_SPECS))
    def test_keyed_apis_have_a_source_unless_they_iterate_a_period(self, spec: ApiSpec) -> None:
        if spec.kind is Kind.ASSET_LIST:
            assert not spec.key_fields
            assert spec.asset_id_field
        elif spec.key_fields:
            assert spec.source is not None

    def test_route_lookup(self) -> None:
        assert ids(CATALOGUE.by_route("GET", "/v1/card/cards/{card_id}")) == ["카드-002"]
        assert ids(CATALOGUE.by_route("POST", "/v1/telecom/telecoms/bills")) == ["통신-002"]
        assert CATALOGUE.by_route("GET", "/v1/telecom/telecoms/bills") == []

    def test_info_apis_and_scopes(self) -> None:
        assert ids(CATALOGUE.info_apis(["telecom"])) == ["통신-001", "통신-002", "통신-003", "통신-004"]
        assert CATALOGUE.scopes(Sector.CARD) == [
            "card.list",
            "card.card",
            "card.point",
            "card.bill",
            "card.loan",
            "card.prepaid",  # 선불-002…004 (test_apis_prepaid)
        ]
        assert CATALOGUE.scopes("telecom") == ["telecom.list", "telecom.mgmt"]
        with pytest.raises(KeyError):
            CATALOGUE.asset_list_api(Sector.SUPPORT)


class TestKeys:
    def test_selector_key_joins_values_in_order(self) -> None:
        assert selector_key({"seqno": "1", "charge_month": "202402"}, ("seqno", "charge_month")) == "1|202402"
        assert selector_key({"account_num": "123"}, ("account_num", "seqno")) == "123|"
        assert selector_key({}, ()) == ""

    def test_record_natural_key(self) -> None:
        record = {"approved_dtime": "20240101000000", "approved_num": "1"}
        assert record_natural_key(record, ("approved_dtime", "approved_num")) == "20240101000000|1"

    def test_match(self) -> None:
        deposit = Match("account_type", ("1",))
        assert deposit({"account_type": "1002"})
        assert not deposit({"account_type": "3100"})
        assert not deposit({})


class TestCardAndTelecom:
    def test_card_entries(self) -> None:
        card = [spec for spec in CATALOGUE.sector(Sector.CARD) if spec.id.startswith("카드-")]
        assert ids(card) == [f"카드-{n:03d}" for n in range(1, 13)]
        # then the prepaid-card APIs (test_apis_prepaid)
        assert ids(CATALOGUE.sector(Sector.CARD))[12:] == [f"선불-{n:03d}" for n in range(1, 5)]
        assert {spec.method for spec in card} == {"GET"}
        assert CATALOGUE["카드-002"].path == "/v1/card/cards/{card_id}"
        assert CATALOGUE["카드-008"].path == "/v1/card/cards/{card_id}/approval-domestic"
        assert CATALOGUE["카드-003"].path == "/v1/card/points"
        assert CATALOGUE["카드-007"].path == "/v1/card/payments/revolving"
        for api_id in ("카드-002", "카드-008", "카드-009"):
            spec = CATALOGUE[api_id]
            assert spec.key_fields == ("card_id",)
            assert spec.asset_field == "card_id"
            assert spec.source is not None
            assert spec.source.api_id == "카드-001"
        source = CATALOGUE["카드-005"].source
        assert source is not None
        assert source.api_id == "카드-004"
        assert dict(source.fields) == {"seqno": "seqno", "charge_month": "charge_month"}
        for api_id in ("카드-003", "카드-004", "카드-006", "카드-007", "카드-010", "카드-011", "카드-012"):
            assert CATALOGUE[api_id].key_fields == ()

    def test_telecom_entries(self) -> None:
        assert [spec.method for spec in CATALOGUE.sector(Sector.TELECOM)] == ["GET", "POST", "POST", "POST"]
        bills = CATALOGUE["통신-002"]
        assert bills.key_fields == ()
        assert bills.period_field == "charge_month"
        assert bills.source is None
        for api_id in ("통신-003", "통신-004"):
            spec = CATALOGUE[api_id]
            assert spec.source is not None
            assert spec.source.api_id == "통신-001"
            assert spec.key_fields == ("mgmt_id",)
        assert CATALOGUE["통신-004"].paged
        assert not CATALOGUE["통신-003"].paged

    def test_examples_cover_every_card_and_telecom_api(self) -> None:
        card = [spec for spec in CATALOGUE.sector(Sector.CARD) if not spec.id.startswith("선불-")]  # test_apis_prepaid
        assert set(EXAMPLES) == set(ids(card + CATALOGUE.sector(Sector.TELECOM)))

    @pytest.mark.parametrize("api_id", list(EXAMPLES))
    def test_example_validates_and_round_trips(self, api_id: str) -> None:
        spec = CATALOGUE[api_id]
        request_wire, response_wire = EXAMPLES[api_id]
        request = spec.request.model_validate(request_wire)
        assert spec.request.model_validate(request.to_wire()) == request
        response = spec.response.model_validate(response_wire)
        wire = response.to_wire()
        assert spec.response.model_validate(wire).to_wire() == wire
        assert _all_strings(wire)
        if spec.list_field:
            assert int(wire[spec.count_field]) == len(wire[spec.list_field])
            for record in wire[spec.list_field]:
                assert spec.record_model is not None
                spec.record_model.model_validate(record)

    @pytest.mark.parametrize(
        ("api_id", "path", "value"),
        [
            ("카드-001", ("card_list", 0, "card_member"), "3"),
            ("카드-002", ("card_type",), "04"),
            ("카드-002", ("card_brand",), "VISA"),
            ("카드-008", ("approved_list", 0, "status"), "05"),
            ("카드-008", ("approved_list", 0, "pay_type"), "03"),
            ("카드-009", ("approved_list", 0, "country_code"), "USA"),
            ("카드-005", ("bill_detail_list", 0, "paid_amt"), "1.0001"),
            ("통신-001", ("telecom_list", 0, "mgmt_id"), "M" * 16),
            ("통신-002", ("bill_list", 0, "charge_date"), "202403"),
        ],
    )
    def test_invalid_values_are_refused(self, api_id: str, path: tuple[Any, ...], value: str) -> None:
        spec = CATALOGUE[api_id]
        response = _replace(EXAMPLES[api_id][1], path, value)
        with pytest.raises(ValidationError):
            spec.response.model_validate(response)

    @pytest.mark.parametrize(
        ("api_id", "field", "value"),
        [("카드-004", "from_month", "20240101"), ("카드-008", "limit", "501"), ("통신-002", "charge_month", "")],
    )
    def test_invalid_requests_are_refused(self, api_id: str, field: str, value: str) -> None:
        spec = CATALOGUE[api_id]
        with pytest.raises(ValidationError):
            spec.request.model_validate({**EXAMPLES[api_id][0], field: value})

    def test_sensitive_fields(self) -> None:
        assert dict(CATALOGUE["카드-008"].sensitive) == {
            "merchant_name": "is_consent_merchant_name_regno",
            "merchant_regno": "is_consent_merchant_name_regno",
        }
        assert dict(CATALOGUE["카드-005"].sensitive) == {"merchant_name": "is_consent_merchant_name_regno"}
        assert CATALOGUE["통신-004"].sensitive["trans_title"] == "is_consent_trans_category"

    def test_notes_are_single_sentences_without_markup_breaking_tables(self) -> None:
        for spec in SPECS:
            assert not re.search(r"[\r\n]", spec.note)


def _replace(data: Any, path: tuple[Any, ...], value: str) -> Any:
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


class TestRecordKeys:
    def test_record_keys_never_use_fields_a_consent_may_withhold(self) -> None:
        """A withheld sensitive field would collapse distinct records onto one key at the receiver."""
        from openmydata.standard.apis import CATALOGUE

        for spec in CATALOGUE:
            assert not set(spec.record_key) & set(spec.sensitive), spec.id

    def test_repeated_natural_keys_are_numbered_in_order(self) -> None:
        from openmydata.standard.catalogue import NaturalKeys

        keys = NaturalKeys(("trans_date", "trans_amt"))
        records = [{"trans_date": "20260101", "trans_amt": "1000"}] * 3 + [
            {"trans_date": "20260102", "trans_amt": "1000"}
        ]
        assert [keys(r) for r in records] == ["20260101|1000", "20260101|1000#2", "20260101|1000#3", "20260102|1000"]


class TestScopeNames:
    def test_every_catalogued_scope_has_a_korean_name(self) -> None:
        from openmydata.standard.apis import CATALOGUE
        from openmydata.standard.scopes import SCOPE_NAMES

        scopes = {spec.scope for spec in CATALOGUE if spec.scope and spec.scope not in {"manage", "ca"}}
        assert scopes
        assert scopes <= set(SCOPE_NAMES), sorted(scopes - set(SCOPE_NAMES))
