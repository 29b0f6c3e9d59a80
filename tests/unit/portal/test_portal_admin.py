from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from sqlalchemy import select

from openmydata.kit.db import Database, compare_models
from openmydata.portal.app import MIGRATIONS, create_app
from openmydata.portal.models import Base, Credential, Org

from .conftest import ADMIN_KEY, Portal, portal_settings


class TestOrgRegistration:
    async def test_provider_gets_org_code_and_two_credential_pairs(self, portal: Portal) -> None:
        result = await portal.register("01", ["bank", "card"], name="오픈은행")
        assert re.fullmatch(r"A1[0-9A-Z]{4}0000", result["org_code"])
        for field in ("support_client_id", "support_client_secret", "ca_client_id", "ca_client_secret"):
            assert re.fullmatch(r"[0-9A-Za-z]{1,50}", result[field])
        assert result["support_client_id"] != result["ca_client_id"]

        database: Database = portal.app.state.db
        async with database.transaction() as session:
            org = await session.get(Org, result["org_code"])
            assert org is not None
            assert org.industries == ["bank", "card"]
            credentials = (await session.scalars(select(Credential).where(Credential.org_code == org.org_code))).all()
        by_purpose = {credential.purpose: credential for credential in credentials}
        # The support secret is only checked: its hash is kept. The CA secret is handed out again: encrypted.
        assert result["support_client_secret"] not in by_purpose["support"].secret_hash
        assert by_purpose["support"].secret_encrypted is None
        assert by_purpose["ca"].secret_encrypted
        assert result["ca_client_secret"] not in by_purpose["ca"].secret_encrypted

    async def test_prefix_follows_org_type(self, portal: Portal) -> None:
        assert (await portal.register("03", []))["org_code"].startswith("M1")
        assert (await portal.register("06", []))["org_code"].startswith("Z1")
        assert (await portal.register("01", ["telecom"]))["org_code"].startswith("F1")

    async def test_admin_key_is_required(self, portal: Portal) -> None:
        body = {"org_name": "x", "org_type": "03", "domain": "https://x.test", "org_regno": "1234567890"}
        response = await portal.http.post("/admin/orgs", json=body)
        assert response.status_code == 401
        assert response.json()["rsp_code"] == "40101"
        response = await portal.http.post("/admin/orgs", json=body, headers={"x-admin-key": "wrong"})
        assert response.status_code == 401

    async def test_bad_registration_is_40001(self, portal: Portal) -> None:
        headers = {"x-admin-key": ADMIN_KEY}
        base = {"org_name": "x", "domain": "https://x.test", "org_regno": "1234567890"}
        for body in (
            {**base, "org_type": "01", "industries": ["spaceflight"]},
            {**base, "org_type": "01", "industries": []},
            {**base, "org_type": "03", "industries": ["bank"]},
            {**base, "org_type": "01", "industries": ["bank"], "org_regno": "12-34"},
            {**base, "org_type": "01", "industries": ["bank"], "relay_org_code": "Y1ZZZZ0000"},
        ):
            response = await portal.http.post("/admin/orgs", json=body, headers=headers)
            assert response.status_code == 400, body
            assert response.json()["rsp_code"] == "40001"

    async def test_service_only_for_operators(self, portal: Portal) -> None:
        provider = await portal.register("01", ["bank"])
        response = await portal.http.post(
            "/admin/services",
            json={"org_code": provider["org_code"], "service_name": "x", "redirect_uri": "https://x.test/cb"},
            headers={"x-admin-key": ADMIN_KEY},
        )
        assert response.status_code == 400
        assert response.json()["rsp_code"] == "40001"
        response = await portal.http.post(
            "/admin/services",
            json={"org_code": "M1NONE0000", "service_name": "x", "redirect_uri": "https://x.test/cb"},
            headers={"x-admin-key": ADMIN_KEY},
        )
        assert response.json()["rsp_code"] == "40303"


class TestAdminDisabled:
    async def test_empty_admin_key_disables_admin(self, db_url: str, tmp_path: Path) -> None:
        app = create_app(portal_settings(db_url, tmp_path, admin_key=""))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
                response = await http.post("/admin/orgs", json={}, headers={"x-admin-key": ""})
        assert response.status_code == 403
        assert "OPENMYDATA_PORTAL_ADMIN_KEY" in response.json()["rsp_msg"]


class TestMigrations:
    async def test_migrations_match_models(self, db_url: str) -> None:
        database = Database(db_url)
        try:
            await database.upgrade(MIGRATIONS)
            async with database.engine.connect() as connection:
                differences = await connection.run_sync(compare_models, Base.metadata)
        finally:
            await database.dispose()
        assert differences == []


class TestRestart:
    async def test_tokens_and_distributed_secrets_survive_a_restart(self, db_url: str, tmp_path: Path) -> None:
        settings = portal_settings(db_url, tmp_path / "portal")

        async def run(body: Callable[[httpx.AsyncClient], Awaitable[None]]) -> None:
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
                    await body(http)

        state: dict[str, str] = {}

        async def first(http: httpx.AsyncClient) -> None:
            headers = {"x-admin-key": ADMIN_KEY}
            org = {"org_name": "운영", "org_type": "03", "domain": "https://op.test", "org_regno": "1234567890"}
            operator = (await http.post("/admin/orgs", json=org, headers=headers)).json()
            service = {"org_code": operator["org_code"], "service_name": "앱", "redirect_uri": "https://op.test/cb"}
            state["secret"] = (await http.post("/admin/services", json=service, headers=headers)).json()[
                "client_secret"
            ]
            form = {
                "grant_type": "client_credentials",
                "client_id": operator["support_client_id"],
                "client_secret": operator["support_client_secret"],
                "scope": "manage",
            }
            state["token"] = (await http.post("/mgmts/oauth/2.0/token", data=form)).json()["access_token"]

        async def second(http: httpx.AsyncClient) -> None:
            response = await http.get("/v1/mgmts/services", headers={"Authorization": f"Bearer {state['token']}"})
            assert response.status_code == 200
            assert response.json()["org_list"][0]["service_list"][0]["client_secret"] == state["secret"]

        await run(first)
        assert (tmp_path / "portal" / "token.key").stat().st_mode & 0o077 == 0
        await run(second)
