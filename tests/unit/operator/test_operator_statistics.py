"""Weekly statistics (지원-004) from the operator's own call records and consents, and 지원-104 (the portal asks for a
week again), served by the operator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from operator_fakes import BANK, BANK2, OPERATOR, FakeEcosystem, settings_for
from sqlalchemy import select
from test_operator_app import Harness, connect, sign_up

from openmydata.kit.clock import KST, to_date, today_kst
from openmydata.operator.app import create_app
from openmydata.operator.models import ApiCall, Consent, Person
from openmydata.operator.support import statistics_for
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.apis.support import OperatorStatisticsRequest
from openmydata.standard.statistics import next_sunday

PORTAL_ID = "portalcaller"
PORTAL_SECRET = "portalcallersecret"
SERVICE = "service"  # settings_for's service_client_id
WEEK = "20261115"
DAYS = ["20261108", "20261109", "20261110", "20261111", "20261112", "20261113", "20261114"]
BA01, BA02, BA04 = (CATALOGUE[api_id].api_code for api_id in ("은행-001", "은행-002", "은행-004"))
FAR = datetime(2027, 11, 1, tzinfo=UTC)


def kst(day: str, hhmm: str) -> datetime:
    return datetime.strptime(day + hhmm, "%Y%m%d%H%M").replace(tzinfo=KST).astimezone(UTC)


@dataclass
class PortalInbox:
    """지원-004 at the fake portal: reports kept (validated) or refused; everything else goes to the fakes."""

    fake: FakeEcosystem
    reports: list[OperatorStatisticsRequest] = field(default_factory=list)
    refuse: bool = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "portal.test" and request.url.path == CATALOGUE["지원-004"].path:
            assert request.headers["authorization"] == "Bearer portal-token"
            if self.refuse:
                return httpx.Response(400, json={"rsp_code": "40001", "rsp_msg": "refused"})
            self.reports.append(OperatorStatisticsRequest.model_validate_json(request.content))
            return httpx.Response(200, json={"rsp_code": "00000", "rsp_msg": "성공"})
        return self.fake.handle(request)


@dataclass
class World:
    h: Harness
    inbox: PortalInbox


@pytest.fixture
async def world(db_url: str, tmp_path: Path) -> AsyncIterator[World]:
    fake = FakeEcosystem()
    inbox = PortalInbox(fake)
    settings = settings_for(db_url, tmp_path / "operator-keys.json").model_copy(
        update={
            "portal_client_id": PORTAL_ID,
            "portal_client_secret": PORTAL_SECRET,
            "housekeeping_interval_s": 0,
            "statistics_interval_s": 0,
        }
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(inbox.handle)) as peers:
        app = create_app(settings, http_client=peers)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
        ):
            yield World(Harness(app, client, fake), inbox)


async def _add(world: World, *rows: Any) -> None:
    async with world.h.db.transaction() as session:
        session.add_all(rows)


def _call(at: datetime, org_code: str, api_id: str, api_type: str, ms: int, rsp_code: str | None = "00000") -> ApiCall:
    status = None if rsp_code is None else (200 if rsp_code.startswith("0") else 400)
    return ApiCall(
        at=at, org_code=org_code, api_id=api_id, api_type=api_type, status_code=status, rsp_code=rsp_code, rsp_ms=ms
    )


def _consent(
    tx: str,
    org_code: str,
    signed_at: datetime,
    status: str,
    *,
    person_id: int | None = None,
    end_date: datetime = FAR,
    withdrawn_at: datetime | None = None,
    error_code: str | None = None,
) -> Consent:
    return Consent(
        person_id=person_id,
        org_code=org_code,
        tx_id=tx,
        status=status,
        error_code=error_code,
        signed_at=signed_at,
        end_date=end_date,
        withdrawn_at=withdrawn_at,
    )


async def known_week(world: World) -> None:
    """Consents and calls of the week 20261108–20261114, figures worked out by hand in the tests."""
    await sign_up(world.h)
    async with world.h.db.transaction() as session:
        person_id = int(await session.scalar(select(Person.id)) or 0)
    withdrawal = kst("20261111", "1500")
    await _add(
        world,
        # the person at BANK: an old consent, superseded on Monday by a new one
        _consent("TX-C1", BANK, kst("20261101", "1000"), "superseded", person_id=person_id),
        _consent("TX-C2", BANK, kst("20261109", "1200"), "active", person_id=person_id),
        # a failed 통합인증-002 is no consent
        _consent("TX-F", BANK, kst("20261108", "1000"), "failed", person_id=person_id, error_code="40101"),
        # the person at BANK2: a consent that reached its end_date on Thursday morning
        _consent(
            "TX-C3", BANK2, kst("20261101", "1000"), "ended", person_id=person_id, end_date=kst("20261112", "1000")
        ),
        # someone who withdrew on Wednesday: two consents at BANK2, the second superseding the first
        _consent("TX-W1", BANK2, kst("20261108", "0900"), "withdrawn", withdrawn_at=withdrawal),
        _consent("TX-W2", BANK2, kst("20261110", "0900"), "withdrawn", withdrawn_at=withdrawal),
        # calls
        _call(kst("20261108", "1000"), BANK, "은행-001", "user-consent", 200),
        _call(kst("20261108", "1005"), BANK, "은행-001", "user-consent", 400),
        _call(kst("20261108", "2300"), BANK, "은행-004", "scheduled", 120),
        _call(kst("20261110", "1200"), BANK2, "은행-001", "user-refresh", 900, rsp_code=None),  # no answer
        _call(kst("20261110", "1201"), BANK2, "은행-001", "user-refresh", 100, rsp_code="40101"),
        _call(kst("20261112", "0800"), BANK, "은행-002", "user-refresh", 10, rsp_code="00001"),
        _call(kst("20261115", "0000"), BANK, "은행-002", "user-refresh", 10),  # the next week
    )


def _entry(report: OperatorStatisticsRequest, stat_date: str, org_code: str) -> Any:
    (row,) = [row for row in report.stat_date_list if row.stat_date == stat_date]
    (entry,) = [entry for entry in row.org_list if entry.org_code == org_code]
    return entry


def _slots(entry: Any, api_code: str) -> dict[str, tuple[int, int, int, int, int]]:
    (api,) = [api for api in entry.api_type_list if api.api_type == api_code]
    return {
        slot.tm_slot: (slot.success_api_cnt, slot.fail_api_cnt, slot.rsp_total, slot.rsp_avg, slot.rsp_stdev)
        for slot in api.tm_slot_list
    }


class TestCallRecords:
    async def test_every_collection_call_is_recorded_with_its_answer_time(self, world: World) -> None:
        token = await sign_up(world.h)
        await connect(world.h, token, [BANK, BANK2])
        async with world.h.db.transaction() as session:
            calls = list((await session.execute(select(ApiCall).order_by(ApiCall.id))).scalars())
        assert len(calls) == len(world.h.fake.bank_calls.items) > 0
        assert {call.org_code for call in calls} == {BANK, BANK2}
        assert all(call.api_type == "user-consent" and call.rsp_ms >= 0 for call in calls)
        assert {(call.status_code, call.rsp_code) for call in calls if call.org_code == BANK2} == {(500, "50005")}
        assert any(call.rsp_code == "00000" for call in calls if call.org_code == BANK)


class TestWeeklyPayload:
    async def test_two_reports_with_every_provider_on_every_day(self, world: World) -> None:
        await known_week(world)
        reports = await statistics_for(world.h.app).reports(WEEK)
        assert [(r.type, r.client_id, r.mydata_org_code, r.inquiry_date) for r in reports] == [
            ("1", SERVICE, OPERATOR, WEEK),
            ("2", SERVICE, OPERATOR, WEEK),
        ]
        for report in reports:
            assert [row.stat_date for row in report.stat_date_list] == DAYS
            assert all([e.org_code for e in row.org_list] == [BANK, BANK2] for row in report.stat_date_list)
            assert OperatorStatisticsRequest.model_validate(report.to_wire()) == report

    async def test_calls_per_api_band_and_type(self, world: World) -> None:
        await known_week(world)
        scheduled, user = await statistics_for(world.h.app).reports(WEEK)
        sunday = _entry(user, "20261108", BANK)
        assert _slots(sunday, BA01) == {"01": (2, 0, 600, 300, 100), "02": (0, 0, 0, 0, 0)}
        assert [api.api_type for api in sunday.api_type_list] == [BA01]
        assert _slots(_entry(scheduled, "20261108", BANK), BA04) == {"01": (0, 0, 0, 0, 0), "02": (1, 0, 120, 120, 0)}
        # no answer and a refusal are both failures; their times still count
        assert _slots(_entry(user, "20261110", BANK2), BA01) == {"01": (0, 2, 1000, 500, 400), "02": (0, 0, 0, 0, 0)}
        # 00001 (nothing new) is a success; 08:00 is off-peak
        assert _slots(_entry(user, "20261112", BANK), BA02) == {"01": (0, 0, 0, 0, 0), "02": (1, 0, 10, 10, 0)}
        assert _entry(user, "20261114", BANK).api_type_cnt == 0

    async def test_consents_new_revoked_and_held(self, world: World) -> None:
        await known_week(world)
        scheduled, user = await statistics_for(world.h.app).reports(WEEK)
        bank = [(_entry(user, d, BANK).consent_new, _entry(user, d, BANK).consent_own) for d in DAYS]
        assert bank == [(0, 1), (1, 1), (0, 1), (0, 1), (0, 1), (0, 1), (0, 1)]
        bank2 = [(e.consent_new, e.consent_revoke, e.consent_own) for e in (_entry(user, d, BANK2) for d in DAYS)]
        assert bank2 == [(1, 0, 2), (0, 0, 2), (1, 0, 2), (0, 1, 1), (0, 0, 0), (0, 0, 0), (0, 0, 0)]
        assert all(_entry(user, d, BANK).consent_revoke == 0 for d in DAYS)
        assert all(
            (e.consent_new, e.consent_revoke, e.consent_own) == (0, 0, None)
            for e in (_entry(scheduled, d, org) for d in DAYS for org in (BANK, BANK2))
        )


async def _bearer(world: World) -> dict[str, str]:
    response = await world.h.client.post(
        CATALOGUE["지원-101"].path,
        data={
            "grant_type": "client_credentials",
            "client_id": PORTAL_ID,
            "client_secret": PORTAL_SECRET,
            "scope": "manage",
        },
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _resend(world: World, headers: dict[str, str] | None = None, **params: str) -> httpx.Response:
    query = {"org_code": OPERATOR, "org_type": "01", "type": "0", "inquiry_date": WEEK, **params}
    return await world.h.client.get(
        CATALOGUE["지원-104"].path, params=query, headers=headers if headers is not None else await _bearer(world)
    )


class TestResend:
    async def test_the_week_is_sent_again(self, world: World) -> None:
        await known_week(world)
        response = await _resend(world)
        assert response.status_code == 200, response.text
        assert response.json()["rsp_code"] == "00000"
        assert [(r.type, r.inquiry_date) for r in world.inbox.reports] == [("1", WEEK), ("2", WEEK)]
        sunday = _entry(world.inbox.reports[1], "20261108", BANK)
        assert _slots(sunday, BA01)["01"] == (2, 0, 600, 300, 100)

        world.inbox.reports.clear()
        assert (await _resend(world, type="1")).json()["rsp_code"] == "00000"
        assert [r.type for r in world.inbox.reports] == ["1"]

    @pytest.mark.parametrize(
        "params",
        [{"inquiry_date": "20261116"}, {"org_type": "03"}, {"org_code": "OPERATOR02"}, {"type": "9"}],
    )
    async def test_a_malformed_request_is_40001(self, world: World, params: dict[str, str]) -> None:
        response = await _resend(world, **params)
        assert (response.status_code, response.json()["rsp_code"]) == (400, "40001")
        assert world.inbox.reports == []

    async def test_a_week_that_has_not_begun_is_40001(self, world: World) -> None:
        later = to_date(next_sunday(today_kst()) + timedelta(days=7))
        response = await _resend(world, inquiry_date=later)
        assert (response.status_code, response.json()["rsp_code"]) == (400, "40001")

    async def test_without_the_portal_s_token_nothing_is_sent(self, world: World) -> None:
        response = await _resend(world, headers={})
        assert (response.status_code, response.json()["rsp_code"]) == (401, "40101")
        assert world.inbox.reports == []

    async def test_a_portal_refusal_is_50002(self, world: World) -> None:
        world.inbox.refuse = True
        response = await _resend(world)
        assert (response.status_code, response.json()["rsp_code"]) == (500, "50002")

    async def test_status_is_not_served_by_operators(self, world: World) -> None:
        assert CATALOGUE["지원-102"].served_by.value == "provider"
        response = await world.h.client.get(CATALOGUE["지원-102"].path, params={"org_code": OPERATOR})
        assert (response.status_code, response.json()["rsp_code"]) == (404, "40401")


class TestWeeklyDuty:
    async def test_the_latest_week_is_sent_once_and_a_refusal_is_retried(self, world: World) -> None:
        await known_week(world)
        statistics = statistics_for(world.h.app)
        world.inbox.refuse = True
        assert await statistics.send_due(date(2026, 11, 18)) is False
        world.inbox.refuse = False
        assert await statistics.send_due(date(2026, 11, 19)) is True
        assert [r.inquiry_date for r in world.inbox.reports] == [WEEK, WEEK]
        assert await statistics.send_due(date(2026, 11, 21)) is False
        assert len(world.inbox.reports) == 2
