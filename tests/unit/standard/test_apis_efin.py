"""The e-finance entries (전금-001…004, 전금-101…103): paths, scopes, keys, and models against realistic messages."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import CycleClass, Kind, Sector
from openmydata.standard.scopes import SCOPE_NAMES

ORG = "E1ABCD0000"
OK = {"rsp_code": "00000", "rsp_msg": "성공"}
FOB = "PM000000000101"
SUB_KEY = "SK0000000001"
RANGE = {"from_date": "20250101", "to_date": "20250131"}

EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "전금-001": (
        {"org_code": ORG, "search_timestamp": "0", "limit": "500"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "reg_date": "20200315",
            "fob_cnt": "1",
            "fob_list": [
                {
                    "fob_id": FOB,
                    "fob_name": "페이머니",
                    "is_consent": "true",
                    "limit_amt": "2000000",
                    "is_charge": "true",
                    "is_withdrawable": "true",
                    "currency_code": "KRW",
                    "account_cnt": "1",
                    "account_list": [{"account_id": "010-****-1234"}],
                }
            ],
        },
    ),
    "전금-002": (
        {"org_code": ORG, "fob_id": FOB, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "total_balance_amt": "15230",
            "charge_balance_amt": "15000",
            "reserve_balance_amt": "230",
            "withdrawable_amt": "15000",
            "reserve_due_amt": "120",
            "exp_due_amt": "0",
        },
    ),
    "전금-003": (
        {"org_code": ORG, "fob_id": FOB},
        {
            **OK,
            "charge_cnt": "2",
            "charge_list": [
                {
                    "auto_charge_seq": "1",
                    "charge_org_code": "088",
                    "charge_account_num": "110-****-1234",
                    "charge_option": "01",
                    "charge_day": "21",
                    "charge_amt": "100000",
                },
                {
                    "auto_charge_seq": "2",
                    "charge_org_code": "088",
                    "charge_account_num": "하나은행 000000",
                    "charge_option": "02",
                    "charge_base_amt": "10000",
                    "charge_amt": "50000",
                },
            ],
        },
    ),
    "전금-004": (
        {"org_code": ORG, "fob_id": FOB, **RANGE, "limit": 500},
        {
            **OK,
            "next_page": "cursor",
            "trans_cnt": "2",
            "trans_list": [
                {
                    "trans_dtime": "20250102091000",
                    "trans_no": "T000000001",
                    "trans_type": "01",
                    "trans_amt": "50000",
                    "balance_amt": "50230",
                    "trans_org_code": "088",
                    "trans_id": "110-****-1234",
                    "is_scheduled": "false",
                },
                {
                    "trans_dtime": "20250102091040",
                    "trans_no": "T000000002",
                    "trans_type": "5201",
                    "trans_amt": "35000",
                    "balance_amt": "15230",
                    "trans_num": "O000000001",
                    "trans_memo": "저녁",
                    "merchant_name": "배달의민족",
                    "merchant_regno": "123-45-67890",
                    "trans_title": "치킨",
                    "trans_category": "L1",
                    "pay_method": "01",
                    "is_scheduled": "false",
                },
            ],
        },
    ),
    "전금-101": (
        {"org_code": ORG, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "account_cnt": "1",
            "account_list": [
                {
                    "sub_key": SUB_KEY,
                    "account_id": "010-****-1234",
                    "is_consent": "true",
                    "is_pay": "true",
                    "account_status": "01",
                }
            ],
        },
    ),
    "전금-102": (
        {"org_code": ORG, "sub_key": SUB_KEY, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "pay_cnt": "2",
            "pay_list": [
                {"pay_org_code": "088", "pay_type": "01", "pay_id": "110-****-1234", "is_primary": "false"},
                {"pay_org_code": "366", "pay_type": "02", "pay_id": "4518-****-****-1234", "is_primary": "true"},
            ],
        },
    ),
    "전금-103": (
        {"org_code": ORG, "sub_key": SUB_KEY, **RANGE},
        {
            **OK,
            "trans_cnt": "1",
            "trans_list": [
                {
                    "trans_dtime": "20250103120000",
                    "trans_no": "P000000001",
                    "trans_num": "O000000002",
                    "trans_type": "01",
                    "currency_code": "KRW",
                    "trans_amt": "129000",
                    "trans_org_code": "366",
                    "pay_type": "02",
                    "pay_id": "4518-****-****-1234",
                    "approved_num": "12345678",
                    "card_name": "신한카드 카드",
                    "total_install_cnt": "3",
                    "merchant_name": "쿠팡",
                    "merchant_regno": "120-88-00767",
                    "trans_title": "생활용품 외 2건",
                    "trans_category": "06",
                    "pay_method": "03",
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


def _all_strings(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_all_strings(v) for v in value.values())
    if isinstance(value, list):
        return all(_all_strings(v) for v in value)
    return isinstance(value, str)


class TestEfinEntries:
    def test_ids_paths_methods_scopes_and_cycles(self) -> None:
        table = [
            (spec.id, spec.api_code, spec.method, spec.path, spec.scope, spec.cycle)
            for spec in CATALOGUE.sector(Sector.EFIN)
        ]
        basic, additional = CycleClass.BASIC, CycleClass.ADDITIONAL
        assert table == [
            ("전금-001", "EF01", "GET", "/v1/efin/prepaid", "efin.list", basic),
            ("전금-002", "EF02", "POST", "/v1/efin/prepaid/balance", "efin.prepaid", additional),
            ("전금-003", "EF03", "POST", "/v1/efin/prepaid/charge", "efin.prepaid", basic),
            ("전금-004", "EF04", "POST", "/v1/efin/prepaid/transactions", "efin.prepaid", additional),
            ("전금-101", "EF11", "GET", "/v1/efin/paid", "efin.list", basic),
            ("전금-102", "EF12", "POST", "/v1/efin/paid/methods", "efin.paid", basic),
            ("전금-103", "EF13", "POST", "/v1/efin/paid/transactions", "efin.paid", additional),
        ]
        assert CATALOGUE.scopes(Sector.EFIN) == ["efin.list", "efin.prepaid", "efin.paid"]

    def test_every_scope_has_a_korean_name(self) -> None:
        assert {spec.scope for spec in CATALOGUE.sector(Sector.EFIN)} <= set(SCOPE_NAMES)

    def test_two_asset_lists_and_where_each_api_takes_its_key(self) -> None:
        lists = [spec for spec in CATALOGUE.sector(Sector.EFIN) if spec.kind is Kind.ASSET_LIST]
        assert [(spec.id, spec.asset_id_field) for spec in lists] == [("전금-001", "fob_id"), ("전금-101", "sub_key")]
        assert CATALOGUE.asset_list_api(Sector.EFIN).id == "전금-001"
        for api_id in ("전금-002", "전금-003", "전금-004"):
            spec = CATALOGUE[api_id]
            assert spec.source is not None
            assert (spec.source.api_id, dict(spec.source.fields)) == ("전금-001", {"fob_id": "fob_id"})
            assert (spec.key_fields, spec.asset_field) == (("fob_id",), "fob_id")
        for api_id in ("전금-102", "전금-103"):
            spec = CATALOGUE[api_id]
            assert spec.source is not None
            assert (spec.source.api_id, dict(spec.source.fields)) == ("전금-101", {"sub_key": "sub_key"})
            # the generic provider would check sub_key against the first list (전금-001): no asset_field
            assert (spec.key_fields, spec.asset_field) == (("sub_key",), None)

    def test_kinds_paging_ranges_and_record_keys(self) -> None:
        expected = {
            "전금-001": (Kind.ASSET_LIST, True, None, ("fob_id",)),
            "전금-002": (Kind.ASSET_INFO, False, None, ()),
            "전금-003": (Kind.RECORDS, False, None, ("auto_charge_seq",)),
            "전금-004": (Kind.RECORDS, True, ("from_date", "to_date"), ("trans_dtime", "trans_no")),
            "전금-101": (Kind.ASSET_LIST, True, None, ("sub_key",)),
            "전금-102": (Kind.RECORDS, False, None, ("pay_type", "pay_org_code", "pay_id")),
            "전금-103": (Kind.RECORDS, True, ("from_date", "to_date"), ("trans_dtime", "trans_no")),
        }
        for api_id, (kind, paged, range_fields, record_key) in expected.items():
            spec = CATALOGUE[api_id]
            assert (spec.kind, spec.paged, spec.range_fields, spec.record_key) == (
                kind,
                paged,
                range_fields,
                record_key,
            ), api_id
        assert CATALOGUE["전금-004"].record_period_field == CATALOGUE["전금-103"].record_period_field == "trans_dtime"

    def test_sensitive_fields_follow_the_three_consent_flags(self) -> None:
        for api_id in ("전금-004", "전금-103"):
            assert dict(CATALOGUE[api_id].sensitive) == {
                "trans_memo": "is_consent_trans_memo",
                "merchant_name": "is_consent_merchant_name_regno",
                "merchant_regno": "is_consent_merchant_name_regno",
                "trans_title": "is_consent_trans_category",
                "trans_category": "is_consent_trans_category",
            }

    def test_notes_mark_the_projects_reading(self) -> None:
        for spec in CATALOGUE.sector(Sector.EFIN):
            assert "project's reading" in spec.note, spec.id

    def test_examples_cover_every_api(self) -> None:
        assert set(EXAMPLES) == {spec.id for spec in CATALOGUE.sector(Sector.EFIN)}

    @pytest.mark.parametrize("api_id", list(EXAMPLES))
    def test_example_validates_and_round_trips(self, api_id: str) -> None:
        spec = CATALOGUE[api_id]
        request_wire, response_wire = EXAMPLES[api_id]
        request = spec.request.model_validate(request_wire)
        assert spec.request.model_validate(request.to_wire()) == request
        wire = spec.response.model_validate(response_wire).to_wire()
        assert spec.response.model_validate(wire).to_wire() == wire
        assert _all_strings(wire)
        if spec.list_field and spec.count_field:
            assert int(wire[spec.count_field]) == len(wire[spec.list_field])
        assert wire == response_wire

    @pytest.mark.parametrize(
        ("api_id", "path", "value"),
        [
            ("전금-001", ("fob_list", 0, "fob_id"), "F" * 65),
            ("전금-001", ("fob_list", 0, "is_charge"), "maybe"),
            ("전금-001", ("fob_list", 0, "account_list", 0, "account_id"), "김철수"),
            ("전금-002", ("total_balance_amt",), "1.0001"),
            ("전금-003", ("charge_list", 0, "charge_day"), "32"),
            ("전금-003", ("charge_list", 0, "charge_org_code"), "00000000088"),
            ("전금-004", ("trans_list", 0, "trans_dtime"), "20250230091000"),
            ("전금-004", ("trans_list", 1, "trans_type"), "52011"),
            ("전금-101", ("account_list", 0, "sub_key"), "s" * 65),
            ("전금-102", ("pay_list", 0, "pay_type"), "001"),
            ("전금-103", ("trans_list", 0, "total_install_cnt"), "-3"),
            ("전금-103", ("trans_list", 0, "currency_code"), "krw"),
        ],
    )
    def test_invalid_values_are_refused(self, api_id: str, path: tuple[Any, ...], value: str) -> None:
        with pytest.raises(ValidationError):
            CATALOGUE[api_id].response.model_validate(_replace(EXAMPLES[api_id][1], path, value))

    @pytest.mark.parametrize(
        ("api_id", "field", "value"),
        [
            ("전금-002", "fob_id", None),
            ("전금-004", "from_date", "202501"),
            ("전금-004", "limit", "501"),
            ("전금-102", "sub_key", "x" * 65),
            ("전금-103", "to_date", None),
        ],
    )
    def test_invalid_requests_are_refused(self, api_id: str, field: str, value: str | None) -> None:
        request = {**EXAMPLES[api_id][0], field: value}
        if value is None:
            del request[field]
        with pytest.raises(ValidationError):
            CATALOGUE[api_id].request.model_validate(request)

    def test_missing_required_fields_are_refused(self) -> None:
        balance = dict(EXAMPLES["전금-002"][1])
        del balance["charge_balance_amt"]
        with pytest.raises(ValidationError):
            CATALOGUE["전금-002"].response.model_validate(balance)
        charge = _replace(EXAMPLES["전금-003"][1], ("charge_list", 0), {"auto_charge_seq": "1", "charge_amt": "1"})
        with pytest.raises(ValidationError):
            CATALOGUE["전금-003"].response.model_validate(charge)
