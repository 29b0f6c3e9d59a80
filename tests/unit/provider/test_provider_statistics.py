"""Weekly statistics (지원-005) from the provider's access records and consents, and the support APIs the provider
serves the portal: 지원-101 (token), 지원-102 (availability) and 지원-104 (re-send a week)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from starlette.requests import Request

from openmydata.kit.clock import KST, to_date, today_kst, utcnow
from openmydata.kit.db import Database
from openmydata.kit.pki import CertificateAuthority
from openmydata.provider import repository
from openmydata.provider.app import create_app
from openmydata.provider.importer import import_customers
from openmydata.provider.models import CONSENT_REPLACED, CONSENT_REVOKED, AccessRecord, Consent
from openmydata.provider.registry import register_service
from openmydata.provider.settings import ProviderSettings
from openmydata.provider.statistics import ProviderStatistics
from openmydata.provider.support import _portal_only, support_for
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.apis.support import ProviderStatisticsRequest
from openmydata.standard.codes import StandardError
from openmydata.standard.peers import PEER_STATE, Peer
from openmydata.standard.statistics import next_sunday

from .conftest import (
    ALICE,
    BOB,
    CLIENT_ID,
    CLIENT_SECRET,
    OPERATOR,
    OTHER_CLIENT_ID,
    OTHER_CLIENT_SECRET,
    OTHER_OPERATOR,
    PROVIDER,
    Harness,
    alice,
    bob,
)

PORTAL_ORG = "W1PRTL0000"
PORTAL_SERIAL = "1018100000"
PORTAL_ID = "portalcaller"
PORTAL_SECRET = "portalcallersecret"
WEEK = "20261115"  # a Sunday: the report on the week 20261108 (Sun) … 20261114 (Sat)
DAYS = ["20261108", "20261109", "20261110", "20261111", "20261112", "20261113", "20261114"]
BA01, BA02, BA04 = (CATALOGUE[api_id].api_code for api_id in ("은행-001", "은행-002", "은행-004"))
OK = {"rsp_code": "00000", "rsp_msg": "성공"}


def kst(day: str, hhmm: str) -> datetime:
    """An Asia/Seoul wall-clock moment, as the UTC datetime the provider stores."""
    return datetime.strptime(day + hhmm, "%Y%m%d%H%M").replace(tzinfo=KST).astimezone(UTC)


@dataclass
class FakePortal:
    """지원-001/002/003 answered empty; 지원-005 reports kept (validated) or refused."""

    reports: list[ProviderStatisticsRequest] = field(default_factory=list)
    refuse: bool = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/mgmts/oauth/2.0/token":
            return httpx.Response(
                200, json={"token_type": "Bearer", "access_token": "p-token", "expires_in": "3600", "scope": "manage"}
            )
        if path in ("/v1/mgmts/orgs", "/v1/mgmts/services"):
            return httpx.Response(
                200, json={**OK, "search_timestamp": "20261101000000", "org_cnt": "0", "org_list": []}
            )
        if path == CATALOGUE["지원-005"].path:
            assert request.headers["authorization"] == "Bearer p-token"
            if self.refuse:
                return httpx.Response(403, json={"rsp_code": "40301", "rsp_msg": "refused"})
            self.reports.append(ProviderStatisticsRequest.model_validate_json(request.content))
            return httpx.Response(200, json=OK)
        return httpx.Response(404, json={"rsp_code": "40401", "rsp_msg": "no such API"})

    def report(self, client_id: str, stat_type: str) -> ProviderStatisticsRequest:
        (found,) = [r for r in self.reports if r.client_id == client_id and r.type == stat_type]
        return found


@dataclass
class World:
    h: Harness
    portal: FakePortal

    @property
    def db(self) -> Database:
        return self.h.db

    @property
    def statistics(self) -> ProviderStatistics:
        return support_for(self.h.app).statistics


@pytest.fixture
async def world(provider_settings: ProviderSettings, test_ca: CertificateAuthority) -> AsyncIterator[World]:
    settings = provider_settings.model_copy(
        update={
            "portal_url": "http://portal.test",
            "support_client_id": "support",
            "support_client_secret": "supportsecret",
            "portal_client_id": PORTAL_ID,
            "portal_client_secret": PORTAL_SECRET,
            "portal_serial_num": PORTAL_SERIAL,
            "statistics_interval_s": 0,
        }
    )
    portal = FakePortal()
    async with httpx.AsyncClient(transport=httpx.MockTransport(portal.handle)) as peers:
        app = create_app(settings, http_client=peers)
        async with app.router.lifespan_context(app):
            db: Database = app.state.provider.db
            await register_service(db, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_code=OPERATOR)
            await register_service(
                db, client_id=OTHER_CLIENT_ID, client_secret=OTHER_CLIENT_SECRET, org_code=OTHER_OPERATOR
            )
            await import_customers(db, [alice(), bob()])
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
                yield World(Harness(app=app, http=http, db=db, ca=test_ca), portal)


async def _consents(db: Database) -> list[Consent]:
    async with db.transaction() as session:
        return list((await session.execute(select(Consent).order_by(Consent.created_at, Consent.id))).scalars())


async def _set_consent(db: Database, consent_id: str, **values: Any) -> None:
    async with db.transaction() as session:
        await session.execute(update(Consent).where(Consent.id == consent_id).values(**values))


async def _access(
    db: Database,
    at: datetime,
    api_id: str,
    api_type: str | None,
    consent_id: str | None,
    ms: int,
    *,
    rsp_code: str = "00000",
    status: int = 200,
) -> None:
    async with db.transaction() as session:
        session.add(
            AccessRecord(
                at=at,
                api_id=api_id,
                api_type=api_type,
                rcv_org_code=OPERATOR,
                consent_id=consent_id,
                status_code=status,
                rsp_code=rsp_code,
                rsp_ms=ms,
            )
        )


async def known_week(w: World) -> None:
    """Consents and calls of the week 20261108–20261114 with figures worked out by hand (see the tests)."""
    h = w.h
    await h.grant(ALICE)
    await h.grant(ALICE)  # replaces the first
    await h.grant(BOB)
    await h.grant(
        ALICE,
        h.consent(rcv=OTHER_OPERATOR),
        client_id=OTHER_CLIENT_ID,
        client_secret=OTHER_CLIENT_SECRET,
        operator=OTHER_OPERATOR,
    )
    alice_old, alice_new, bob_consent, other = await _consents(w.db)
    assert (alice_old.status, alice_new.client_id, other.client_id) == (CONSENT_REPLACED, CLIENT_ID, OTHER_CLIENT_ID)
    await _set_consent(w.db, alice_old.id, created_at=kst("20261101", "1000"), updated_at=kst("20261108", "1000"))
    await _set_consent(w.db, alice_new.id, created_at=kst("20261108", "1000"))
    await _set_consent(
        w.db,
        bob_consent.id,
        created_at=kst("20261109", "0800"),
        status=CONSENT_REVOKED,
        updated_at=kst("20261111", "1500"),
    )
    await _set_consent(w.db, other.id, created_at=kst("20261112", "1200"))
    db, consent = w.db, alice_new.id
    # Sunday, user-involved 은행-001: three calls in the peak band (one refused), one in the evening
    await _access(db, kst("20261108", "1000"), "은행-001", "user-consent", consent, 100)
    await _access(db, kst("20261108", "1100"), "은행-001", "user-search", consent, 300)
    await _access(db, kst("20261108", "1200"), "은행-001", "user-refresh", consent, 200, rsp_code="40101", status=401)
    await _access(db, kst("20261108", "2000"), "은행-001", "user-consent", consent, 50)
    # Sunday night, scheduled 은행-004
    await _access(db, kst("20261108", "0300"), "은행-004", "scheduled", consent, 1000)
    await _access(db, kst("20261108", "0310"), "은행-004", "scheduled", consent, 1001)
    # Tuesday, the band edges: 09:00 is peak, 18:00 is not
    await _access(db, kst("20261110", "0900"), "은행-002", "user-search", consent, 70)
    await _access(db, kst("20261110", "1800"), "은행-002", "user-search", consent, 30)
    # not counted: no x-api-type, no consent (refused before the token was read), outside the week
    await _access(db, kst("20261108", "1130"), "은행-001", None, consent, 5, rsp_code="40002", status=400)
    await _access(db, kst("20261108", "1140"), "은행-001", "user-consent", None, 5, rsp_code="40101", status=401)
    await _access(db, kst("20261107", "2359"), "은행-001", "user-consent", consent, 5)
    await _access(db, kst("20261115", "0000"), "은행-001", "user-consent", consent, 5)
    # the other operator's service, Friday
    await _access(db, kst("20261113", "1000"), "은행-001", "user-refresh", other.id, 40)


def _day(report: ProviderStatisticsRequest, stat_date: str) -> Any:
    (row,) = [row for row in report.stat_date_list if row.stat_date == stat_date]
    (entry,) = row.org_list
    return entry


def _slots(entry: Any, api_code: str) -> dict[str, tuple[int, int, int, int, int]]:
    (api,) = [api for api in entry.api_type_list if api.api_type == api_code]
    assert api.tm_slot_cnt == 2
    return {
        slot.tm_slot: (slot.success_api_cnt, slot.fail_api_cnt, slot.rsp_total, slot.rsp_avg, slot.rsp_stdev)
        for slot in api.tm_slot_list
    }


class TestWeeklyPayload:
    async def test_one_report_per_service_and_type_with_seven_days(self, world: World) -> None:
        await known_week(world)
        reports = await world.statistics.reports(WEEK)
        assert [(r.client_id, r.type, r.mydata_org_code) for r in reports] == [
            (CLIENT_ID, "1", OPERATOR),
            (CLIENT_ID, "2", OPERATOR),
            (OTHER_CLIENT_ID, "1", OTHER_OPERATOR),
            (OTHER_CLIENT_ID, "2", OTHER_OPERATOR),
        ]
        for report in reports:
            assert report.org_code == PROVIDER
            assert report.inquiry_date == WEEK
            assert report.stat_date_cnt == 7
            assert [row.stat_date for row in report.stat_date_list] == DAYS
            assert all(
                [entry.org_code for entry in row.org_list] == [report.mydata_org_code] for row in report.stat_date_list
            )
            assert ProviderStatisticsRequest.model_validate(report.to_wire()) == report

    async def test_counts_response_times_and_bands(self, world: World) -> None:
        await known_week(world)
        user = {r.client_id: r for r in await world.statistics.reports(WEEK, ["2"])}[CLIENT_ID]
        sunday = _day(user, "20261108")
        assert [api.api_type for api in sunday.api_type_list] == [BA01]
        # peak: 100, 300 and 200 ms (the 200 refused): mean 200, population stdev sqrt(20000/3) = 81.6 → 82
        assert _slots(sunday, BA01) == {"01": (2, 1, 600, 200, 82), "02": (1, 0, 50, 50, 0)}
        tuesday = _day(user, "20261110")
        assert _slots(tuesday, BA02) == {"01": (1, 0, 70, 70, 0), "02": (1, 0, 30, 30, 0)}
        assert all(_day(user, day).api_type_cnt == 0 for day in ("20261109", "20261111", "20261114"))

        scheduled = {r.client_id: r for r in await world.statistics.reports(WEEK, ["1"])}[CLIENT_ID]
        night = _day(scheduled, "20261108")
        # 1000 and 1001 ms: mean 1000.5 and stdev 0.5, both rounded half up
        assert _slots(night, BA04) == {"01": (0, 0, 0, 0, 0), "02": (2, 0, 2001, 1001, 1)}
        assert [api.api_type for api in night.api_type_list] == [BA04]

    async def test_consents_new_revoked_and_held_per_day(self, world: World) -> None:
        await known_week(world)
        reports = {(r.client_id, r.type): r for r in await world.statistics.reports(WEEK)}
        user = reports[(CLIENT_ID, "2")]
        figures = [(e.consent_new, e.consent_revoke, e.consent_own) for e in (_day(user, day) for day in DAYS)]
        # Sun: Alice's new consent replaced her old one (not a revocation); Mon: Bob; Wed: Bob revoked
        assert figures == [(1, 0, 1), (1, 0, 2), (0, 0, 2), (0, 1, 1), (0, 0, 1), (0, 0, 1), (0, 0, 1)]
        scheduled = reports[(CLIENT_ID, "1")]
        assert all(
            (e.consent_new, e.consent_revoke, e.consent_own) == (0, 0, None)
            for e in (_day(scheduled, day) for day in DAYS)
        )
        other = reports[(OTHER_CLIENT_ID, "2")]
        assert [_day(other, day).consent_own for day in DAYS] == [0, 0, 0, 0, 1, 1, 1]
        assert _day(other, "20261112").consent_new == 1
        assert _slots(_day(other, "20261113"), BA01) == {"01": (1, 0, 40, 40, 0), "02": (0, 0, 0, 0, 0)}

    async def test_a_real_call_records_its_answer_time_and_is_counted(self, world: World) -> None:
        tokens = await world.h.grant(ALICE)
        response = await world.h.call("은행-001", {"limit": 10}, token=tokens["access_token"], api_type="user-search")
        assert response.status_code == 200
        async with world.db.transaction() as session:
            (record,) = await repository.access_records(session)
        assert record.rsp_ms is not None
        assert record.rsp_ms >= 0
        today = today_kst()
        (report,) = await world.statistics.reports(to_date(next_sunday(today)), ["2"])
        entry = _day(report, to_date(today))
        slots = _slots(entry, BA01)
        assert sum(success for success, *_ in slots.values()) == 1
        assert sum(total for _s, _f, total, *_ in slots.values()) == record.rsp_ms
        assert (entry.consent_new, entry.consent_own) == (1, 1)


async def _token(world: World, secret: str = PORTAL_SECRET) -> httpx.Response:
    return await world.h.http.post(
        "/mgmts/oauth/2.0/token",
        data={"grant_type": "client_credentials", "client_id": PORTAL_ID, "client_secret": secret, "scope": "manage"},
    )


async def _bearer(world: World) -> dict[str, str]:
    response = await _token(world)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _resend(world: World, headers: dict[str, str] | None = None, **params: str) -> httpx.Response:
    query = {"org_code": PROVIDER, "org_type": "03", "type": "0", "inquiry_date": WEEK, **params}
    return await world.h.http.get(
        CATALOGUE["지원-104"].path, params=query, headers=headers if headers is not None else await _bearer(world)
    )


class TestSupportToken:
    async def test_the_portal_pair_gets_a_manage_token_and_nothing_else_does(self, world: World) -> None:
        response = await _token(world)
        assert response.status_code == 200
        assert response.json()["scope"] == "manage"
        assert response.headers["cache-control"] == "no-store"
        wrong = await _token(world, secret="wrong")
        assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")

    async def test_a_token_of_another_key_is_refused(self, world: World) -> None:
        forged = await _resend(world, headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"})
        missing = await _resend(world, headers={})
        assert [(r.status_code, r.json()["rsp_code"]) for r in (forged, missing)] == [(401, "40101"), (401, "40101")]
        assert world.portal.reports == []


class TestResend:
    async def test_the_asked_week_is_sent_again_before_the_answer(self, world: World) -> None:
        await known_week(world)
        response = await _resend(world)
        assert response.status_code == 200, response.text
        assert response.json()["rsp_code"] == "00000"
        assert sorted((r.client_id, r.type) for r in world.portal.reports) == [
            (CLIENT_ID, "1"),
            (CLIENT_ID, "2"),
            (OTHER_CLIENT_ID, "1"),
            (OTHER_CLIENT_ID, "2"),
        ]
        sunday = _day(world.portal.report(CLIENT_ID, "2"), "20261108")
        assert _slots(sunday, BA01) == {"01": (2, 1, 600, 200, 82), "02": (1, 0, 50, 50, 0)}

        world.portal.reports.clear()
        only_user = await _resend(world, type="2")
        assert only_user.json()["rsp_code"] == "00000"
        assert sorted(r.type for r in world.portal.reports) == ["2", "2"]

    @pytest.mark.parametrize(
        ("params", "reason"),
        [
            ({"inquiry_date": "20261114"}, "a Saturday"),
            ({"inquiry_date": "2026111"}, "not a date"),
            ({"org_code": "BANK000009"}, "another provider"),
            ({"org_type": "01"}, "an operator's org_type"),
            ({"type": "3"}, "no such type"),
        ],
    )
    async def test_a_malformed_request_is_40001(self, world: World, params: dict[str, str], reason: str) -> None:
        response = await _resend(world, **params)
        assert (response.status_code, response.json()["rsp_code"]) == (400, "40001"), reason
        assert world.portal.reports == []

    async def test_a_week_that_has_not_begun_is_40001_and_the_current_one_is_sent(self, world: World) -> None:
        current = next_sunday(today_kst())
        later = await _resend(world, inquiry_date=to_date(current + timedelta(days=7)))
        assert (later.status_code, later.json()["rsp_code"]) == (400, "40001")
        await world.h.grant(ALICE)
        now = await _resend(world, inquiry_date=to_date(current))
        assert now.json()["rsp_code"] == "00000"
        assert len(world.portal.reports) == 2

    async def test_a_portal_refusal_is_50002(self, world: World) -> None:
        await known_week(world)
        world.portal.refuse = True
        response = await _resend(world)
        assert (response.status_code, response.json()["rsp_code"]) == (500, "50002")


class TestWeeklyDuty:
    async def test_the_latest_week_is_sent_once(self, world: World) -> None:
        await known_week(world)
        statistics = world.statistics
        assert await statistics.send_due(date(2026, 11, 17)) is True
        assert {r.inquiry_date for r in world.portal.reports} == {WEEK}
        assert len(world.portal.reports) == 4
        assert await statistics.send_due(date(2026, 11, 21)) is False
        assert len(world.portal.reports) == 4

    async def test_a_refused_week_is_tried_again_next_time(self, world: World) -> None:
        await known_week(world)
        world.portal.refuse = True
        assert await world.statistics.send_due(date(2026, 11, 15)) is False
        world.portal.refuse = False
        assert await world.statistics.send_due(date(2026, 11, 16)) is True
        assert len(world.portal.reports) == 4


async def _status(world: World, org_code: str = PROVIDER) -> httpx.Response:
    return await world.h.http.get(
        CATALOGUE["지원-102"].path, params={"org_code": org_code}, headers=await _bearer(world)
    )


async def _recent_failures(world: World, count: int, status: int) -> None:
    for _ in range(count):
        await _access(world.db, utcnow() - timedelta(seconds=30), "은행-001", "user-consent", None, 5, status=status)


class TestStatus:
    async def test_up_while_the_database_answers_and_calls_succeed(self, world: World) -> None:
        response = await _status(world)
        assert response.status_code == 200
        assert (response.json()["rsp_code"], response.json()["availability"]) == ("00000", "01")

    async def test_callers_mistakes_do_not_count_but_own_failures_do(self, world: World) -> None:
        await _recent_failures(world, 10, 401)
        assert (await _status(world)).json()["availability"] == "01"
        await _recent_failures(world, 11, 500)
        assert (await _status(world)).json()["availability"] == "02"

    async def test_old_failures_are_forgotten(self, world: World) -> None:
        for _ in range(12):
            await _access(world.db, utcnow() - timedelta(hours=1), "은행-001", "user-consent", None, 5, status=500)
        assert (await _status(world)).json()["availability"] == "01"

    async def test_a_database_that_does_not_answer_is_a_failure(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async def broken(*_args: Any) -> tuple[int, int]:
            raise OperationalError("SELECT 1", {}, Exception("database is gone"))

        monkeypatch.setattr(repository, "call_outcomes_since", broken)
        assert (await _status(world)).json()["availability"] == "02"

    async def test_maintenance_and_another_org_code(self, world: World) -> None:
        world.h.app.state.provider.settings.maintenance = True
        assert (await _status(world)).json()["availability"] == "03"
        other = await _status(world, "BANK000009")
        assert (other.status_code, other.json()["rsp_code"]) == (400, "40001")


class TestOnlyThePortal:
    def _request(self, world: World, org_codes: frozenset[str]) -> Request:
        peer = Peer(serial_num="x", fingerprint="f", thumbprint="t", org_codes=org_codes)
        return Request({"type": "http", "app": world.h.app, "state": {PEER_STATE: peer}, "headers": []})

    async def test_the_portal_certificate_is_known_and_admitted(self, world: World) -> None:
        registered = world.h.app.state.peers.orgs()
        assert registered[PORTAL_ORG].serial_num == PORTAL_SERIAL
        _portal_only(self._request(world, frozenset({PORTAL_ORG})))

    async def test_an_operator_certificate_is_refused_with_40103(self, world: World) -> None:
        with pytest.raises(StandardError) as refused:
            _portal_only(self._request(world, frozenset({OPERATOR})))
        assert refused.value.rsp_code == "40103"
