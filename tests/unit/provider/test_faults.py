"""Fault injection at the provider (`provider.faults`): each fault on and off, determinism per seed, the paths it
leaves alone, the envelope of its answers, and a truncated response that an httpx client really fails on."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
from datetime import datetime, time, timedelta
from typing import Any

import httpx
import pytest
import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from openmydata.kit.clock import KST, now_kst
from openmydata.kit.server import start_server
from openmydata.provider.faults import (
    FaultInjectionMiddleware,
    FaultInjector,
    OutageWindow,
    TruncatedResponse,
    faults_enabled,
)
from openmydata.provider.settings import ProviderSettings
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.formats import Party, new_tran_id
from openmydata.standard.profiles import response_codes

from .conftest import ALICE, DEPOSIT, OPERATOR, PROVIDER, Harness, history_range

INFO_PATH = "/v1/bank/accounts"  # 은행-001


@pytest.fixture
def faults() -> dict[str, Any]:
    """The fault settings of the harness's provider (tests parametrise it)."""
    return {}


@pytest.fixture
def provider_settings(provider_settings: ProviderSettings, faults: dict[str, Any]) -> ProviderSettings:
    return ProviderSettings(**{**provider_settings.model_dump(), **faults})


def _rsp(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["rsp_code"]


def _tran_id() -> str:
    return new_tran_id(OPERATOR, Party.OPERATOR)


class _Recorder:
    """Stands in for asyncio.sleep: records each requested delay (seconds)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


async def _echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A stand-in provider: answers 00000 with the request body it received."""
    request = Request(scope, receive)
    body = (await request.body()).decode()
    await JSONResponse({"rsp_code": "00000", "rsp_msg": "성공", "received": body})(scope, receive, send)


def _injector(**settings: Any) -> FaultInjector:
    return FaultInjector(ProviderSettings(**settings), CATALOGUE.for_profile("financial"), response_codes("financial"))


def _client(injector: FaultInjector) -> httpx.AsyncClient:
    app = FaultInjectionMiddleware(
        _echo_app, injector=injector, new_tran_id=lambda: new_tran_id(PROVIDER, Party.PROVIDER)
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


class TestFaultSettings:
    def test_off_by_default(self) -> None:
        assert not faults_enabled(ProviderSettings())

    @pytest.mark.parametrize(
        "setting",
        [
            {"fault_latency_ms": 5},
            {"fault_latency_distribution": "uniform", "fault_latency_jitter_ms": 5},
            {"fault_error_rate": 0.1},
            {"fault_outage": True},
            {"fault_outage_windows": ["02:00-03:00"]},
            {"fault_slow_page_ms": 10},
            {"fault_truncate_rate": 0.1},
        ],
    )
    def test_any_fault_enables_injection(self, setting: dict[str, Any]) -> None:
        assert faults_enabled(ProviderSettings(**setting))

    def test_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("OPENMYDATA_PROVIDER_FAULT_LATENCY_MS", "12.5")
        monkeypatch.setenv("OPENMYDATA_PROVIDER_FAULT_OUTAGE_WINDOWS", "23:30-00:30, 04:00-04:10")
        monkeypatch.setenv("OPENMYDATA_PROVIDER_FAULT_ERROR_CODE", "50005")
        settings = ProviderSettings()
        assert settings.fault_latency_ms == 12.5
        assert settings.fault_outage_windows == ["23:30-00:30", "04:00-04:10"]
        assert settings.fault_error_code == "50005"

    @pytest.mark.parametrize(
        "setting",
        [
            {"fault_outage_windows": ["24:00-01:00"]},
            {"fault_outage_windows": ["9:00-10:00"]},
            {"fault_outage_windows": ["10:00-10:00"]},
            {"fault_error_code": "00000"},
            {"fault_outage_code": "99999"},
            {"fault_error_rate": 1.5},
            {"fault_error_status": 200},
            {"fault_latency_distribution": "lognormal", "fault_latency_ms": 10},
        ],
    )
    def test_bad_settings_are_refused(self, setting: dict[str, Any]) -> None:
        with pytest.raises(ValueError):
            ProviderSettings(**setting)


class TestOutageWindow:
    def test_contains_and_time_left(self) -> None:
        window = OutageWindow.parse("09:00-09:30")
        assert [window.contains(time(9, 0)), window.contains(time(9, 29, 59))] == [True, True]
        assert [window.contains(time(9, 30)), window.contains(time(8, 59))] == [False, False]
        assert window.seconds_left(datetime(2026, 1, 5, 9, 10, tzinfo=KST)) == 20 * 60

    def test_across_midnight(self) -> None:
        window = OutageWindow.parse("23:00-01:00")
        assert [window.contains(time(23, 30)), window.contains(time(0, 59))] == [True, True]
        assert [window.contains(time(1, 0)), window.contains(time(22, 59))] == [False, False]
        assert window.seconds_left(datetime(2026, 1, 5, 23, 30, tzinfo=KST)) == 90 * 60
        assert window.seconds_left(datetime(2026, 1, 6, 0, 59, 59, 500_000, tzinfo=KST)) == 1


class TestDefaultApp:
    async def test_no_fault_middleware(self, harness: Harness) -> None:
        assert harness.app.state.faults is None
        assert not any(item.cls is FaultInjectionMiddleware for item in harness.app.user_middleware)
        token = (await harness.grant())["access_token"]
        assert _rsp(await harness.call("은행-001", {}, token=token)) == (200, "00000")


class TestErrorRate:
    @pytest.mark.parametrize("faults", [{"fault_error_rate": 1.0}])
    async def test_every_information_call_fails_with_the_standard_envelope(self, harness: Harness) -> None:
        assert any(item.cls is FaultInjectionMiddleware for item in harness.app.user_middleware)
        token = (await harness.grant())["access_token"]  # the OAuth token endpoint is untouched
        tran_id = _tran_id()
        with structlog.testing.capture_logs() as logs:
            response = await harness.call("은행-001", {}, token=token, tran_id=tran_id)
        assert _rsp(response) == (500, "50001")
        assert response.json()["rsp_msg"].startswith("시스템 장애")
        assert response.headers["x-api-tran-id"] == tran_id
        assert "retry-after" not in response.headers
        assert harness.app.state.faults.counts["error"] == 1
        [line] = [line for line in logs if line["event"] == "fault injected"]
        assert (line["fault"], line["api"], line["tran_id"]) == ("error", "은행-001", tran_id)
        assert ALICE not in json.dumps(line, ensure_ascii=False)
        # A path parameter names the API in the log, never the identifier itself.
        paged = await harness.call("은행-004", {"account_num": DEPOSIT, **history_range(30)}, token=token)
        assert _rsp(paged) == (500, "50001")
        # Not information APIs: 정보제공-공통-001, the 개별인증-001 page, 지원-102 (refused by its own rules).
        apis = await harness.http.get("/apis", params={"org_code": PROVIDER, "search_timestamp": "0"})
        assert apis.json().get("rsp_code") != "50001"
        page = await harness.http.get("/oauth/2.0/authorize", params={"org_code": PROVIDER})
        assert page.status_code != 500
        status = await harness.http.get("/v1/mgmts/status", headers={"x-api-tran-id": _tran_id()})
        assert status.json().get("rsp_code") != "50001"
        assert harness.app.state.faults.counts == {"error": 2}

    @pytest.mark.parametrize(
        "faults", [{"fault_error_rate": 1.0, "fault_error_status": 503, "fault_error_code": "50005"}]
    )
    async def test_chosen_code_and_status_with_retry_after(self, harness: Harness) -> None:
        token = (await harness.grant())["access_token"]
        response = await harness.call("은행-001", {}, token=token)
        assert _rsp(response) == (503, "50005")
        assert response.headers["retry-after"] == "1"

    async def test_the_seed_decides_which_calls_fail(self) -> None:
        async def statuses(seed: int) -> list[int]:
            async with _client(_injector(fault_error_rate=0.5, fault_seed=seed)) as http:
                return [(await http.get(INFO_PATH)).status_code for _ in range(40)]

        first = await statuses(7)
        assert first == await statuses(7)
        assert first != await statuses(8)
        expected = random.Random(7)
        assert first == [500 if expected.random() < 0.5 else 200 for _ in range(40)]
        assert set(first) == {200, 500}

    async def test_off_at_rate_zero(self) -> None:
        injector = _injector(fault_error_rate=0.0, fault_latency_ms=1)
        injector.sleep = _Recorder()
        async with _client(injector) as http:
            assert {(await http.get(INFO_PATH)).status_code for _ in range(20)} == {200}
        assert "error" not in injector.counts


class TestLatency:
    async def test_fixed(self) -> None:
        injector = _injector(fault_latency_ms=30)
        injector.sleep = recorder = _Recorder()
        async with _client(injector) as http:
            assert (await http.get(INFO_PATH)).status_code == 200
            assert (await http.post("/oauth/2.0/token", data={"grant_type": "x"})).status_code == 200
        assert recorder.delays == [0.03]
        assert injector.counts == {"latency": 1}

    async def test_uniform_follows_the_seed(self) -> None:
        injector = _injector(
            fault_latency_ms=50, fault_latency_distribution="uniform", fault_latency_jitter_ms=20, fault_seed=3
        )
        injector.sleep = recorder = _Recorder()
        async with _client(injector) as http:
            for _ in range(5):
                await http.get(INFO_PATH)
        expected = random.Random(3)
        assert recorder.delays == [expected.uniform(30, 70) / 1000 for _ in range(5)]

    def test_lognormal_median_and_p99(self) -> None:
        injector = _injector(
            fault_latency_ms=20, fault_latency_distribution="lognormal", fault_latency_jitter_ms=80, fault_seed=1
        )
        samples = [injector.latency_s() * 1000 for _ in range(20_000)]
        assert 19 < statistics.median(samples) < 21
        p99 = statistics.quantiles(samples, n=100)[98]
        assert 90 < p99 < 110

    @pytest.mark.parametrize("faults", [{"fault_latency_ms": 40}])
    async def test_the_answer_waits(self, harness: Harness) -> None:
        token = (await harness.grant())["access_token"]
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert _rsp(await harness.call("은행-001", {}, token=token)) == (200, "00000")
        assert loop.time() - started >= 0.039  # asyncio.sleep never wakes early (beyond the clock's resolution)
        assert harness.app.state.faults.counts == {"latency": 1}


class TestSlowPages:
    @pytest.mark.parametrize("faults", [{"fault_slow_page_ms": 250}])
    async def test_continuation_pages_are_slow(self, harness: Harness) -> None:
        harness.app.state.faults.sleep = recorder = _Recorder()
        token = (await harness.grant())["access_token"]
        request = {"account_num": DEPOSIT, **history_range(365), "limit": "500"}
        first = await harness.call("은행-004", request, token=token)
        assert _rsp(first) == (200, "00000")
        assert recorder.delays == []
        second = await harness.call("은행-004", {**request, "next_page": first.json()["next_page"]}, token=token)
        # The body the middleware read to find next_page still reaches the handler: the next page comes back.
        assert _rsp(second) == (200, "00000")
        assert {item["trans_no"] for item in second.json()["trans_list"]}.isdisjoint(
            item["trans_no"] for item in first.json()["trans_list"]
        )
        assert recorder.delays == [0.25]
        assert harness.app.state.faults.counts == {"slow_page": 1}

    async def test_next_page_in_the_query_or_the_body(self) -> None:
        injector = _injector(fault_slow_page_ms=100, fault_latency_ms=10)
        injector.sleep = recorder = _Recorder()
        transactions = "/v1/bank/accounts/deposit/transactions"  # 은행-004
        async with _client(injector) as http:
            await http.get(INFO_PATH, params={"next_page": "abc"})
            await http.get(INFO_PATH, params={"next_page": ""})
            not_json = await http.post(transactions, content=b"not json")
            paged = await http.post(transactions, json={"next_page": "cursor"})
            not_an_api = await http.post("/v1/bank/accounts/deposit", json={"next_page": "cursor"})
        assert not_json.json()["received"] == "not json"
        assert json.loads(paged.json()["received"]) == {"next_page": "cursor"}
        assert not_an_api.status_code == 200
        assert recorder.delays == pytest.approx([0.11, 0.01, 0.01, 0.11])
        assert injector.counts == {"latency": 4, "slow_page": 2}


class TestOutage:
    @pytest.mark.parametrize("faults", [{"fault_outage": True, "fault_retry_after_s": 30}])
    async def test_switch_refuses_information_calls_only(self, harness: Harness) -> None:
        token = (await harness.grant())["access_token"]
        tran_id = _tran_id()
        response = await harness.call("은행-001", {}, token=token, tran_id=tran_id)
        assert _rsp(response) == (503, "50008")
        assert response.json()["rsp_msg"].startswith("시스템 정기점검")
        assert response.headers["retry-after"] == "30"
        assert response.headers["x-api-tran-id"] == tran_id
        assert harness.app.state.faults.counts == {"outage": 1}

    @pytest.mark.parametrize("faults", [{"fault_outage_windows": ["02:00-02:30", "23:50-00:10"]}])
    async def test_windows(self, harness: Harness) -> None:
        token = (await harness.grant())["access_token"]
        faults = harness.app.state.faults
        faults.now = lambda: datetime(2026, 3, 2, 2, 20, 15, tzinfo=KST)
        inside = await harness.call("은행-001", {}, token=token)
        assert _rsp(inside) == (503, "50008")
        assert inside.headers["retry-after"] == str(9 * 60 + 45)
        faults.now = lambda: datetime(2026, 3, 2, 23, 55, tzinfo=KST)
        assert (await harness.call("은행-001", {}, token=token)).headers["retry-after"] == str(15 * 60)
        faults.now = lambda: datetime(2026, 3, 2, 2, 30, tzinfo=KST)
        assert _rsp(await harness.call("은행-001", {}, token=token)) == (200, "00000")
        assert faults.counts == {"outage": 2}

    @pytest.mark.parametrize("faults", [{"fault_outage": True, "fault_all_paths": True}])
    async def test_all_paths_reaches_oauth(self, harness: Harness) -> None:
        response = await harness.post_token({"grant_type": "password"})
        assert response.status_code == 503
        assert response.json()["error"] == "temporarily_unavailable"
        assert response.headers["x-api-tran-id"]

    async def test_in_the_window_now(self) -> None:
        now = now_kst()
        start, end = now - timedelta(minutes=1), now + timedelta(minutes=2)
        window = f"{start:%H:%M}-{end:%H:%M}"
        later = f"{now + timedelta(hours=2):%H:%M}-{now + timedelta(hours=3):%H:%M}"
        async with _client(_injector(fault_outage_windows=[window])) as http:
            assert (await http.get(INFO_PATH)).status_code == 503
        async with _client(_injector(fault_outage_windows=[later])) as http:
            assert (await http.get(INFO_PATH)).status_code == 200


class TestTruncation:
    @pytest.mark.parametrize("faults", [{"fault_truncate_rate": 1.0}])
    async def test_client_raises_in_process(self, harness: Harness) -> None:
        token = (await harness.grant())["access_token"]
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await harness.call("은행-001", {}, token=token)
        assert isinstance(caught.value, TruncatedResponse)
        assert harness.app.state.faults.counts == {"truncated": 1}

    @pytest.mark.parametrize("faults", [{"fault_truncate_rate": 1.0}])
    async def test_client_raises_over_a_socket(self, harness: Harness) -> None:
        token = (await harness.grant())["access_token"]
        server = await start_server("provider", harness.app, lifespan="off")
        try:
            async with httpx.AsyncClient(base_url=server.url) as http:
                request = harness.client.build_request(
                    harness.client.catalogue["은행-001"], {"org_code": PROVIDER}, token=token, api_type="user-consent"
                )
                request.url = request.url.copy_with(scheme="http", host=server.host, port=server.port)
                with pytest.raises(httpx.RemoteProtocolError) as caught:
                    await http.send(request)
                assert not isinstance(caught.value, TruncatedResponse)  # raised by httpx itself
                # Paths that are not information APIs answer in full over the same server.
                apis = await http.get("/apis", params={"org_code": PROVIDER}, headers={"x-api-tran-id": _tran_id()})
                assert apis.status_code in {200, 400, 401}
                apis.json()
        finally:
            await server.stop()
        assert harness.app.state.faults.counts == {"truncated": 1}

    async def test_the_seed_decides_which_responses_are_cut(self) -> None:
        async def outcomes(seed: int) -> list[bool]:
            cut = []
            async with _client(_injector(fault_truncate_rate=0.3, fault_seed=seed)) as http:
                for _ in range(30):
                    try:
                        response = await http.get(INFO_PATH)
                    except TruncatedResponse:
                        cut.append(True)
                    else:
                        assert response.json()["rsp_code"] == "00000"
                        cut.append(False)
            return cut

        first = await outcomes(11)
        assert first == await outcomes(11)
        expected = random.Random(11)
        assert first == [expected.random() < 0.3 for _ in range(30)]
        assert set(first) == {True, False}
