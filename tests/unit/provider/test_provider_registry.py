"""The registry sync (지원-001/002/003) against the real portal, served on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from openmydata.kit.pki import CertificateAuthority
from openmydata.kit.server import RunningServer, start_server
from openmydata.portal.app import create_app as create_portal
from openmydata.portal.settings import PortalSettings
from openmydata.provider import repository
from openmydata.provider.app import create_app
from openmydata.provider.importer import import_customers
from openmydata.provider.settings import ProviderSettings

from .conftest import ALICE, Harness, alice

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


class TestRegistrySync:
    async def test_start_up_sync_and_resync_for_an_unknown_client(
        self, portal: RunningServer, db_url: str, trust_file: Path, test_ca: CertificateAuthority
    ) -> None:
        bank = await _admin(
            portal,
            "/admin/orgs",
            {
                "org_name": "테스트은행",
                "org_type": "01",
                "industries": ["bank"],
                "domain": "http://127.0.0.1:9",
                "org_regno": "1234567890",
                "auth_type": "03",
            },
        )
        operator = await _admin(
            portal,
            "/admin/orgs",
            {
                "org_name": "테스트마이데이터",
                "org_type": "03",
                "industries": [],
                "domain": "http://127.0.0.1:9",
                "org_regno": "2234567890",
            },
        )
        first = await _admin(
            portal,
            "/admin/services",
            {
                "org_code": operator["org_code"],
                "service_name": "첫 서비스",
                "redirect_uri": "https://example.test/cb",
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
            registry_resync_interval_s=0,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            db = app.state.provider.db
            async with db.transaction() as session:
                service = await repository.get_service(session, first["client_id"])
                orgs = await repository.list_orgs(session)
            assert service is not None
            assert service.org_code == operator["org_code"]
            assert service.client_secret_hash != first["client_secret"]
            assert (bank["org_code"], "bank") in {(org.org_code, org.industry) for org in orgs}

            await import_customers(db, [alice()])
            second = await _admin(
                portal,
                "/admin/services",
                {
                    "org_code": operator["org_code"],
                    "service_name": "둘째 서비스",
                    "redirect_uri": "https://example.test/cb2",
                },
            )
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
                harness = Harness(app=app, http=http, db=db, ca=test_ca)
                consent = harness.consent(snd=bank["org_code"], rcv=operator["org_code"])
                form = harness.grant_form(
                    ALICE,
                    consent,
                    nonce="registry-nonce",
                    client_id=second["client_id"],
                    client_secret=second["client_secret"],
                    operator=operator["org_code"],
                )
                form["org_code"] = bank["org_code"]
                form["tx_id"] = form["tx_id"].replace("BANK000001", bank["org_code"])
                response = await harness.post_token(form)
                assert response.status_code == 200, response.text
                assert response.json()["scope"] == "bank.list bank.deposit"
                unknown = await harness.post_token({**form, "client_id": "neverregistered", "consent_nonce": "x"})
                assert (unknown.status_code, unknown.json()["error"]) == (401, "invalid_client")
