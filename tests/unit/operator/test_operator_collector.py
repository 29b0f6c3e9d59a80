"""Collector planning as pure functions: dependency order, requests from source records, 12-month ranges."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import httpx
from hypothesis import given
from hypothesis import strategies as st
from operator_fakes import ACCOUNTS, BANK

from openmydata.kit.clock import add_months
from openmydata.kit.resilience import Backoff, CircuitBreaker, TokenBucket
from openmydata.operator.collector import (
    CallGuard,
    Mark,
    RangePolicy,
    TokenHolder,
    collect_provider,
    collection_levels,
    history_range,
    period_months,
    plan_calls,
)
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import ApiSpec, Kind
from openmydata.standard.client import StandardClient

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
        marks = {("은행-002", "1002123456789|"): Mark(search_timestamp="20261120090000")}
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


class TestScheduledPlanning:
    """Scheduled calls (digest §10.4): at most 31 days per date-ranged call (3 months for the long-range APIs and
    month ranges), starting at the last date already fetched, and only for (API, key) pairs still due."""

    def test_a_date_range_is_at_most_31_days(self) -> None:
        [[call]] = plan_calls(
            CATALOGUE["은행-004"], org_code=BANK, source_records=ACCOUNTS[:1], today=TODAY, api_type="scheduled"
        )
        assert (call.request["from_date"], call.request["to_date"]) == ("20261023", "20261122")

    def test_it_starts_at_the_last_date_fetched(self) -> None:
        marks = {("은행-004", "1002123456789|"): Mark(fetched_to="20261115")}
        [[call]] = plan_calls(
            CATALOGUE["은행-004"],
            org_code=BANK,
            source_records=ACCOUNTS[:1],
            today=TODAY,
            api_type="scheduled",
            marks=marks,
        )
        assert call.request["from_date"] == "20261115"  # that day again: it may have gained records since

    def test_long_range_apis_and_month_ranges_get_three_months(self) -> None:
        policy = RangePolicy(long_range_apis=frozenset({"은행-010"}))
        [[loan]] = plan_calls(
            CATALOGUE["은행-010"],
            org_code=BANK,
            source_records=[ACCOUNTS[2]],
            today=TODAY,
            api_type="scheduled",
            policy=policy,
        )
        assert (loan.request["from_date"], loan.request["to_date"]) == ("20260823", "20261122")
        [[bills]] = plan_calls(
            CATALOGUE["카드-004"], org_code="CARD000001", today=TODAY, api_type="scheduled", policy=policy
        )
        assert (bills.request["from_month"], bills.request["to_month"]) == ("202609", "202611")

    def test_only_what_is_due_is_asked_for(self) -> None:
        def due(spec: ApiSpec, key: str) -> bool:
            return key != "1002123456789|"

        chains = plan_calls(
            CATALOGUE["은행-002"], org_code=BANK, source_records=ACCOUNTS, today=TODAY, api_type="scheduled", due=due
        )
        assert [chain[0].key for chain in chains] == ["1002999888777|1"]

    def test_period_apis_ask_for_this_month_and_the_one_before(self) -> None:
        [chain] = plan_calls(CATALOGUE["통신-002"], org_code="TELCO00001", today=TODAY, api_type="scheduled")
        assert [call.request["charge_month"] for call in chain] == ["202610", "202611"]


ASSETS = {"rsp_code": "00000", "rsp_msg": "성공", "account_cnt": "1", "account_list": [ACCOUNTS[0]]}


class FakeSleep:
    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[httpx.AsyncClient, StandardClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return http, StandardClient(http, "http://bank.test", org_code="OPERATOR01")


class TestCallGuard:
    """Each page call: retried on timeouts, 5xx, 429 and 503 (honouring Retry-After), the token renewed once on
    40101, no retry on another 4xx, and a circuit breaker that stops calling an institution that keeps failing."""

    async def test_a_503_with_retry_after_is_retried_after_that_long(self) -> None:
        answers = [
            httpx.Response(503, json={"rsp_code": "50008", "rsp_msg": "점검"}, headers={"Retry-After": "2"}),
            httpx.Response(200, json=ASSETS),
        ]
        http, client = _client(lambda request: answers.pop(0))
        sleep = FakeSleep()
        limiter = TokenBucket(100, 100, sleep=sleep)
        guard = CallGuard(limiter=limiter, backoff=Backoff(base_s=0.01, max_s=5, max_attempts=3), sleep=sleep)
        async with http:
            outcome = await collect_provider(
                client, [CATALOGUE["은행-001"]], org_code=BANK, token="t", today=TODAY, guard=guard
            )
        assert outcome.errors == []
        assert len(outcome.items["은행-001"]) == 1
        assert sleep.slept
        assert max(sleep.slept) >= 2

    async def test_a_retry_after_beyond_the_back_off_is_left_to_the_job(self) -> None:
        http, client = _client(
            lambda request: httpx.Response(
                503, json={"rsp_code": "50008", "rsp_msg": "점검"}, headers={"Retry-After": "600"}
            )
        )
        guard = CallGuard(backoff=Backoff(base_s=0.01, max_s=5, max_attempts=3), sleep=FakeSleep())
        async with http:
            outcome = await collect_provider(
                client, [CATALOGUE["은행-001"]], org_code=BANK, token="t", today=TODAY, guard=guard
            )
        assert outcome.errors == [("은행-001", "50008")]
        assert outcome.transient
        assert outcome.retry_after_s == 600

    async def test_a_used_up_scheduled_cycle_stops_that_call_only(self) -> None:
        """42901 with Retry-After until next week concerns one consent, API and asset: the institution's other
        calls go on at once instead of waiting for the whole institution's rate limit to be paused for days."""

        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/v1/bank/accounts":
                return httpx.Response(200, json=ASSETS)
            return httpx.Response(
                429, json={"rsp_code": "42901", "rsp_msg": "주기 초과"}, headers={"Retry-After": str(5 * 24 * 3600)}
            )

        http, client = _client(handler)
        sleep = FakeSleep()
        limiter = TokenBucket(100, 100, sleep=sleep)
        guard = CallGuard(limiter=limiter, backoff=Backoff(base_s=0.01, max_s=5, max_attempts=3), sleep=sleep)
        async with http:
            outcome = await collect_provider(
                client,
                [CATALOGUE["은행-001"], CATALOGUE["은행-002"]],
                org_code=BANK,
                token="t",
                today=TODAY,
                guard=guard,
            )
        assert outcome.errors == [("은행-002", "42901")]
        assert len(outcome.items["은행-001"]) == 1
        assert all(seconds < 5 for seconds in sleep.slept)
        await limiter.acquire(BANK)  # not paused: no sleep of days before the next call
        assert all(seconds < 5 for seconds in sleep.slept)

    async def test_another_4xx_is_not_retried(self) -> None:
        calls: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            calls.append(request.url.path)
            return httpx.Response(403, json={"rsp_code": "40305", "rsp_msg": "자산 상태"})

        http, client = _client(handler)
        guard = CallGuard(backoff=Backoff(base_s=0.01, max_s=5, max_attempts=4), sleep=FakeSleep())
        async with http:
            outcome = await collect_provider(
                client, [CATALOGUE["은행-001"]], org_code=BANK, token="t", today=TODAY, guard=guard
            )
        assert calls == ["/v1/bank/accounts"]
        assert outcome.errors == [("은행-001", "40305")]
        assert not outcome.transient

    async def test_an_expired_token_is_renewed_once_and_the_call_repeated(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.headers["authorization"] == "Bearer old":
                return httpx.Response(401, json={"rsp_code": "40101", "rsp_msg": "만료"})
            return httpx.Response(200, json=ASSETS)

        renewals: list[str] = []

        async def renew() -> str:
            renewals.append("renewed")
            return "new"

        http, client = _client(handler)
        async with http:
            outcome = await collect_provider(
                client, [CATALOGUE["은행-001"]], org_code=BANK, token=TokenHolder("old", renew), today=TODAY
            )
        assert renewals == ["renewed"]
        assert outcome.token == "new"
        assert outcome.errors == []

    async def test_an_open_circuit_stops_calling_the_institution(self) -> None:
        calls: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            calls.append(request.url.path)
            raise httpx.ConnectError("down", request=request)

        http, client = _client(handler)
        breaker = CircuitBreaker(failure_threshold=2, reset_timeout_s=30)
        guard = CallGuard(breaker=breaker, backoff=Backoff(base_s=0.01, max_s=5, max_attempts=4), sleep=FakeSleep())
        async with http:
            outcome = await collect_provider(
                client, [CATALOGUE["은행-001"]], org_code=BANK, token="t", today=TODAY, guard=guard
            )
        assert len(calls) == 2  # then the breaker opened
        assert breaker.state == "open"
        assert outcome.errors == [("은행-001", "unavailable")]
        assert outcome.unavailable
        assert outcome.transient
        assert outcome.retry_after_s is not None
        assert outcome.retry_after_s > 0
