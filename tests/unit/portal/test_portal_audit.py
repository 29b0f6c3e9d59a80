"""The portal appends one audit entry per registry change, support token and statistics report, in the same
transaction as the change; the chain verifies and an altered entry is found."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from openmydata.kit.audit import AuditChain, AuditEntry, Verification
from openmydata.kit.db import Database
from openmydata.portal.models import audit_log

from .conftest import ADMIN_KEY, Portal
from .test_portal_support import register_service, weekly


async def _entries(portal: Portal) -> list[AuditEntry]:
    database: Database = portal.app.state.db
    chain: AuditChain = portal.app.state.audit
    async with database.transaction() as session:
        return list(reversed(await chain.entries(session)))


async def _verify(portal: Portal) -> Verification:
    database: Database = portal.app.state.db
    chain: AuditChain = portal.app.state.audit
    async with database.engine.connect() as connection:
        return await connection.run_sync(chain.verify)


async def _flow(portal: Portal) -> dict[str, Any]:
    operator = await portal.register("03", [], name="운영기관")
    bank = await portal.register("01", ["bank"], name="오픈은행")
    service = await register_service(portal, operator["org_code"])
    await portal.admin(f"/admin/orgs/{bank['org_code']}", {"industries": ["bank", "card"]})
    await portal.admin(f"/admin/services/{service['client_id']}", {"service_name": "새 이름"})
    headers = await portal.bearer(operator)
    report = weekly(service["client_id"], bank["org_code"], mydata_org_code=operator["org_code"])
    response = await portal.http.post("/v1/mgmts/statistics/mydata", json=report, headers=headers)
    assert response.status_code == 200, response.text
    await portal.admin(f"/admin/orgs/{operator['org_code']}/deregister", {})
    return {"operator": operator, "bank": bank, "service": service}


class TestPortalAudit:
    async def test_each_change_appends_one_entry_and_the_chain_verifies(self, portal: Portal) -> None:
        made = await _flow(portal)
        operator, bank, client_id = made["operator"]["org_code"], made["bank"]["org_code"], made["service"]["client_id"]
        entries = await _entries(portal)
        assert [(entry.kind, entry.event["org_code"]) for entry in entries] == [
            ("org_registered", operator),
            ("org_registered", bank),
            ("service_registered", operator),
            ("org_modified", bank),
            ("service_modified", operator),
            ("support_token_issued", operator),
            ("statistics_received", operator),
            ("service_deregistered", operator),
            ("org_deregistered", operator),
        ]
        assert [entry.seq for entry in entries] == list(range(1, 10))
        by_kind = {entry.kind: entry.event for entry in entries}
        assert by_kind["org_modified"]["industries"] == ["bank", "card"]
        assert by_kind["service_modified"] == {
            "org_code": operator,
            "client_id": client_id,
            "fields": ["service_name"],
            "tran_id": by_kind["service_modified"]["tran_id"],
        }
        statistics = by_kind["statistics_received"]
        assert (statistics["api_id"], statistics["inquiry_date"], statistics["week"]) == (
            "지원-004",
            "20261122",
            ["20261115", "20261121"],
        )
        assert by_kind["org_deregistered"]["services_deregistered"] == [client_id]
        assert all(entry.event["tran_id"] for entry in entries)
        text = repr([entry.event for entry in entries])
        for secret in (
            "운영기관",
            "오픈은행",
            made["operator"]["support_client_secret"],
            made["service"]["client_secret"],
        ):
            assert secret not in text
        result = await _verify(portal)
        assert (result.ok, result.entries) == (True, 9)

    async def test_a_refused_request_appends_nothing(self, portal: Portal) -> None:
        operator = await portal.register("03", [])
        response = await portal.token(operator["support_client_id"], "wrong")
        assert response.status_code == 401
        refused = await portal.http.post(
            "/admin/services",
            json={"org_code": "M1NONE0000", "service_name": "앱", "redirect_uri": "https://op.test/cb"},
            headers={"x-admin-key": ADMIN_KEY},
        )
        assert refused.status_code != 200
        assert [entry.kind for entry in await _entries(portal)] == ["org_registered"]
        assert (await _verify(portal)).ok

    async def test_an_altered_entry_fails_verification(self, portal: Portal) -> None:
        await _flow(portal)
        database: Database = portal.app.state.db
        async with database.transaction() as session:
            await session.execute(
                update(audit_log).where(audit_log.c.seq == 4).values(event={"org_code": "A1FAKE0000"})
            )
        result = await _verify(portal)
        assert (result.ok, result.seq) == (False, 4)
        assert "altered" in (result.problem or "")
