"""Scheduled transmission (정기적 전송) at the provider (digest §4.2, §10.4): time windows (50009) and the consent's
cycle (42901), enforced at the one enforcement point on `x-api-type: scheduled` calls only.

The enforcement point's clock (`InfoService.clock`) is set to chosen moments; they lie within three weeks of the
real time, so that the consents and tokens the harness issues are valid at them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import update

from openmydata.kit.clock import utcnow
from openmydata.kit.db import Database
from openmydata.kit.pki import CertificateAuthority
from openmydata.kit.server import RunningServer, start_server
from openmydata.portal.app import create_app as create_portal
from openmydata.portal.settings import PortalSettings
from openmydata.provider import repository
from openmydata.provider.app import create_app
from openmydata.provider.importer import import_customers
from openmydata.provider.models import AccessRecord, Record, RegistryOrg
from openmydata.provider.registry import RegistrySynchroniser, register_service
from openmydata.provider.settings import ProviderSettings
from openmydata.standard.apis.support import NpTime, OrgEntry, OrgListResponse
from openmydata.standard.codes import success_envelope
from openmydata.standard.consent import TargetInfo, TransmissionCycle, TransmissionRequest
from openmydata.standard.dataset import StoredRecord
from openmydata.standard.schedule import Cycle

from .conftest import (
    ALICE,
    CLIENT_ID,
    CLIENT_SECRET,
    DEPOSIT,
    DEPOSIT_2,
    LOAN,
    OPERATOR,
    PROVIDER,
    Harness,
    alice,
    bob,
    history_range,
)

# The coming Sunday 00:00 in Seoul: a week (Sunday to Saturday, §10.4) that has not begun yet.
SUNDAY = Cycle.parse("1/w").next_period_start(utcnow())
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _rsp(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["rsp_code"]


def _with(settings: ProviderSettings, **changes: Any) -> ProviderSettings:
    """The harness's settings with `changes`, validated like any settings."""
    return ProviderSettings(**{**settings.model_dump(), **changes})


@asynccontextmanager
async def _provider(settings: ProviderSettings, ca: CertificateAuthority) -> AsyncIterator[tuple[Harness, Clock]]:
    """The conftest harness for `settings`, with the enforcement point's clock at SUNDAY."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        db: Database = app.state.provider.db
        await register_service(db, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_code=OPERATOR)
        await import_customers(db, [alice(), bob()])
        clock = Clock(SUNDAY)
        app.state.provider.info.clock = clock
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield Harness(app=app, http=http, db=db, ca=ca), clock


def _consent(harness: Harness, fnd: str = "1/w", add: str = "1/w", *, is_scheduled: bool = True) -> TransmissionRequest:
    consent = harness.consent([TargetInfo(scope="bank.list"), TargetInfo(scope="bank.deposit")])
    return consent.model_copy(
        update={"cycle": TransmissionCycle(fnd_cycle=fnd, add_cycle=add), "is_scheduled": is_scheduled}
    )


async def _token(harness: Harness, fnd: str = "1/w", add: str = "1/w", *, is_scheduled: bool = True) -> str:
    body = await harness.grant(ALICE, _consent(harness, fnd, add, is_scheduled=is_scheduled))
    token: str = body["access_token"]
    return token


async def _records(harness: Harness) -> list[AccessRecord]:
    async with harness.db.transaction() as session:
        return await repository.access_records(session)


async def _save_registry_windows(harness: Harness, org_code: str, windows: list[str] | None) -> None:
    async with harness.db.transaction() as session:
        await repository.save_org(
            session,
            RegistryOrg(
                org_code=org_code,
                industry="bank",
                org_type="01",
                org_name="은행",
                np_time_list=windows,
                updated_at=utcnow(),
            ),
        )


class TestTimeWindows:
    @pytest.fixture
    async def windowed(
        self, provider_settings: ProviderSettings, test_ca: CertificateAuthority
    ) -> AsyncIterator[tuple[Harness, Clock]]:
        # The cycle is not enforced here, so that each call is judged by its window alone.
        settings = _with(provider_settings, scheduled_windows=["0000:0600"], enforce_scheduled_cycle=False)
        async with _provider(settings, test_ca) as running:
            yield running

    async def test_scheduled_call_inside_and_outside_the_window(self, windowed: tuple[Harness, Clock]) -> None:
        harness, clock = windowed
        token = await _token(harness)
        clock.now = SUNDAY + 3 * HOUR
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")
        clock.now = SUNDAY + timedelta(hours=5, minutes=59, seconds=59)
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")

        clock.now = SUNDAY + 12 * HOUR
        refused = await harness.call(
            "은행-001", {}, token=token, api_type="scheduled", tran_id="OPER000001M00000000000001"
        )
        # HTTP status from the code table (§2.7: 500); the next window opens at Monday 00:00 KST
        assert _rsp(refused) == (500, "50009")
        assert refused.headers["retry-after"] == str(12 * 3600)
        assert refused.headers["x-api-tran-id"] == "OPER000001M00000000000001"
        assert "0000:0600" in refused.json()["rsp_msg"]
        clock.now = SUNDAY + 6 * HOUR
        assert (await harness.call("은행-001", {}, token=token, api_type="scheduled")).headers["retry-after"] == str(
            18 * 3600
        )

        # the refusals are access records like any other refusal
        refusals = [record for record in await _records(harness) if record.rsp_code == "50009"]
        assert [(r.status_code, r.api_type, r.api_id) for r in refusals] == [(500, "scheduled", "은행-001")] * 2
        assert all(record.consent_id for record in refusals)

    async def test_user_involved_calls_are_never_refused_for_windows(self, windowed: tuple[Harness, Clock]) -> None:
        harness, clock = windowed
        token = await _token(harness)
        clock.now = SUNDAY + 12 * HOUR
        for api_type in ("user-consent", "user-refresh", "user-search"):
            assert _rsp(await harness.call("은행-001", {}, token=token, api_type=api_type)) == (200, "00000")
            assert _rsp(await harness.call("은행-002", {"account_num": DEPOSIT}, token=token, api_type=api_type)) == (
                200,
                "00000",
            )

    async def test_continuation_pages_are_scheduled_calls_too(self, windowed: tuple[Harness, Clock]) -> None:
        harness, clock = windowed
        token = await _token(harness)
        clock.now = SUNDAY + timedelta(hours=5, minutes=59)
        request = {"account_num": DEPOSIT, **history_range(31), "limit": "2"}
        first = await harness.call("은행-004", request, token=token, api_type="scheduled")
        assert _rsp(first) == (200, "00000")
        clock.now = SUNDAY + 6 * HOUR
        following = {**request, "next_page": first.json()["next_page"]}
        assert _rsp(await harness.call("은행-004", following, token=token, api_type="scheduled")) == (500, "50009")

    async def test_a_window_past_midnight(
        self, provider_settings: ProviderSettings, test_ca: CertificateAuthority
    ) -> None:
        settings = _with(provider_settings, scheduled_windows=["2200:0400"], enforce_scheduled_cycle=False)
        async with _provider(settings, test_ca) as (harness, clock):
            token = await _token(harness)
            for inside in (SUNDAY - timedelta(minutes=30), SUNDAY + timedelta(hours=3, minutes=59, seconds=59)):
                clock.now = inside
                assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")
            clock.now = SUNDAY + 4 * HOUR
            refused = await harness.call("은행-001", {}, token=token, api_type="scheduled")
            assert (_rsp(refused), refused.headers["retry-after"]) == ((500, "50009"), str(18 * 3600))
            clock.now = SUNDAY + timedelta(hours=21, minutes=59, seconds=30)
            refused = await harness.call("은행-001", {}, token=token, api_type="scheduled")
            assert (_rsp(refused), refused.headers["retry-after"]) == ((500, "50009"), "30")
            clock.now = SUNDAY + 22 * HOUR
            assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")

    async def test_the_registry_entry_wins_over_the_setting(self, windowed: tuple[Harness, Clock]) -> None:
        harness, clock = windowed
        token = await _token(harness)
        # what the portal publishes for this provider's own org_code is what it enforces; another org's is not
        await _save_registry_windows(harness, PROVIDER, ["1200:1800"])
        await _save_registry_windows(harness, "BANK000002", ["0000:0600"])
        clock.now = SUNDAY + 13 * HOUR
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")
        clock.now = SUNDAY + 3 * HOUR
        refused = await harness.call("은행-001", {}, token=token, api_type="scheduled")
        assert (_rsp(refused), refused.headers["retry-after"]) == ((500, "50009"), str(9 * 3600))
        assert "1200:1800" in refused.json()["rsp_msg"]

        # an entry publishing none leaves the setting in force
        await _save_registry_windows(harness, PROVIDER, None)
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")
        clock.now = SUNDAY + 13 * HOUR
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (500, "50009")

    async def test_registry_sync_keeps_the_published_windows(self, windowed: tuple[Harness, Clock]) -> None:
        harness, clock = windowed
        token = await _token(harness)

        class Portal:
            """What 지원-002/003 answer: this provider with two windows, another whose entry cannot be read."""

            async def orgs(self, since: str | None) -> dict[str, Any]:
                entries = [
                    OrgEntry(
                        op_type="I",
                        org_code=PROVIDER,
                        industry="bank",
                        org_type="01",
                        org_name="은행",
                        np_time_cnt=2,
                        np_time_list=[NpTime(np_time="1200:1500"), NpTime(np_time="1600:1900")],
                    ),
                    OrgEntry(op_type="I", org_code="BANK000003", industry="bank", org_type="01", org_name="다른은행"),
                ]
                body = OrgListResponse(
                    **success_envelope(), search_timestamp="20261206000000", org_cnt=2, org_list=entries
                ).to_wire()
                body["org_list"][1]["np_time_list"] = [{"np_time": "25:00"}]
                return body

            async def services(self, since: str | None) -> dict[str, Any]:
                return {**success_envelope(), "org_cnt": "0", "org_list": []}

        synchroniser = RegistrySynchroniser(harness.db, Portal(), min_interval_s=0)  # type: ignore[arg-type]
        assert await synchroniser.sync()
        async with harness.db.transaction() as session:
            assert await repository.published_windows(session, PROVIDER) == ["1200:1500", "1600:1900"]
            assert await repository.published_windows(session, "BANK000003") is None
        clock.now = SUNDAY + 15 * HOUR + 30 * timedelta(minutes=1)
        refused = await harness.call("은행-001", {}, token=token, api_type="scheduled")
        assert (_rsp(refused), refused.headers["retry-after"]) == ((500, "50009"), "1800")
        clock.now = SUNDAY + 16 * HOUR
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")

    async def test_no_windows_published_means_nothing_to_enforce(self, harness: Harness) -> None:
        clock = Clock(SUNDAY)
        harness.app.state.provider.info.clock = clock
        token = await _token(harness, fnd="1/d")
        for day, hour in ((0, 3), (1, 12), (2, 23), (3, 0)):
            clock.now = SUNDAY + timedelta(days=day, hours=hour)
            assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")

    def test_the_setting_follows_the_registration_rules(
        self, provider_settings: ProviderSettings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for bad in (["0000:0500"], ["0000:0645"], ["0000:0300", "0200:0600"], ["0000:0200"] * 4, ["0000-0600"]):
            with pytest.raises(ValidationError):
                _with(provider_settings, scheduled_windows=bad)
        monkeypatch.setenv("OPENMYDATA_PROVIDER_SCHEDULED_WINDOWS", "0000:0300, 2100:2400")
        monkeypatch.setenv("OPENMYDATA_PROVIDER_ENFORCE_SCHEDULED_CYCLE", "false")
        from_env = ProviderSettings()
        assert (from_env.scheduled_windows, from_env.enforce_scheduled_cycle) == (["0000:0300", "2100:2400"], False)
        assert (provider_settings.scheduled_windows, provider_settings.enforce_scheduled_cycle) == ([], True)


class TestCycle:
    @pytest.fixture
    async def running(
        self, provider_settings: ProviderSettings, test_ca: CertificateAuthority
    ) -> AsyncIterator[tuple[Harness, Clock]]:
        async with _provider(provider_settings, test_ca) as running:
            yield running

    async def test_once_a_week_then_42901_until_next_sunday(self, running: tuple[Harness, Clock]) -> None:
        harness, clock = running
        token = await _token(harness)
        clock.now = SUNDAY + timedelta(days=1, hours=10)  # Monday 10:00
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")
        clock.now = SUNDAY + timedelta(days=6, hours=23, minutes=59, seconds=59)  # Saturday 23:59:59
        refused = await harness.call("은행-001", {}, token=token, api_type="scheduled")
        assert (_rsp(refused), refused.headers["retry-after"]) == ((429, "42901"), "1")
        clock.now = SUNDAY + timedelta(days=1, hours=10)
        refused = await harness.call("은행-001", {}, token=token, api_type="scheduled")
        assert (_rsp(refused), refused.headers["retry-after"]) == ((429, "42901"), str((5 * 24 + 14) * 3600))
        assert [r.status_code for r in await _records(harness) if r.rsp_code == "42901"] == [429, 429]

        clock.now = SUNDAY + 7 * DAY  # the next Sunday 00:00 KST: a new week
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (429, "42901")

    async def test_the_week_begins_on_sunday_in_seoul(self, running: tuple[Harness, Clock]) -> None:
        harness, clock = running
        token = await _token(harness)
        clock.now = SUNDAY - timedelta(seconds=1)  # Saturday 23:59:59 KST (14:59:59 UTC)
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")
        clock.now = SUNDAY  # Sunday 00:00 KST, still Saturday in UTC
        assert clock.now.astimezone(UTC).weekday() == 5
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")

    async def test_pages_of_one_retrieval_count_once(self, running: tuple[Harness, Clock]) -> None:
        harness, clock = running
        token = await _token(harness)
        clock.now = SUNDAY + 10 * HOUR
        request = {"account_num": DEPOSIT, **history_range(31), "limit": "2"}
        page = await harness.call("은행-004", request, token=token, api_type="scheduled")
        assert _rsp(page) == (200, "00000")
        pages = 1
        while "next_page" in page.json() and pages < 5:
            clock.now += timedelta(minutes=1)
            page = await harness.call(
                "은행-004", {**request, "next_page": page.json()["next_page"]}, token=token, api_type="scheduled"
            )
            assert _rsp(page) == (200, "00000")
            pages += 1
        assert pages == 5
        async with harness.db.transaction() as session:
            counted = await repository.scheduled_transmissions(session, (await _records(harness))[-1].consent_id or "")
        assert [(row.api_id, row.key, row.transmissions) for row in counted] == [("은행-004", f"{DEPOSIT}|", 1)]
        # a new retrieval (a first page) in the same week is a second transmission
        assert _rsp(await harness.call("은행-004", request, token=token, api_type="scheduled")) == (429, "42901")

    async def test_a_failed_call_does_not_count(self, running: tuple[Harness, Clock]) -> None:
        harness, clock = running
        token = await _token(harness)
        clock.now = SUNDAY + 10 * HOUR
        # the loan account is the customer's and consented (all assets), but this provider holds no 은행-002 data
        # for it yet: 40402 from the handler, after the count was taken, which the rollback takes back
        data = alice()
        assert not [r for r in data.records if r.api_id == "은행-002" and r.key == f"{LOAN}|"]
        for _ in range(3):
            assert _rsp(await harness.call("은행-002", {"account_num": LOAN}, token=token, api_type="scheduled")) == (
                404,
                "40402",
            )
        async with harness.db.transaction() as session:
            consent_id = (await _records(harness))[-1].consent_id or ""
            assert await repository.scheduled_transmissions(session, consent_id) == []
        # calls refused before the handler (a bad range: 40004) do not count either
        too_long = {"account_num": DEPOSIT, **history_range(32)}
        assert _rsp(await harness.call("은행-004", too_long, token=token, api_type="scheduled")) == (400, "40004")

        data.records.append(
            StoredRecord(
                api_id="은행-002",
                key=f"{LOAN}|",
                payload={"saving_method": "01", "issue_date": "20220101", "currency_code": "KRW"},
            )
        )
        await import_customers(harness.db, [data])
        assert _rsp(await harness.call("은행-002", {"account_num": LOAN}, token=token, api_type="scheduled")) == (
            200,
            "00000",
        )
        assert _rsp(await harness.call("은행-002", {"account_num": LOAN}, token=token, api_type="scheduled")) == (
            429,
            "42901",
        )
        ok = {"account_num": DEPOSIT, **history_range(31)}
        assert _rsp(await harness.call("은행-004", ok, token=token, api_type="scheduled")) == (200, "00000")

    async def test_up_to_date_counts_as_a_transmission(self, running: tuple[Harness, Clock]) -> None:
        harness, clock = running
        token = await _token(harness, fnd="2/w")
        clock.now = SUNDAY + 10 * HOUR
        # the data changed well before the search_timestamp the first answer hands out (one-second resolution)
        async with harness.db.transaction() as session:
            await session.execute(update(Record).values(updated_at=utcnow() - timedelta(minutes=5)))
        first = await harness.call("은행-001", {}, token=token, api_type="scheduled")
        assert _rsp(first) == (200, "00000")
        stamp = first.json()["search_timestamp"]
        unchanged = await harness.call("은행-001", {"search_timestamp": stamp}, token=token, api_type="scheduled")
        assert _rsp(unchanged) == (200, "00001")
        refused = await harness.call("은행-001", {"search_timestamp": stamp}, token=token, api_type="scheduled")
        assert _rsp(refused) == (429, "42901")

    async def test_user_involved_calls_are_unlimited_and_not_counted(self, running: tuple[Harness, Clock]) -> None:
        harness, clock = running
        token = await _token(harness)
        clock.now = SUNDAY + 10 * HOUR
        for api_type in ("user-consent", "user-refresh", "user-search") * 2:
            assert _rsp(await harness.call("은행-001", {}, token=token, api_type=api_type)) == (200, "00000")
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (429, "42901")
        for api_type in ("user-consent", "user-refresh", "user-search") * 2:
            assert _rsp(await harness.call("은행-001", {}, token=token, api_type=api_type)) == (200, "00000")

    async def test_once_a_day(self, running: tuple[Harness, Clock]) -> None:
        harness, clock = running
        token = await _token(harness, fnd="1/d")
        clock.now = SUNDAY + timedelta(days=2, hours=18)
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")
        clock.now += timedelta(hours=1, minutes=30)
        refused = await harness.call("은행-001", {}, token=token, api_type="scheduled")
        assert (_rsp(refused), refused.headers["retry-after"]) == ((429, "42901"), str(int(4.5 * 3600)))
        clock.now = SUNDAY + 3 * DAY
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")

    async def test_twice_a_week(self, running: tuple[Harness, Clock]) -> None:
        harness, clock = running
        token = await _token(harness, fnd="2/w")
        for day in (1, 4):
            clock.now = SUNDAY + timedelta(days=day)
            assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")
        clock.now = SUNDAY + timedelta(days=6)
        refused = await harness.call("은행-001", {}, token=token, api_type="scheduled")
        assert (_rsp(refused), refused.headers["retry-after"]) == ((429, "42901"), str(24 * 3600))

    async def test_each_asset_is_counted_on_its_own(self, running: tuple[Harness, Clock]) -> None:
        harness, clock = running
        token = await _token(harness)
        clock.now = SUNDAY + 10 * HOUR
        for account in (DEPOSIT, DEPOSIT_2):
            assert _rsp(
                await harness.call("은행-002", {"account_num": account}, token=token, api_type="scheduled")
            ) == (
                200,
                "00000",
            )
        for account in (DEPOSIT, DEPOSIT_2):
            assert _rsp(
                await harness.call("은행-002", {"account_num": account}, token=token, api_type="scheduled")
            ) == (
                429,
                "42901",
            )
        # another API of the same asset has its own count
        assert _rsp(await harness.call("은행-003", {"account_num": DEPOSIT}, token=token, api_type="scheduled")) == (
            200,
            "00000",
        )

    async def test_basic_apis_follow_fnd_cycle_and_additional_ones_add_cycle(
        self, running: tuple[Harness, Clock]
    ) -> None:
        harness, clock = running
        token = await _token(harness, fnd="1/w", add="3/w")
        clock.now = SUNDAY + 10 * HOUR
        # 은행-002 is 기본 (fnd_cycle 1/w), 은행-004 추가 (add_cycle 3/w)
        basic = {"account_num": DEPOSIT}
        assert _rsp(await harness.call("은행-002", basic, token=token, api_type="scheduled")) == (200, "00000")
        assert _rsp(await harness.call("은행-002", basic, token=token, api_type="scheduled")) == (429, "42901")
        additional = {"account_num": DEPOSIT, **history_range(31)}
        for _ in range(3):
            assert _rsp(await harness.call("은행-004", additional, token=token, api_type="scheduled")) == (200, "00000")
        assert _rsp(await harness.call("은행-004", additional, token=token, api_type="scheduled")) == (429, "42901")

    async def test_a_consent_without_scheduled_transmission_allows_none(self, running: tuple[Harness, Clock]) -> None:
        harness, _clock = running
        token = await _token(harness, is_scheduled=False)
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (403, "40301")
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="user-refresh")) == (200, "00000")

    async def test_a_new_consent_counts_afresh(self, running: tuple[Harness, Clock]) -> None:
        harness, clock = running
        clock.now = SUNDAY + 10 * HOUR
        token = await _token(harness)
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")
        token = await _token(harness)  # replaces the consent (and revokes its tokens)
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")
        assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (429, "42901")

    async def test_concurrent_first_pages_take_one_transmission(self, running: tuple[Harness, Clock]) -> None:
        harness, clock = running
        token = await _token(harness, add="2/w")
        clock.now = SUNDAY + 10 * HOUR
        request = {"account_num": DEPOSIT, **history_range(31), "limit": "100"}
        answers = await asyncio.gather(
            *(harness.call("은행-004", request, token=token, api_type="scheduled") for _ in range(5))
        )
        assert sorted(_rsp(answer) for answer in answers) == [(200, "00000")] * 2 + [(429, "42901")] * 3

    async def test_enforcement_can_be_switched_off(
        self, provider_settings: ProviderSettings, test_ca: CertificateAuthority
    ) -> None:
        async with _provider(_with(provider_settings, enforce_scheduled_cycle=False), test_ca) as (harness, clock):
            token = await _token(harness)
            clock.now = SUNDAY + 10 * HOUR
            for _ in range(3):
                assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")

    async def test_windows_are_checked_before_the_cycle(
        self, provider_settings: ProviderSettings, test_ca: CertificateAuthority
    ) -> None:
        async with _provider(_with(provider_settings, scheduled_windows=["0000:0600"]), test_ca) as (harness, clock):
            token = await _token(harness)
            clock.now = SUNDAY + 12 * HOUR
            # outside the window: refused without using up the week's transmission
            assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (500, "50009")
            clock.now = SUNDAY + DAY + 1 * HOUR
            assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (200, "00000")
            assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (429, "42901")
            clock.now = SUNDAY + DAY + 12 * HOUR
            assert _rsp(await harness.call("은행-001", {}, token=token, api_type="scheduled")) == (500, "50009")


class TestAvailability:
    async def test_calls_outside_the_windows_are_not_provider_failures(self, harness: Harness) -> None:
        """50009 answers at HTTP 500 (the code table) but is the caller's mistake: 지원-102 must not read it as a
        failure of the provider."""
        async with harness.db.transaction() as session:
            for rsp_code, status in (("50009", 500), ("50009", 500), ("50001", 500), ("00000", 200)):
                await repository.add_access_record(
                    session,
                    AccessRecord(at=utcnow(), api_id="은행-001", status_code=status, rsp_code=rsp_code, api_type="x"),
                )
        async with harness.db.transaction() as session:
            assert await repository.call_outcomes_since(session, utcnow() - timedelta(minutes=1)) == (4, 1)


ADMIN_KEY = "portal-admin-key"


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[RunningServer]:
    settings = PortalSettings(
        insecure_plain_http=True,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'portal.db'}",
        data_dir=tmp_path / "portal",
        admin_key=ADMIN_KEY,
        token_secret="portal-token-secret",
        credentials_key="portal-credentials-key",
    )
    server = await start_server("portal", create_portal(settings))
    try:
        yield server
    finally:
        await server.stop()


async def _admin(portal: RunningServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=portal.url, trust_env=False) as http:
        response = await http.post(path, json=body, headers={"x-admin-key": ADMIN_KEY})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


class TestPublishedThroughThePortal:
    async def test_what_operators_read_is_what_is_enforced(
        self, portal: RunningServer, db_url: str, trust_file: Path, test_ca: CertificateAuthority
    ) -> None:
        bank = await _admin(
            portal,
            "/admin/orgs",
            {
                "org_name": "정기은행",
                "org_type": "01",
                "industries": ["bank"],
                "domain": "http://127.0.0.1:9",
                "org_regno": "1234567890",
                "np_time_list": ["0000:0600"],
            },
        )
        settings = ProviderSettings(
            insecure_plain_http=True,
            org_code=bank["org_code"],
            industries=["bank"],
            database_url=db_url,
            portal_url=portal.url,
            support_client_id=bank["support_client_id"],
            support_client_secret=bank["support_client_secret"],
            token_secret="t",
            cursor_secret="c",
            consent_verifier="local",
            consent_trust_roots_file=trust_file,
            registry_sync_interval_s=0,
            enforce_scheduled_cycle=False,
        )
        async with _provider(settings, test_ca) as (harness, clock):
            consent = harness.consent(snd=bank["org_code"])
            form = harness.grant_form(ALICE, consent, nonce="schedule-nonce")
            form["org_code"] = bank["org_code"]
            form["tx_id"] = form["tx_id"].replace(PROVIDER, bank["org_code"])
            granted = await harness.post_token(form)
            assert granted.status_code == 200, granted.text
            token = granted.json()["access_token"]

            async def scheduled_at(moment: datetime) -> tuple[int, str]:
                clock.now = moment
                return _rsp(
                    await harness.call("은행-001", {"org_code": bank["org_code"]}, token=token, api_type="scheduled")
                )

            assert await scheduled_at(SUNDAY + 3 * HOUR) == (200, "00000")
            assert await scheduled_at(SUNDAY + 12 * HOUR) == (500, "50009")

            await _admin(portal, f"/admin/orgs/{bank['org_code']}", {"np_time_list": ["1200:1800"]})
            assert await harness.app.state.provider.registry.sync()
            assert await scheduled_at(SUNDAY + 12 * HOUR) == (200, "00000")
            assert await scheduled_at(SUNDAY + 3 * HOUR) == (500, "50009")

            # withdrawn at the portal: none published, and this provider's setting publishes none either
            await _admin(portal, f"/admin/orgs/{bank['org_code']}", {"np_time_list": []})
            assert await harness.app.state.provider.registry.sync()
            assert await scheduled_at(SUNDAY + 3 * HOUR) == (200, "00000")
            assert await scheduled_at(SUNDAY + 20 * HOUR) == (200, "00000")
