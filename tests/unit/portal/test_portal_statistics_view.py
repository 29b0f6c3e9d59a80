"""The portal's view of the weekly statistics it received (GET /admin/statistics), and the re-send it asks an
institution for (POST /admin/statistics/request: 지원-101, then 지원-104, during which the institution sends the
week again through 지원-004/005)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from sqlalchemy import select

from openmydata.kit.db import Database
from openmydata.portal.app import create_app
from openmydata.portal.models import audit_log
from openmydata.standard.apis import CATALOGUE

from .conftest import ADMIN_KEY, FakeClock, Portal, portal_settings

WEEK = "20261122"
DAYS = [f"202611{day}" for day in range(15, 22)]
ADMIN = {"x-admin-key": ADMIN_KEY}


def slot(band: str, success: int, fail: int, total: int, avg: int, stdev: int = 0) -> dict[str, str]:
    return {
        "tm_slot": band,
        "rsp_avg": str(avg),
        "rsp_total": str(total),
        "rsp_stdev": str(stdev),
        "success_api_cnt": str(success),
        "fail_api_cnt": str(fail),
    }


def api(code: str, *slots: dict[str, str]) -> dict[str, Any]:
    return {"api_type": code, "tm_slot_cnt": str(len(slots)), "tm_slot_list": list(slots)}


def entry(org_code: str, apis: list[dict[str, Any]], *, new: int = 0, revoke: int = 0, own: int | None = None) -> Any:
    values: dict[str, Any] = {
        "org_code": org_code,
        "consent_new": str(new),
        "consent_revoke": str(revoke),
        "api_type_cnt": str(len(apis)),
        "api_type_list": apis,
    }
    if own is not None:
        values["consent_own"] = str(own)
    return values


def report(stat_type: str, client_id: str, days: dict[str, Any], *, inquiry_date: str = WEEK, **top: str) -> Any:
    """A weekly report; `days` maps a stat_date to its one org_list entry (the other days are left out)."""
    return {
        "type": stat_type,
        "client_id": client_id,
        "inquiry_date": inquiry_date,
        "stat_date_cnt": str(len(days)),
        "stat_date_list": [
            {"stat_date": day, "org_cnt": "1", "org_list": [value]} for day, value in sorted(days.items())
        ],
        **top,
    }


@dataclass
class Parties:
    operator: dict[str, Any]
    bank: dict[str, Any]
    service: dict[str, Any]
    second_service: dict[str, Any]


async def _parties(portal: Portal) -> Parties:
    operator = await portal.register("03", [], name="테스트마이데이터")
    bank = await portal.register("01", ["bank"], name="테스트은행")
    service = await portal.admin(
        "/admin/services",
        {"org_code": operator["org_code"], "service_name": "자산관리", "redirect_uri": "https://op.test/cb"},
    )
    second = await portal.admin(
        "/admin/services",
        {"org_code": operator["org_code"], "service_name": "가계부", "redirect_uri": "https://op.test/cb2"},
    )
    return Parties(operator, bank, service, second)


async def _send(http: httpx.AsyncClient, headers: dict[str, str], api_id: str, body: dict[str, Any]) -> None:
    response = await http.post(CATALOGUE[api_id].path, json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["rsp_code"] == "00000"


async def bank_reports(portal: Portal, p: Parties) -> None:
    """Three reports of the bank for the week of 20261122 and one for the week before."""
    op = p.operator["org_code"]
    top = {"org_code": p.bank["org_code"], "mydata_org_code": op}
    headers = await portal.bearer(p.bank)
    user_days = {day: entry(op, [], own=4) for day in DAYS}
    user_days["20261115"] = entry(
        op, [api("BA01", slot("01", 3, 1, 400, 100, 10), slot("02", 1, 0, 50, 50))], new=2, own=5
    )
    user_days["20261116"] = entry(
        op, [api("BA02", slot("01", 2, 0, 300, 150, 5), slot("02", 0, 0, 0, 0))], revoke=1, own=4
    )
    await _send(portal.http, headers, "지원-005", report("2", p.service["client_id"], user_days, **top))
    scheduled_days = {day: entry(op, []) for day in DAYS}
    scheduled_days["20261115"] = entry(op, [api("BA04", slot("01", 0, 0, 0, 0), slot("02", 2, 0, 2000, 1000))])
    await _send(portal.http, headers, "지원-005", report("1", p.service["client_id"], scheduled_days, **top))
    second_days = {day: entry(op, [], own=1) for day in DAYS}
    second_days["20261115"] = entry(op, [api("BA01", slot("01", 1, 0, 100, 100), slot("02", 0, 0, 0, 0))], new=1, own=1)
    await _send(portal.http, headers, "지원-005", report("2", p.second_service["client_id"], second_days, **top))
    earlier_days = {f"202611{day:02d}": entry(op, [], own=9) for day in range(8, 15)}
    await _send(
        portal.http,
        headers,
        "지원-005",
        report("2", p.service["client_id"], earlier_days, inquiry_date="20261115", **top),
    )


async def _view(portal: Portal, **params: str) -> httpx.Response:
    return await portal.http.get("/admin/statistics", params=params, headers=ADMIN)


def _slots(figures: dict[str, Any], code: str) -> dict[str, tuple[int, int, int, int]]:
    (found,) = [item for item in figures["api_type_list"] if item["api_type"] == code]
    return {
        s["tm_slot"]: (s["success_api_cnt"], s["fail_api_cnt"], s["rsp_total"], s["rsp_avg"])
        for s in found["tm_slot_list"]
    }


class TestView:
    async def test_the_week_s_rows_summed_per_day_type_and_counterpart(self, portal: Portal) -> None:
        p = await _parties(portal)
        await bank_reports(portal, p)
        response = await _view(portal, org_code=p.bank["org_code"], week=WEEK)
        assert response.status_code == 200, response.text
        view = response.json()
        assert (view["org_code"], view["inquiry_date"], view["stat_dates"]) == (p.bank["org_code"], WEEK, DAYS)
        assert sorted((r["api_id"], r["client_id"], r["type"]) for r in view["reports"]) == sorted(
            [
                ("지원-005", p.service["client_id"], "2"),
                ("지원-005", p.service["client_id"], "1"),
                ("지원-005", p.second_service["client_id"], "2"),
            ]
        )
        rows = {(r["stat_date"], r["type"]): r for r in view["rows"]}
        assert len(view["rows"]) == 14
        assert {r["org_code"] for r in view["rows"]} == {p.operator["org_code"]}
        sunday = rows[("20261115", "2")]
        # both services' rows: 3 + 1 successes, 400 + 100 ms over 5 calls
        assert (sunday["consent_new"], sunday["consent_revoke"], sunday["consent_own"]) == (3, 0, 6)
        assert _slots(sunday, "BA01") == {"01": (4, 1, 500, 100), "02": (1, 0, 50, 50)}
        assert (sunday["success_api_cnt"], sunday["fail_api_cnt"], sunday["rsp_total"], sunday["rsp_avg"]) == (
            5,
            1,
            550,
            92,
        )
        monday = rows[("20261116", "2")]
        assert (monday["consent_revoke"], monday["consent_own"]) == (1, 5)
        assert rows[("20261115", "1")]["consent_own"] is None
        assert _slots(rows[("20261115", "1")], "BA04") == {"01": (0, 0, 0, 0), "02": (2, 0, 2000, 1000)}
        assert rows[("20261118", "2")]["api_type_list"] == []

        totals = {t["type"]: t for t in view["totals"]}
        user = totals["2"]
        assert (user["consent_new"], user["consent_revoke"], user["consent_own"]) == (3, 1, 5)
        # 7 successes and 1 failure, 850 ms: 106.25 → 106
        assert (user["success_api_cnt"], user["fail_api_cnt"], user["rsp_total"], user["rsp_avg"]) == (7, 1, 850, 106)
        assert _slots(user, "BA01") == {"01": (4, 1, 500, 100), "02": (1, 0, 50, 50)}
        assert _slots(user, "BA02") == {"01": (2, 0, 300, 150), "02": (0, 0, 0, 0)}
        scheduled = totals["1"]
        assert (scheduled["success_api_cnt"], scheduled["rsp_total"], scheduled["consent_own"]) == (2, 2000, None)

    async def test_without_a_week_the_latest_one_and_another_week_on_request(self, portal: Portal) -> None:
        p = await _parties(portal)
        await bank_reports(portal, p)
        latest = (await _view(portal, org_code=p.bank["org_code"])).json()
        assert latest["inquiry_date"] == WEEK
        earlier = (await _view(portal, org_code=p.bank["org_code"], week="20261115")).json()
        assert [r["type"] for r in earlier["reports"]] == ["2"]
        assert {r["consent_own"] for r in earlier["rows"]} == {9}
        nothing = (await _view(portal, org_code=p.operator["org_code"])).json()
        assert (nothing["inquiry_date"], nothing["reports"], nothing["rows"]) == (None, [], [])

    async def test_a_week_that_is_not_a_sunday_is_40001_and_the_admin_key_is_needed(self, portal: Portal) -> None:
        p = await _parties(portal)
        response = await _view(portal, org_code=p.bank["org_code"], week="20261121")
        assert (response.status_code, response.json()["rsp_code"]) == (400, "40001")
        anonymous = await portal.http.get("/admin/statistics", params={"org_code": p.bank["org_code"]})
        assert anonymous.status_code == 401


@dataclass
class Institution:
    """Operators and providers behind https://org.test (every test org's domain): 지원-101 and 지원-104; on 지원-104
    the institution reports the week to the portal before it answers."""

    portal_http: httpx.AsyncClient | None = None
    pairs: dict[str, tuple[str, str]] = field(default_factory=dict)  # org_code → portal-call pair
    reporters: dict[str, tuple[dict[str, str], str, dict[str, Any]]] = field(default_factory=dict)
    asked: list[dict[str, str]] = field(default_factory=list)
    answer: str = "00000"
    down: bool = False

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("down", request=request)
        if request.url.path == CATALOGUE["지원-101"].path:
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            if (form["client_id"], form["client_secret"]) not in self.pairs.values():
                return httpx.Response(401, json={"error": "invalid_client"})
            return httpx.Response(
                200,
                json={
                    "token_type": "Bearer",
                    "access_token": f"t-{form['client_id']}",
                    "expires_in": "60",
                    "scope": "manage",
                },
            )
        if request.url.path == CATALOGUE["지원-104"].path:
            params = dict(request.url.params)
            client_id = self.pairs[params["org_code"]][0]
            assert request.headers["authorization"] == f"Bearer t-{client_id}"
            self.asked.append(params)
            if self.answer != "00000":
                return httpx.Response(400, json={"rsp_code": self.answer, "rsp_msg": "refused"})
            headers, api_id, body = self.reporters[params["org_code"]]
            assert self.portal_http is not None
            await _send(self.portal_http, headers, api_id, body)
            return httpx.Response(200, json={"rsp_code": "00000", "rsp_msg": "성공"})
        return httpx.Response(404, json={"rsp_code": "40401", "rsp_msg": "no such API"})


@dataclass
class Setup:
    portal: Portal
    institution: Institution
    parties: Parties


@pytest.fixture
async def setup(db_url: str, tmp_path: Path) -> AsyncIterator[Setup]:
    institution = Institution()
    clock = FakeClock()
    settings = portal_settings(db_url, tmp_path / "portal")
    async with httpx.AsyncClient(transport=httpx.MockTransport(institution.handle)) as outbound:
        app = create_app(settings, clock=clock, http_client=outbound)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
                portal = Portal(app=app, http=http, clock=clock, settings=settings)
                institution.portal_http = http
                p = await _parties(portal)
                for org in (p.operator, p.bank):
                    institution.pairs[org["org_code"]] = (org["portal_client_id"], org["portal_client_secret"])
                op = p.operator["org_code"]
                days = {day: entry(op, [], own=2) for day in DAYS}
                days["20261117"] = entry(
                    op, [api("BA01", slot("01", 5, 0, 500, 100), slot("02", 0, 0, 0, 0))], new=1, own=2
                )
                top = {"org_code": p.bank["org_code"], "mydata_org_code": op}
                institution.reporters[p.bank["org_code"]] = (
                    await portal.bearer(p.bank),
                    "지원-005",
                    report("2", p.service["client_id"], days, **top),
                )
                bank = p.bank["org_code"]
                operator_days = {day: entry(bank, [], own=2) for day in DAYS}
                institution.reporters[op] = (
                    await portal.bearer(p.operator),
                    "지원-004",
                    report("2", p.service["client_id"], operator_days, mydata_org_code=op),
                )
                yield Setup(portal, institution, p)


async def _request(s: Setup, org_code: str, inquiry_date: str = WEEK, **extra: str) -> httpx.Response:
    return await s.portal.http.post(
        "/admin/statistics/request",
        json={"org_code": org_code, "inquiry_date": inquiry_date, **extra},
        headers=ADMIN,
    )


class TestResendRequest:
    async def test_providers_are_issued_a_portal_call_pair_too(self, setup: Setup) -> None:
        assert setup.parties.bank["portal_client_id"]
        assert setup.parties.bank["portal_client_secret"]

    async def test_a_provider_sends_the_week_again_and_the_view_shows_it(self, setup: Setup) -> None:
        bank = setup.parties.bank["org_code"]
        response = await _request(setup, bank)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "org_code": bank,
            "inquiry_date": WEEK,
            "type": "0",
            "rsp_code": "00000",
            "error": None,
        }
        assert setup.institution.asked == [{"org_code": bank, "org_type": "03", "type": "0", "inquiry_date": WEEK}]
        view = (await _view(setup.portal, org_code=bank, week=WEEK)).json()
        (tuesday,) = [row for row in view["rows"] if row["stat_date"] == "20261117"]
        assert _slots(tuesday, "BA01")["01"] == (5, 0, 500, 100)
        database: Database = setup.portal.app.state.db
        async with database.transaction() as session:
            kinds = list((await session.execute(select(audit_log.c.kind, audit_log.c.event))).all())
        (event,) = [event for kind, event in kinds if kind == "statistics_requested"]
        assert (event["org_code"], event["rsp_code"]) == (bank, "00000")

    async def test_an_operator_is_asked_with_its_org_type(self, setup: Setup) -> None:
        operator = setup.parties.operator["org_code"]
        response = await _request(setup, operator, type="2")
        assert response.json()["rsp_code"] == "00000"
        assert setup.institution.asked[-1]["org_type"] == "01"
        assert setup.institution.asked[-1]["type"] == "2"
        view = (await _view(setup.portal, org_code=operator, week=WEEK)).json()
        assert [r["api_id"] for r in view["reports"]] == ["지원-004"]

    async def test_refusals_and_unreachable_institutions_are_reported(self, setup: Setup) -> None:
        bank = setup.parties.bank["org_code"]
        setup.institution.answer = "40001"
        refused = (await _request(setup, bank)).json()
        assert (refused["rsp_code"], refused["error"]) == (None, "40001")
        setup.institution.down = True
        down = (await _request(setup, bank)).json()
        assert down["error"] == "unavailable"

    @pytest.mark.parametrize(("inquiry_date", "extra"), [("20261121", {}), ("2026112", {}), (WEEK, {"type": "5"})])
    async def test_a_malformed_request_is_40001(self, setup: Setup, inquiry_date: str, extra: dict[str, str]) -> None:
        response = await _request(setup, setup.parties.bank["org_code"], inquiry_date, **extra)
        assert (response.status_code, response.json()["rsp_code"]) == (400, "40001")
        assert setup.institution.asked == []

    async def test_unknown_institutions_and_other_kinds_of_organisation(self, setup: Setup) -> None:
        unknown = await _request(setup, "A1AAAA9999")
        assert (unknown.status_code, unknown.json()["rsp_code"]) == (403, "40303")
        ca = await setup.portal.register("06", [], name="테스트인증")
        response = await _request(setup, ca["org_code"])
        assert (response.status_code, response.json()["rsp_code"]) == (400, "40001")
        assert setup.institution.asked == []
