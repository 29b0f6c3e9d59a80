from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from openmydata.kit.clock import to_dtime
from openmydata.kit.db import Database
from openmydata.portal.models import StatisticsReport
from openmydata.standard.client import ApiCallError, StandardClient
from openmydata.standard.formats import Party

from .conftest import Portal


async def register_service(portal: Portal, org_code: str, name: str = "자산관리") -> dict[str, Any]:
    return await portal.admin(
        "/admin/services",
        {
            "org_code": org_code,
            "service_name": name,
            "redirect_uri": "https://op.test/callback",
            "app_scheme": "op://cb",
        },
    )


def client(portal: Portal, org_code: str) -> StandardClient:
    return StandardClient(portal.http, "http://portal.test", org_code=org_code, party=Party.PROVIDER, peer="portal")


class TestSupportToken:
    async def test_issues_manage_token(self, portal: Portal) -> None:
        org = await portal.register("01", ["bank"])
        response = await portal.token(org["support_client_id"], org["support_client_secret"])
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert body["scope"] == "manage"
        assert 0 < int(body["expires_in"]) <= 365 * 86400
        assert response.headers["cache-control"] == "no-store"

    async def test_through_the_catalogue_client(self, portal: Portal) -> None:
        org = await portal.register("01", ["bank"])
        result = await client(portal, org["org_code"]).call(
            "지원-001",
            {
                "grant_type": "client_credentials",
                "client_id": org["support_client_id"],
                "client_secret": org["support_client_secret"],
                "scope": "manage",
            },
        )
        assert result.model.scope == "manage"

    async def test_wrong_secret_is_refused(self, portal: Portal) -> None:
        org = await portal.register("01", ["bank"])
        response = await portal.token(org["support_client_id"], "wrong" + org["support_client_secret"][5:])
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        # The CA pair is not a support credential.
        response = await portal.token(org["ca_client_id"], org["ca_client_secret"])
        assert response.json()["error"] == "invalid_client"

    async def test_wrong_scope_is_refused(self, portal: Portal) -> None:
        org = await portal.register("01", ["bank"])
        response = await portal.token(org["support_client_id"], org["support_client_secret"], scope="ca")
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_scope"

    async def test_other_grants_are_refused(self, portal: Portal) -> None:
        response = await portal.http.post("/mgmts/oauth/2.0/token", data={"grant_type": "password"})
        assert response.json()["error"] == "unsupported_grant_type"
        response = await portal.http.post("/mgmts/oauth/2.0/token", data={})
        assert response.json()["error"] == "invalid_request"

    async def test_bearer_is_checked(self, portal: Portal) -> None:
        org = await portal.register("01", ["bank"])
        for headers in ({}, {"Authorization": "Bearer forged.token.value"}, {"Authorization": "Basic abc"}):
            response = await portal.http.get("/v1/mgmts/orgs", headers=headers)
            assert response.status_code == 401
            assert response.json()["rsp_code"] == "40101"
        headers = await portal.bearer(org)
        portal.clock.advance(seconds=portal.settings.token_lifetime_s + 1)
        response = await portal.http.get("/v1/mgmts/orgs", headers=headers)
        assert response.json()["rsp_code"] == "40101"


class TestOrgList:
    async def test_one_entry_per_org_and_industry(self, portal: Portal) -> None:
        bank = await portal.register("01", ["bank", "card"], name="오픈금융")
        operator = await portal.register("03", [], name="마이데이터")
        result = await client(portal, bank["org_code"]).call("지원-002", {}, token=await _token(portal, bank))
        entries = {(entry.org_code, entry.industry): entry for entry in result.model.org_list}
        assert set(entries) == {(bank["org_code"], "bank"), (bank["org_code"], "card"), (operator["org_code"], None)}
        assert all(entry.op_type == "I" for entry in entries.values())
        assert entries[(operator["org_code"], None)].is_rcv_org is True
        assert entries[(bank["org_code"], "bank")].domain == "https://org.test"
        assert result.raw["org_cnt"] == "3"
        assert result.raw["search_timestamp"] == to_dtime(portal.clock.now)

    async def test_search_timestamp_returns_only_changes(self, portal: Portal) -> None:
        bank = await portal.register("01", ["bank", "card"])
        headers = await portal.bearer(bank)

        async def since(stamp: str) -> dict[str, Any]:
            # A change in the same second as the timestamp counts as newer (sent again), so step past it.
            portal.clock.advance(seconds=1)
            response = await portal.http.get("/v1/mgmts/orgs", params={"search_timestamp": stamp}, headers=headers)
            assert response.status_code == 200
            body: dict[str, Any] = response.json()
            return body

        stamp = (await since("0"))["search_timestamp"]
        unchanged = await since(stamp)
        assert unchanged == {"rsp_code": "00001", "rsp_msg": unchanged["rsp_msg"]}

        telecom = await portal.register("01", ["telecom"])
        body = await since(stamp)
        assert body["rsp_code"] == "00000"
        assert [(e["op_type"], e["org_code"], e["industry"]) for e in body["org_list"]] == [
            ("I", telecom["org_code"], "telecom")
        ]
        stamp = body["search_timestamp"]

        await portal.admin(f"/admin/orgs/{bank['org_code']}", {"domain": "https://bank2.test", "industries": ["bank"]})
        body = await since(stamp)
        changes = {(e["industry"], e["op_type"]) for e in body["org_list"]}
        assert changes == {("bank", "M"), ("card", "D")}
        modified = next(e for e in body["org_list"] if e["op_type"] == "M")
        assert modified["domain"] == "https://bank2.test"
        deleted = next(e for e in body["org_list"] if e["op_type"] == "D")
        assert set(deleted) == {"op_type", "org_code", "industry"}
        stamp = body["search_timestamp"]

        await portal.admin(f"/admin/orgs/{telecom['org_code']}/deregister", {})
        body = await since(stamp)
        assert [(e["op_type"], e["org_code"]) for e in body["org_list"]] == [("D", telecom["org_code"])]
        full = await since("0")
        assert telecom["org_code"] not in {e["org_code"] for e in full["org_list"]}

    async def test_same_second_change_is_sent_again(self, portal: Portal) -> None:
        bank = await portal.register("01", ["bank"])
        headers = await portal.bearer(bank)
        stamp = (await portal.http.get("/v1/mgmts/orgs", headers=headers)).json()["search_timestamp"]
        body = (await portal.http.get("/v1/mgmts/orgs", params={"search_timestamp": stamp}, headers=headers)).json()
        assert [e["org_code"] for e in body["org_list"]] == [bank["org_code"]]

    async def test_deregistered_org_loses_its_tokens(self, portal: Portal) -> None:
        org = await portal.register("01", ["bank"])
        headers = await portal.bearer(org)
        await portal.admin(f"/admin/orgs/{org['org_code']}/deregister", {})
        response = await portal.http.get("/v1/mgmts/orgs", headers=headers)
        assert response.json()["rsp_code"] == "40101"
        assert (await portal.token(org["support_client_id"], org["support_client_secret"])).status_code == 401

    async def test_bad_search_timestamp_is_40001(self, portal: Portal) -> None:
        org = await portal.register("01", ["bank"])
        response = await portal.http.get(
            "/v1/mgmts/orgs", params={"search_timestamp": "yesterday"}, headers=await portal.bearer(org)
        )
        assert response.status_code == 400
        assert response.json()["rsp_code"] == "40001"


class TestServiceList:
    async def test_operator_service_is_visible_to_providers(self, portal: Portal) -> None:
        operator = await portal.register("03", [])
        service = await register_service(portal, operator["org_code"])
        bank = await portal.register("01", ["bank"])
        result = await client(portal, bank["org_code"]).call("지원-003", {}, token=await _token(portal, bank))
        assert [org.org_code for org in result.model.org_list] == [operator["org_code"]]
        entry = result.model.org_list[0].service_list[0]
        assert entry.op_type == "I"
        assert entry.client_id == service["client_id"]
        assert entry.client_secret == service["client_secret"]
        assert entry.redirect_uri == "https://op.test/callback"
        assert entry.app_scheme == "op://cb"

    async def test_deltas(self, portal: Portal) -> None:
        operator = await portal.register("03", [])
        first = await register_service(portal, operator["org_code"], "하나")
        bank = await portal.register("01", ["bank"])
        headers = await portal.bearer(bank)
        portal.clock.advance(seconds=1)
        stamp = (await portal.http.get("/v1/mgmts/services", headers=headers)).json()["search_timestamp"]
        portal.clock.advance(seconds=1)
        response = await portal.http.get("/v1/mgmts/services", params={"search_timestamp": stamp}, headers=headers)
        assert response.json()["rsp_code"] == "00001"

        second = await register_service(portal, operator["org_code"], "둘")
        await portal.admin(f"/admin/services/{first['client_id']}/deregister", {})
        portal.clock.advance(seconds=1)
        body = (await portal.http.get("/v1/mgmts/services", params={"search_timestamp": stamp}, headers=headers)).json()
        [org] = body["org_list"]
        ops = {entry["client_id"]: entry for entry in org["service_list"]}
        assert ops[second["client_id"]]["op_type"] == "I"
        assert ops[second["client_id"]]["client_secret"] == second["client_secret"]
        assert ops[first["client_id"]] == {"op_type": "D", "client_id": first["client_id"]}


class TestOrgsForCa:
    async def test_ca_learns_every_org_ca_credential(self, portal: Portal) -> None:
        ca = await portal.register("06", [], name="테스트인증")
        bank = await portal.register("01", ["bank"])
        operator = await portal.register("03", [])
        response = await portal.http.get("/v1/mgmts/orgs_for_ca", headers=await portal.bearer(ca))
        body = response.json()
        assert body["rsp_code"] == "00000"
        listed = {entry["org_code"]: entry for entry in body["org_list"]}
        assert set(listed) == {bank["org_code"], operator["org_code"]}
        assert listed[bank["org_code"]]["ca_client_id"] == bank["ca_client_id"]
        assert listed[bank["org_code"]]["ca_client_secret"] == bank["ca_client_secret"]
        assert body["org_cnt"] == "2"

    async def test_only_a_ca_may_ask(self, portal: Portal) -> None:
        bank = await portal.register("01", ["bank"])
        response = await portal.http.get("/v1/mgmts/orgs_for_ca", headers=await portal.bearer(bank))
        assert response.status_code == 401
        assert response.json()["rsp_code"] == "40104"


def weekly(client_id: str, counterpart: str, **top: Any) -> dict[str, Any]:
    api = {
        "api_type": "BA01",
        "tm_slot_cnt": "2",
        "tm_slot_list": [
            {
                "tm_slot": "01",
                "rsp_avg": "120",
                "rsp_total": "2400",
                "rsp_stdev": "15",
                "success_api_cnt": "20",
                "fail_api_cnt": "0",
            },
            {
                "tm_slot": "02",
                "rsp_avg": "90",
                "rsp_total": "900",
                "rsp_stdev": "10",
                "success_api_cnt": "9",
                "fail_api_cnt": "1",
            },
        ],
    }
    days = [f"202611{day:02d}" for day in range(15, 22)]
    return {
        "type": "2",
        "client_id": client_id,
        "inquiry_date": "20261122",
        "stat_date_cnt": "7",
        "stat_date_list": [
            {
                "stat_date": day,
                "org_cnt": "1",
                "org_list": [
                    {
                        "org_code": counterpart,
                        "consent_new": "3",
                        "consent_revoke": "1",
                        "consent_own": "40",
                        "api_type_cnt": "1",
                        "api_type_list": [api],
                    }
                ],
            }
            for day in days
        ],
        **top,
    }


class TestStatistics:
    async def test_operator_report_is_stored_and_resend_replaces(self, portal: Portal) -> None:
        operator = await portal.register("03", [])
        service = await register_service(portal, operator["org_code"])
        bank = await portal.register("01", ["bank"])
        headers = await portal.bearer(operator)
        report = weekly(service["client_id"], bank["org_code"], mydata_org_code=operator["org_code"])
        for _ in range(2):
            response = await portal.http.post("/v1/mgmts/statistics/mydata", json=report, headers=headers)
            assert response.status_code == 200, response.text
            assert response.json()["rsp_code"] == "00000"
        database: Database = portal.app.state.db
        async with database.transaction() as session:
            rows = (await session.scalars(select(StatisticsReport))).all()
        assert len(rows) == 1
        assert rows[0].api_id == "지원-004"
        assert rows[0].payload["stat_date_list"][0]["org_list"][0]["consent_own"] == "40"

    async def test_provider_report(self, portal: Portal) -> None:
        operator = await portal.register("03", [])
        service = await register_service(portal, operator["org_code"])
        bank = await portal.register("01", ["bank"])
        report = weekly(
            service["client_id"], operator["org_code"], org_code=bank["org_code"], mydata_org_code=operator["org_code"]
        )
        result = await client(portal, bank["org_code"]).call("지원-005", report, token=await _token(portal, bank))
        assert result.rsp_code == "00000"

    @pytest.mark.parametrize(
        "change",
        [
            {"inquiry_date": "20261121"},  # not a Sunday
            {"stat_date_cnt": "6"},
            {"type": "1"},  # consent_own in a scheduled report
        ],
    )
    async def test_malformed_report_is_40001(self, portal: Portal, change: dict[str, str]) -> None:
        operator = await portal.register("03", [])
        service = await register_service(portal, operator["org_code"])
        report = weekly(service["client_id"], "A1AAAA0000", mydata_org_code=operator["org_code"]) | change
        response = await portal.http.post(
            "/v1/mgmts/statistics/mydata", json=report, headers=await portal.bearer(operator)
        )
        assert response.status_code == 400
        assert response.json()["rsp_code"] == "40001"

    async def test_wrong_sender_is_refused(self, portal: Portal) -> None:
        operator = await portal.register("03", [])
        service = await register_service(portal, operator["org_code"])
        bank = await portal.register("01", ["bank"])
        report = weekly(service["client_id"], bank["org_code"], mydata_org_code=operator["org_code"])
        with pytest.raises(ApiCallError) as raised:
            await client(portal, bank["org_code"]).call("지원-004", report, token=await _token(portal, bank))
        assert raised.value.code == "40104"


async def _token(portal: Portal, credentials: dict[str, Any]) -> str:
    return (await portal.bearer(credentials))["Authorization"].removeprefix("Bearer ")


class TestTranId:
    async def test_every_response_carries_one(self, portal: Portal) -> None:
        response = await portal.http.get("/v1/mgmts/orgs")
        assert response.headers["x-api-tran-id"][10] == "P"
        response = await portal.http.get("/v1/mgmts/orgs", headers={"x-api-tran-id": "A1AAAA0000S00000000000001"})
        assert response.headers["x-api-tran-id"] == "A1AAAA0000S00000000000001"
