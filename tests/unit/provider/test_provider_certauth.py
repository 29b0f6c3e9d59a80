"""통합인증-002 with the default "certauth" verifier: the real portal and certauth on loopback, a person
enrolled at certauth who approves the sign request, the provider asking certauth's sign_verification."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from openmydata.certauth.app import create_app as create_certauth
from openmydata.certauth.settings import CertAuthSettings
from openmydata.kit.server import RunningServer, start_server
from openmydata.portal.app import create_app as create_portal
from openmydata.portal.settings import PortalSettings
from openmydata.provider.app import create_app
from openmydata.provider.importer import import_customers
from openmydata.provider.settings import ProviderSettings
from openmydata.standard.consent import encode_signed_content
from openmydata.standard.formats import new_tx_id

from .conftest import ALICE, Harness, alice

ADMIN_KEY = "admin-key-for-tests"
PIN = "123456"


async def _post(
    url: str,
    path: str,
    *,
    json: dict[str, Any] | None = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, trust_env=False) as http:
        response = await http.post(path, json=json, data=data, headers=headers or {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def ecosystem(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    portal = await start_server(
        "portal",
        create_portal(
            PortalSettings(
                insecure_plain_http=True,
                database_url=f"sqlite+aiosqlite:///{tmp_path / 'portal.db'}",
                data_dir=tmp_path / "portal",
                admin_key=ADMIN_KEY,
                token_secret="p",
                credentials_key="k",
            )
        ),
    )
    servers: list[RunningServer] = [portal]
    try:
        admin = {"x-admin-key": ADMIN_KEY}
        ca = await _post(
            portal.url,
            "/admin/orgs",
            headers=admin,
            json={
                "org_name": "테스트인증",
                "org_type": "06",
                "industries": [],
                "domain": "http://127.0.0.1:9",
                "org_regno": "3234567890",
            },
        )
        bank = await _post(
            portal.url,
            "/admin/orgs",
            headers=admin,
            json={
                "org_name": "테스트은행",
                "org_type": "01",
                "industries": ["bank"],
                "domain": "http://127.0.0.1:9",
                "org_regno": "1234567890",
            },
        )
        operator = await _post(
            portal.url,
            "/admin/orgs",
            headers=admin,
            json={
                "org_name": "테스트마이데이터",
                "org_type": "03",
                "industries": [],
                "domain": "http://127.0.0.1:9",
                "org_regno": "2234567890",
            },
        )
        service = await _post(
            portal.url,
            "/admin/services",
            headers=admin,
            json={
                "org_code": operator["org_code"],
                "service_name": "서비스",
                "redirect_uri": "https://example.test/cb",
            },
        )
        certauth = await start_server(
            "certauth",
            create_certauth(
                CertAuthSettings(
                    insecure_plain_http=True,
                    org_code=ca["org_code"],
                    database_url=f"sqlite+aiosqlite:///{tmp_path / 'ca.db'}",
                    data_dir=tmp_path / "ca",
                    admin_key=ADMIN_KEY,
                    token_secret="c",
                    portal_url=portal.url,
                    support_client_id=ca["support_client_id"],
                    support_client_secret=ca["support_client_secret"],
                    pin_kdf_cost=4,
                )
            ),
        )
        servers.append(certauth)
        await _post(
            certauth.url,
            "/admin/persons",
            headers=admin,
            json={
                "persons": [
                    {"ci": ALICE, "name": "김앨리스", "birth_date": "19900101", "phone": "+821012345678", "pin": PIN}
                ]
            },
        )
        yield {"portal": portal, "certauth": certauth, "ca": ca, "bank": bank, "operator": operator, "service": service}
    finally:
        for server in reversed(servers):
            await server.stop()


async def _signed_consent(eco: dict[str, Any], content: str, tx_id: str) -> dict[str, str]:
    """What the operator does: CA token, sign request, the person approves, sign result."""
    certauth = eco["certauth"].url
    token = (
        await _post(
            certauth,
            "/oauth/2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": eco["operator"]["ca_client_id"],
                "client_secret": eco["operator"]["ca_client_secret"],
                "scope": "ca",
            },
        )
    )["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    request = await _post(
        certauth,
        "/v1/ca/sign_request",
        headers=bearer,
        json={
            "sign_tx_id": "SIGNTX0001",
            "user_ci": ALICE,
            "real_name": "김앨리스",
            "phone_num": "+821012345678",
            "request_title": "전송요구",
            "device_code": "PC",
            "device_browser": "WB",
            "consent_type": "0",
            "consent_cnt": 1,
            "consent_list": [
                {"consent_len": len(content.encode()), "consent_title": "은행", "consent": content, "tx_id": tx_id}
            ],
        },
    )
    cert_tx_id = request["cert_tx_id"]
    await _post(certauth, f"/v1/ca/approvals/{cert_tx_id}", json={"pin": PIN, "decision": "approve"})
    result = await _post(
        certauth, "/v1/ca/sign_result", headers=bearer, json={"cert_tx_id": cert_tx_id, "sign_tx_id": "SIGNTX0001"}
    )
    return {"cert_tx_id": cert_tx_id, "signed_consent": result["signed_consent_list"][0]["signed_consent"]}


class TestCertauthVerifier:
    async def test_grant_verified_by_certauth(self, ecosystem: dict[str, Any], db_url: str, test_ca: Any) -> None:
        eco = ecosystem
        bank, operator, service = eco["bank"], eco["operator"], eco["service"]
        settings = ProviderSettings(
            insecure_plain_http=True,
            org_code=bank["org_code"],
            industries=["bank"],
            database_url=db_url,
            portal_url=eco["portal"].url,
            certauth_url=eco["certauth"].url,
            ca_code=eco["ca"]["org_code"],
            support_client_id=bank["support_client_id"],
            support_client_secret=bank["support_client_secret"],
            ca_client_id=bank["ca_client_id"],
            ca_client_secret=bank["ca_client_secret"],
            token_secret="t",
            cursor_secret="c",
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await import_customers(app.state.provider.db, [alice()])
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
                harness = Harness(app=app, http=http, db=app.state.provider.db, ca=test_ca)
                consent = harness.consent(snd=bank["org_code"], rcv=operator["org_code"])
                nonce = "certauth-nonce-1"
                tx_id = new_tx_id(operator["org_code"], bank["org_code"], eco["ca"]["org_code"])
                signed = await _signed_consent(eco, encode_signed_content(consent, nonce).decode(), tx_id)
                form = {
                    "tx_id": tx_id,
                    "org_code": bank["org_code"],
                    "grant_type": "password",
                    "client_id": service["client_id"],
                    "client_secret": service["client_secret"],
                    "ca_code": eco["ca"]["org_code"],
                    "username": ALICE,
                    "request_type": "1",
                    "password_len": str(len(signed["signed_consent"])),
                    "password": signed["signed_consent"],
                    "auth_type": "1",
                    "consent_type": "0",
                    "consent_nonce": nonce,
                    "cert_tx_id": signed["cert_tx_id"],
                }
                other_tx = new_tx_id(operator["org_code"], bank["org_code"], eco["ca"]["org_code"])
                mismatched = await harness.post_token({**form, "tx_id": other_tx})
                assert (mismatched.status_code, mismatched.json()["error"]) == (400, "invalid_grant")
                response = await harness.post_token(form)
                assert response.status_code == 200, response.text
                body = response.json()
                assert body["tx_id"] == tx_id
                accounts = await harness.call("은행-001", {"org_code": bank["org_code"]}, token=body["access_token"])
                assert accounts.status_code == 200
