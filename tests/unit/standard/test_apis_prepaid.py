"""The prepaid-card entries (선불-001…004): paths, scopes, keys, their own family, and models against realistic
messages."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from openmydata.standard.apis import CATALOGUE, SECTOR_MODULES, prepaid
from openmydata.standard.catalogue import CycleClass, Kind, Sector
from openmydata.standard.scopes import SCOPE_NAMES

ORG = "C1ABCD0000"
OK = {"rsp_code": "00000", "rsp_msg": "성공"}
CARD = "PP1234567801"
IDS = ["선불-001", "선불-002", "선불-003", "선불-004"]

EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "선불-001": (
        {"org_code": ORG, "search_timestamp": "0", "limit": "100"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "reg_date": "20230301",
            "prepaid_cnt": "2",
            "prepaid_list": [
                {"pp_id": CARD, "is_consent": "true", "pp_name": "충전식 선불카드"},
                {"pp_id": "PP1234567802", "is_consent": "false", "pp_name": "기프트카드"},
            ],
        },
    ),
    "선불-002": (
        {"org_code": ORG, "pp_id": CARD, "search_timestamp": "0"},
        {
            **OK,
            "search_timestamp": "20250101000000",
            "total_balance_amt": "35600",
            "charge_balance_amt": "30000",
            "reserve_balance_amt": "5600",
            "reserve_due_amt": "1000",
            "exp_due_amt": "500",
            "limit_amt": "2000000",
        },
    ),
    "선불-003": (
        {"org_code": ORG, "pp_id": CARD, "from_date": "20241001", "to_date": "20241231", "limit": 500},
        {
            **OK,
            "next_page": "abc",
            "trans_cnt": "3",
            "trans_list": [
                {
                    "trans_type": "01",
                    "trans_dtime": "20241101070312",
                    "trans_no": "T000000001",
                    "trans_amt": "50000",
                    "balance_amt": "52300",
                    "trans_org_nm": "KB국민은행",
                },
                {
                    "trans_type": "02",
                    "trans_dtime": "20241101070342",
                    "trans_no": "T000000002",
                    "trans_amt": "14300",
                    "balance_amt": "38000",
                    "approved_num": "000112345678",
                },
                {
                    "trans_type": "05",
                    "trans_dtime": "20241210",
                    "trans_no": "T000000003",
                    "trans_amt": "71",
                    "balance_amt": "38071",
                },
            ],
        },
    ),
    "선불-004": (
        {"org_code": ORG, "pp_id": CARD, "from_date": "20241001", "to_date": "20241231", "limit": 500},
        {
            **OK,
            "approved_cnt": "2",
            "approved_list": [
                {
                    "approved_num": "000112345678",
                    "approved_dtime": "20241101070342",
                    "status": "02",
                    "pay_type": "01",
                    "cancel_dtime": "20241101103342",
                    "merchant_name": "스타벅스 역삼점",
                    "merchant_regno": "123-45-67890",
                    "approved_amt": "14300",
                },
                {
                    "approved_num": "000212345678",
                    "approved_dtime": "20241115013000",
                    "status": "01",
                    "pay_type": "02",
                    "merchant_name": "FAMILYMART",
                    "approved_amt": "24.5",
                    "country_code": "JP",
                    "currency_code": "JPY",
                    "krw_amt": "33516",
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


def _ids(specs: Any) -> list[str]:
    return [spec.id for spec in specs]


class TestPrepaidEntries:
    def test_ids_paths_methods_scopes_and_cycles(self) -> None:
        table = [
            (spec.id, spec.api_code, spec.method, spec.path, spec.scope, spec.cycle, spec.kind)
            for spec in CATALOGUE.sector(Sector.CARD)
            if spec.id.startswith("선불-")
        ]
        basic, additional = CycleClass.BASIC, CycleClass.ADDITIONAL
        assert table == [
            ("선불-001", "PP01", "GET", "/v1/card/prepaid", "card.list", basic, Kind.ASSET_LIST),
            ("선불-002", "PP02", "POST", "/v1/card/prepaid/balance", "card.prepaid", additional, Kind.ASSET_INFO),
            ("선불-003", "PP03", "POST", "/v1/card/prepaid/transactions", "card.prepaid", additional, Kind.RECORDS),
            ("선불-004", "PP04", "POST", "/v1/card/prepaid/approval", "card.prepaid", additional, Kind.RECORDS),
        ]
        assert "card.prepaid" in SCOPE_NAMES
        assert prepaid in SECTOR_MODULES
        # the card list stays the sector's first list; the e-finance prepaid APIs keep their own paths
        assert CATALOGUE.asset_list_api(Sector.CARD).id == "카드-001"
        assert _ids(CATALOGUE.asset_lists(Sector.CARD)) == ["카드-001", "선불-001"]
        assert _ids(CATALOGUE.by_route("POST", "/v1/card/prepaid/balance")) == ["선불-002"]
        assert _ids(CATALOGUE.by_route("POST", "/v1/efin/prepaid/balance")) == ["전금-002"]

    def test_the_group_is_a_family_of_its_own(self) -> None:
        assert _ids(CATALOGUE.family(CATALOGUE["선불-003"])) == IDS
        assert not any(spec.id.startswith("선불-") for spec in CATALOGUE.family(CATALOGUE["카드-001"]))
        for api_id in IDS[1:]:
            assert _ids(CATALOGUE.asset_lists_for(CATALOGUE[api_id])) == ["선불-001"]
        for api_id in ("카드-002", "카드-003", "카드-004", "카드-008", "카드-011"):
            assert _ids(CATALOGUE.asset_lists_for(CATALOGUE[api_id])) == ["카드-001"], api_id
        for api_id in IDS:
            assert not CATALOGUE[api_id].is_shared
            assert CATALOGUE[api_id].served_under == (Sector.CARD,)

    def test_every_api_after_the_list_is_keyed_by_the_prepaid_card(self) -> None:
        for api_id in IDS[1:]:
            spec = CATALOGUE[api_id]
            assert spec.source is not None
            assert (spec.source.api_id, dict(spec.source.fields)) == ("선불-001", {"pp_id": "pp_id"})
            assert (spec.key_fields, spec.asset_field) == (("pp_id",), "pp_id")
        listing = CATALOGUE["선불-001"]
        assert (listing.asset_id_field, listing.paged, listing.search_timestamp) == ("pp_id", True, True)
        assert CATALOGUE["선불-002"].search_timestamp
        for api_id, period, key in (
            ("선불-003", "trans_dtime", ("trans_dtime", "trans_no")),
            ("선불-004", "approved_dtime", ("approved_dtime", "approved_num")),
        ):
            spec = CATALOGUE[api_id]
            assert (spec.paged, spec.range_fields, spec.record_period_field) == (True, ("from_date", "to_date"), period)
            assert spec.record_key == key

    def test_merchant_fields_of_approvals_are_sensitive(self) -> None:
        flag = "is_consent_merchant_name_regno"
        assert dict(CATALOGUE["선불-004"].sensitive) == {"merchant_name": flag, "merchant_regno": flag}
        assert all(not CATALOGUE[api_id].sensitive for api_id in IDS[:3])

    def test_notes_mark_the_projects_reading(self) -> None:
        for api_id in IDS:
            assert "project's reading" in CATALOGUE[api_id].note, api_id

    def test_examples_cover_every_api(self) -> None:
        assert set(EXAMPLES) == set(IDS)

    @pytest.mark.parametrize("api_id", IDS)
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
        balance = {**OK, "total_balance_amt": "0", "charge_balance_amt": "0", "reserve_balance_amt": "0"}
        assert CATALOGUE["선불-002"].response.model_validate(balance).to_wire() == balance
        bare = {"trans_type": "04", "trans_dtime": "20241101", "trans_no": "T1", "trans_amt": "1", "balance_amt": "0"}
        assert prepaid.PrepaidTransaction.model_validate(bare).to_wire() == bare

    @pytest.mark.parametrize(
        ("api_id", "path", "value"),
        [
            ("선불-001", ("prepaid_list", 0, "pp_id"), "P" * 65),
            ("선불-001", ("prepaid_list", 0, "is_consent"), "maybe"),
            ("선불-002", ("total_balance_amt",), "abc"),
            ("선불-003", ("trans_list", 0, "trans_type"), "001"),
            ("선불-003", ("trans_list", 1, "trans_dtime"), "202411"),
            ("선불-003", ("trans_list", 0, "trans_org_nm"), "은" * 40),
            ("선불-004", ("approved_list", 0, "status"), "05"),
            ("선불-004", ("approved_list", 0, "approved_dtime"), "20241101"),
            ("선불-004", ("approved_list", 1, "country_code"), "JPN"),
        ],
    )
    def test_invalid_values_are_refused(self, api_id: str, path: tuple[Any, ...], value: str) -> None:
        with pytest.raises(ValidationError):
            CATALOGUE[api_id].response.model_validate(_replace(EXAMPLES[api_id][1], path, value))

    @pytest.mark.parametrize(
        ("api_id", "field", "value"),
        [
            ("선불-002", "pp_id", None),
            ("선불-003", "from_date", "20241301"),
            ("선불-004", "limit", "0"),
            ("선불-004", "pp_id", "P" * 65),
        ],
    )
    def test_invalid_requests_are_refused(self, api_id: str, field: str, value: str | None) -> None:
        request = {**EXAMPLES[api_id][0], field: value}
        if value is None:
            del request[field]
        with pytest.raises(ValidationError):
            CATALOGUE[api_id].request.model_validate(request)
