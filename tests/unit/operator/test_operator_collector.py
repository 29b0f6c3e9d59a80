"""Collector planning as pure functions: dependency order, requests from source records, 12-month ranges."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from operator_fakes import ACCOUNTS, BANK

from openmydata.kit.clock import add_months
from openmydata.operator.collector import collection_levels, history_range, period_months, plan_calls
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import Kind

TODAY = date(2026, 11, 22)


class TestCollectionLevels:
    def test_asset_lists_first_then_sources_before_their_users(self) -> None:
        specs = CATALOGUE.info_apis(["bank", "card", "telecom"])
        levels = collection_levels(specs)
        assert {spec.kind for spec in levels[0]} == {Kind.ASSET_LIST}
        position = {spec.id: index for index, level in enumerate(levels) for spec in level}
        assert set(position) == {spec.id for spec in specs}
        for spec in specs:
            if spec.source is not None:
                assert position[spec.source.api_id] < position[spec.id], spec.id
        assert position["카드-004"] < position["카드-005"]

    def test_an_api_whose_source_is_missing_is_left_out(self) -> None:
        specs = [CATALOGUE["은행-002"], CATALOGUE["은행-004"]]
        assert collection_levels(specs) == []

    def test_order_does_not_depend_on_input_order(self) -> None:
        specs = CATALOGUE.info_apis(["card"])
        forward = [[s.id for s in level] for level in collection_levels(specs)]
        backward = [sorted(s.id for s in level) for level in collection_levels(list(reversed(specs)))]
        assert [sorted(level) for level in forward] == backward


class TestPlanCalls:
    def test_one_request_per_matching_consented_source_record(self) -> None:
        chains = plan_calls(CATALOGUE["은행-002"], org_code=BANK, source_records=ACCOUNTS, today=TODAY)
        requests = [chain[0].request for chain in chains]
        assert requests == [
            {"org_code": BANK, "account_num": "1002123456789"},
            {"org_code": BANK, "account_num": "1002999888777", "seqno": "1"},
        ]
        assert [chain[0].key for chain in chains] == ["1002123456789|", "1002999888777|1"]

    def test_loan_and_invest_apis_take_only_their_account_family(self) -> None:
        loans = plan_calls(CATALOGUE["은행-008"], org_code=BANK, source_records=ACCOUNTS, today=TODAY)
        assert [chain[0].request["account_num"] for chain in loans] == ["3170111222333"]
        # the only investment account is not in the consent (is_consent false)
        assert plan_calls(CATALOGUE["은행-005"], org_code=BANK, source_records=ACCOUNTS, today=TODAY) == []

    def test_ranged_api_gets_one_call_covering_twelve_months(self) -> None:
        chains = plan_calls(CATALOGUE["은행-004"], org_code=BANK, source_records=ACCOUNTS, today=TODAY)
        assert len(chains) == 2
        assert all(len(chain) == 1 for chain in chains)
        request = chains[0][0].request
        assert (request["from_date"], request["to_date"]) == ("20251123", "20261122")
        assert request["limit"] == 500

    def test_monthly_range_covers_twelve_months(self) -> None:
        [[call]] = plan_calls(CATALOGUE["카드-004"], org_code="CARD000001", today=TODAY)
        assert (call.request["from_month"], call.request["to_month"]) == ("202512", "202611")
        assert call.key == ""

    def test_period_api_without_source_iterates_months_one_after_another(self) -> None:
        [chain] = plan_calls(CATALOGUE["통신-002"], org_code="TELCO00001", today=TODAY)
        months = [call.request["charge_month"] for call in chain]
        assert months == [f"2025{m:02d}" for m in (12,)] + [f"2026{m:02d}" for m in range(1, 12)]
        assert [call.key for call in chain] == months

    def test_source_fields_from_an_earlier_records_api(self) -> None:
        bills = [
            {"seqno": "0001", "charge_month": "202610", "charge_amt": "1"},
            {"seqno": "0001", "charge_month": "202611", "charge_amt": "2"},
            {"seqno": "0001", "charge_month": "202611", "charge_amt": "3"},
        ]
        chains = plan_calls(CATALOGUE["카드-005"], org_code="CARD000001", source_records=bills, today=TODAY)
        assert [chain[0].request for chain in chains] == [
            {"org_code": "CARD000001", "seqno": "0001", "charge_month": "202610", "limit": 500},
            {"org_code": "CARD000001", "seqno": "0001", "charge_month": "202611", "limit": 500},
        ]

    def test_search_timestamp_is_sent_back_for_the_same_key(self) -> None:
        marks = {("은행-002", "1002123456789|"): "20261120090000"}
        chains = plan_calls(CATALOGUE["은행-002"], org_code=BANK, source_records=ACCOUNTS, today=TODAY, marks=marks)
        assert chains[0][0].request["search_timestamp"] == "20261120090000"
        assert "search_timestamp" not in chains[1][0].request

    def test_refresh_starts_at_the_last_success(self) -> None:
        chains = plan_calls(
            CATALOGUE["은행-004"], org_code=BANK, source_records=ACCOUNTS[:1], today=TODAY, since=date(2026, 11, 1)
        )
        assert chains[0][0].request["from_date"] == "20261101"


class TestHistoryRange:
    @given(st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31)))
    def test_date_range_is_within_twelve_months_and_ends_today(self, today: date) -> None:
        spec = CATALOGUE["은행-004"]
        window = history_range(spec, today)
        start = date(int(window["from_date"][:4]), int(window["from_date"][4:6]), int(window["from_date"][6:]))
        assert window["to_date"] == today.strftime("%Y%m%d")
        assert start > add_months(today, -12)
        assert (today - start).days <= 366

    @given(st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31)))
    def test_months_are_the_last_twelve(self, today: date) -> None:
        months = period_months(today)
        assert len(months) == 12
        assert months == sorted(months)
        assert months[-1] == today.strftime("%Y%m")
        spec = CATALOGUE["카드-004"]
        assert history_range(spec, today) == {"from_month": months[0], "to_month": months[-1]}
